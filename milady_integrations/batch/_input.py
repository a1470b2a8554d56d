"""Reading a batch file and checking every line before anything is sent."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidRequestError
from ..request import FIELDS, GenerateImageRequest, check_request, field_problems

#: The keys a line may carry; ``source_image`` is a file path (relative to the JSONL's folder).
LINE_FIELDS = (*FIELDS, "id")
_SOURCE_ALLOWED = "a path to an image file, relative to the JSONL file"
#: How ``milady batch`` lets a newer model through.
_UNLISTED = "add --allow-unlisted-model"
_ID_PATTERN = re.compile(r"[^A-Za-z0-9._-]+")


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
    """Some lines are invalid; ``problems`` lists every one. Nothing was sent."""

    def __init__(self, problems: list[BadLine], source: str) -> None:
        count = len(problems)
        super().__init__(
            f"{source}: {count} invalid line{'s' * (count != 1)}, nothing was sent:\n"
            + "\n".join(f"  {p}" for p in problems),
            field=problems[0].field if problems else None,
            value=problems[0].value if problems else None,
            allowed=problems[0].allowed if problems else None,
        )
        self.problems = problems


@dataclass(frozen=True)
class BatchLine:
    """A checked input line. ``key`` identifies its content (prompt, options, source bytes)."""

    number: int
    id: str
    key: str
    options: Mapping[str, Any]
    source_path: Path | None = None

    def request(self, *, allow_unlisted_model: bool = False) -> GenerateImageRequest:
        """The request (source images are read again here, so big batches hold no data URLs)."""
        return check_request(**self.options, source_image=self.source_path, allow_unlisted_model=allow_unlisted_model)

    @property
    def stem(self) -> str:
        """File names start with this: the id and a short content key, never reused by another line."""
        return f"{self.id}-{self.key[:8]}"


def _content_key(options: Mapping[str, Any], source_url: str | None) -> str:
    canonical = dict(options)
    canonical["source_image"] = hashlib.sha256(source_url.encode()).hexdigest() if source_url else None
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _safe_id(value: object) -> str | None:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    cleaned = _ID_PATTERN.sub("-", str(value)).strip("-.")
    return cleaned[:80] or None


def _check_line(
    number: int, raw: str, base: Path, allow_unlisted_model: bool
) -> tuple[BatchLine | None, list[BadLine]]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return None, [BadLine(number, "line", raw[:60], "a JSON object or string", f"is not JSON ({exc})")]
    if isinstance(data, str):
        data = {"prompt": data}
    if not isinstance(data, dict):
        return None, [BadLine(number, "line", raw[:60], "a JSON object or string", f"is a JSON {type(data).__name__}")]
    problems = [
        BadLine(number, key, data[key], LINE_FIELDS, f"unknown field {key!r}: allowed are {', '.join(LINE_FIELDS)}")
        for key in data
        if key not in LINE_FIELDS
    ]
    options = {name: data.get(name, spec.default) for name, spec in FIELDS.items() if name != "source_image"}
    source_path: Path | None = None
    if data.get("source_image") is not None:
        value = data["source_image"]
        source_path = (base / value) if isinstance(value, str) else None
        if source_path is None:
            problems.append(BadLine(number, "source_image", value, _SOURCE_ALLOWED, "source_image must be a path"))
    # Every field at once, so one line reports all of its problems.
    checked = {**options, "source_image": source_path}
    for problem in field_problems(checked, allow_unlisted_model=allow_unlisted_model, downscale_source=False):
        problems.append(
            BadLine(number, problem.field, problem.value, problem.allowed, problem.text(unlisted=_UNLISTED))
        )
    source_url = None
    if source_path is not None and not any(p.field == "source_image" for p in problems):
        source_url = check_request("x", source_image=source_path).source_image
    given_id = data.get("id")
    line_id = _safe_id(given_id) if given_id is not None else f"line-{number:05d}"
    if line_id is None:
        problems.append(
            BadLine(number, "id", given_id, "a non-empty string or number", "id must be a string or number")
        )
    if problems:
        return None, problems
    assert line_id is not None
    return BatchLine(number, line_id, _content_key(options, source_url), options, source_path), []


def read_batch(path: str | Path, *, allow_unlisted_model: bool = False) -> list[BatchLine]:
    """Check every line of a JSONL file; raise InvalidBatchError listing all bad lines.

    Blank lines are skipped; line numbers are the file's (1-based). Ids must be unique.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(
            f"cannot read {source}: {exc}", field="file", value=str(source), allowed="a UTF-8 JSONL file"
        ) from None
    lines: list[BatchLine] = []
    problems: list[BadLine] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        line, found = _check_line(number, raw, source.parent, allow_unlisted_model)
        problems.extend(found)
        if line is None:
            continue
        if line.id in seen:
            problems.append(
                BadLine(number, "id", line.id, "unique ids", f"id {line.id!r} is also used on line {seen[line.id]}")
            )
            continue
        seen[line.id] = number
        lines.append(line)
    if problems:
        raise InvalidBatchError(problems, source.name)
    if not lines:
        raise InvalidRequestError(
            f"{source.name} has no requests", field="file", value=str(source), allowed="one JSON request per line"
        )
    return lines
