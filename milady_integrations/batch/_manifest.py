"""The manifest: one record per finished line, appended after its files are written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

MANIFEST_NAME = "manifest.jsonl"


class Manifest:
    """``manifest.jsonl``: one record per finished line, appended and flushed as each finishes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        # A line cut short by a killed process does not parse: that line simply runs again.
        self.records = [r for r in map(_parse, text.splitlines()) if isinstance(r, dict)]
        self._cut = bool(text) and not text.endswith("\n")  # the next record starts on a line of its own
        self._handle: TextIO | None = None

    @classmethod
    def open(cls, out_dir: Path) -> Manifest:
        """The manifest of an output folder (made if missing)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        return cls(out_dir / MANIFEST_NAME)

    def done_keys(self) -> set[tuple[str, str]]:
        """(id, key) of every line that finished without error."""
        return {(r.get("id", ""), r.get("prompt_hash", "")) for r in self.records if r.get("status") == "done"}

    def append(self, record: dict[str, Any]) -> None:
        if self._handle is None:
            self._handle = self.path.open("a", encoding="utf-8")
            self._handle.write("\n" * self._cut)
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        self.records.append(record)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _parse(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
