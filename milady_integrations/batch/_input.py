"""Reading a batch file and checking every line before anything is sent."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import InvalidRequestError
from ..request import FIELDS, GenerateImageRequest, check_request, problems_and_source
from ..wording import plural

#: The keys a line may carry; ``source_image`` is a file path (relative to the JSONL's folder).
LINE_FIELDS = (*FIELDS, "id")
_A_LINE = "a JSON object or string"
_A_PATH = "a path to an image file, relative to the JSONL file"


@dataclass(frozen=True)
class BadLine:
    """One problem in the input: where, which field, what value, what is allowed."""

    line: int
    field: str
    value: object
    allowed: object
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class InvalidBatchError(InvalidRequestError):
    """Some lines are invalid; ``problems`` lists every one (``BadLine``). Nothing was sent."""


@dataclass(frozen=True)
class BatchLine:
    """A checked input line. ``key`` identifies its content (prompt, options, source bytes)."""

    number: int
    id: str
    key: str
    options: Mapping[str, Any]
    source_path: Path | None = None

    def request(self, *, allow_unlisted_model: bool = False) -> GenerateImageRequest:
        """The request (the source is read again here, so a big batch holds no data URLs)."""
        return check_request(**self.options, source_image=self.source_path, allow_unlisted_model=allow_unlisted_model)

    @property
    def stem(self) -> str:
        """File names start with this: the id and a short content key, never reused by another line."""
        return f"{self.id}-{self.key[:8]}"


def _safe_id(value: object) -> str | None:
    usable = isinstance(value, (str, int)) and not isinstance(value, bool)
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", str(value)).strip("-.")[:80] or None) if usable else None


def _check_line(number: int, raw: str, base: Path, allow_unlisted: bool) -> tuple[BatchLine | None, list[BadLine]]:
    bad = partial(BadLine, number)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return None, [bad("line", raw[:60], _A_LINE, f"is not JSON ({exc})")]
    data = {"prompt": data} if isinstance(data, str) else data
    if not isinstance(data, dict):
        return None, [bad("line", raw[:60], _A_LINE, f"is a JSON {type(data).__name__}")]
    unknown = {key: value for key, value in data.items() if key not in LINE_FIELDS}
    known = f"allowed are {', '.join(LINE_FIELDS)}"
    problems = [bad(key, value, LINE_FIELDS, f"unknown field {key!r}: {known}") for key, value in unknown.items()]
    options = {name: data.get(name, spec.default) for name, spec in FIELDS.items() if name != "source_image"}
    source = data.get("source_image")
    source_path = base / source if isinstance(source, str) else None
    if source is not None and source_path is None:
        problems.append(bad("source_image", source, _A_PATH, "source_image must be a path"))
    # Every field at once, so one line reports all of its problems.
    checked = {**options, "source_image": source_path}
    found, source_url = problems_and_source(checked, allow_unlisted_model=allow_unlisted, downscale_source=False)
    unlisted = "add --allow-unlisted-model"
    problems += [bad(p.field, p.value, p.allowed, p.text(unlisted=unlisted)) for p in found]
    given = data.get("id")
    if (line_id := _safe_id(given if given is not None else f"line-{number:05d}")) is None:
        problems.append(bad("id", given, "a non-empty string or number", "id must be a string or number"))
    if problems or line_id is None:
        return None, problems
    # The content key: the options and the source's bytes (as the data URL the request would carry).
    content = {**options, "source_image": source_url and hashlib.sha256(source_url.encode()).hexdigest()}
    key = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return BatchLine(number, line_id, key, options, source_path), []


def read_batch(path: str | Path, *, allow_unlisted_model: bool = False) -> list[BatchLine]:
    """Check every line of a JSONL file (blank lines skipped, ids unique); raise InvalidBatchError listing all."""
    source = Path(path)
    about: dict[str, Any] = {"field": "file", "value": str(source)}
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"cannot read {source}: {exc}", allowed="a UTF-8 JSONL file", **about) from None
    lines: list[BatchLine] = []
    problems: list[BadLine] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):  # the file's own (1-based) line numbers
        line, found = _check_line(number, raw, source.parent, allow_unlisted_model) if raw.strip() else (None, [])
        problems += found
        if line is not None and line.id in seen:
            used = f"id {line.id!r} is also used on line {seen[line.id]}"
            problems.append(BadLine(number, "id", line.id, "unique ids", used))
        elif line is not None:
            seen[line.id] = number
            lines.append(line)
    if problems:
        listed, first = "".join(f"\n  {p}" for p in problems), problems[0]
        raise InvalidBatchError(
            f"{source.name}: {plural(len(problems), 'invalid line')}, nothing was sent:{listed}",
            field=first.field, value=first.value, allowed=first.allowed, problems=problems,
        )
    if not lines:
        raise InvalidRequestError(f"{source.name} has no requests", allowed="one JSON request per line", **about)
    return lines
