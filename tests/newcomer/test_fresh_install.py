"""A fresh virtual environment, `pip install <the checkout>` with no extra, as the README says:
`milady generate "a fox"` works with no key, and a missing extra is one line, not a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from ._proc import clean_env, no_traceback

REPO = Path(__file__).resolve().parents[2]
# What a checkout holds that an install does not read (and that must not be written to).
NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")


@pytest.mark.slow
def test_the_base_install_generates_offline_with_no_key(tmp_path: Path) -> None:
    # A copy, so the build leaves nothing in the checkout.
    source = tmp_path / "checkout"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    env = clean_env()
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]

    milady = bin_dir / "milady"
    out = tmp_path / "out"
    done = subprocess.run(
        [str(milady), "generate", "a fox", "-o", str(out)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "drawn locally" in done.stderr and no_traceback(done.stderr)
    assert [Path(line).parent for line in done.stdout.splitlines()] == [out]
    assert len(list(out.glob("a-fox-*.webp"))) == 1

    # No gradio in the base install: the demo says how to get it, in one line.
    demo = subprocess.run([str(milady), "demo"], env=env, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 1
    assert demo.stderr.count("\n") == 1 and "pip install 'milady-integrations[gradio]'" in demo.stderr, demo.stderr
    assert no_traceback(demo.stderr)
    # Nor the MCP SDK.
    mcp = subprocess.run([str(milady), "mcp"], env=env, capture_output=True, text=True, timeout=120)
    assert mcp.returncode == 1 and "pip install 'milady-integrations[mcp]'" in mcp.stderr, mcp.stderr
    assert no_traceback(mcp.stderr)
