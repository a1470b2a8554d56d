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
        self.records: list[dict[str, Any]] = []
        if path.exists():
            for raw in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue  # a line cut short by a killed process: that line simply runs again
                if isinstance(record, dict):
                    self.records.append(record)
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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            needs_newline = self.path.exists() and self.path.stat().st_size > 0 and not self._ends_with_newline()
            self._handle = self.path.open("a", encoding="utf-8")
            if needs_newline:
                self._handle.write("\n")
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        self.records.append(record)

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, 2)
            return handle.read(1) == b"\n"

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
