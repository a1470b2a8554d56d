"""`python benchmarks/run.py --quick` runs end to end and writes every section of the table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_benchmark_run_writes_the_whole_table(tmp_path):
    table, raw = tmp_path / "results.md", tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--output", str(table), "--json", str(raw)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = table.read_text()
    for heading in (
        "## Summary",
        "## 1. Client overhead",
        "## 2. Fan-out",
        "## 3. ComfyUI conversion",
        "## 4. Import cost",
        "## 5. The local server",
        "Machine: ",
    ):
        assert heading in text
    results = json.loads(raw.read_text())
    assert results["client"]["sync_ratio"] > 0 and results["fanout"]["async"]["ratio_16"] > 0
    assert results["imports"]["comfyui_nodes_imports_forbidden"] == []
