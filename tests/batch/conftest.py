"""Fixtures for batch tests: JSONL files, and the CLI pointed at a local server."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from milady_integrations.cli import main
from milady_integrations.local import LocalServer


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[list[Any]], Path]:
    """Write requests (dicts or prompt strings) to a JSONL file; ``"=text"`` is written raw."""

    def write(rows: list[Any], name: str = "prompts.jsonl") -> Path:
        path = tmp_path / name
        lines = [row[1:] if isinstance(row, str) and row.startswith("=") else json.dumps(row) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


class CliRun:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliRun]:
    """``run_cli(server, "batch", ...)``: the real command, against ``server``."""

    def run(server: LocalServer, *args: str) -> CliRun:
        monkeypatch.setenv("MILADY_API_KEY", server.api_key)
        out, err = io.StringIO(), io.StringIO()
        code = main([*args, "--base-url", server.base_url], out=out, err=err)
        return CliRun(code, out.getvalue(), err.getvalue())

    return run


def manifest_records(out_dir: Path) -> list[dict[str, Any]]:
    path = out_dir / "manifest.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def image_files(out_dir: Path) -> list[Path]:
    return sorted(p for p in out_dir.iterdir() if p.name != "manifest.jsonl")
