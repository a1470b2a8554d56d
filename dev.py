#!/usr/bin/env python3
"""One entry point for a fresh checkout: `python3 dev.py demo`, `python3 dev.py test` or `python3 dev.py setup`.

It makes `.venv` beside this file and installs into it only what the command needs (again
only when pyproject.toml changed):
  demo   the project with the gradio extra, then runs `milady demo` (extra arguments go to it)
  test   the project with the dev extras plus torch for the ComfyUI tests, then runs pytest
         (extra arguments go to pytest)
  setup  what `test` installs, without running anything
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# Only the ComfyUI tests need torch (ComfyUI brings its own); the demo never does.
TEST_TORCH = ("torch==2.13.0",)
#: What each command installs on top of pip itself.
EXTRAS = {"demo": "gradio", "test": "dev"}


def _fingerprint(level: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(level.encode())
    if level == "test":
        digest.update(" ".join(TEST_TORCH).encode())
    return digest.hexdigest()


def _stamp(level: str) -> Path:
    return VENV / f".installed-{level}"


def _installed(level: str) -> bool:
    # The test install holds everything the demo needs.
    levels = ("demo", "test") if level == "demo" else ("test",)
    return any(_stamp(name).exists() and _stamp(name).read_text() == _fingerprint(name) for name in levels)


def ensure_environment(level: str) -> None:
    if sys.version_info < (3, 10):  # noqa: UP036 - this script may be started by an old python3
        sys.exit(f"Python 3.10 or newer is needed, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if _installed(level):
        return
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run([*pip, "-q", "-U", "pip"], check=True)
    if level == "test":
        print(
            f"installing {' '.join(TEST_TORCH)} for the ComfyUI tests. From the package index this is, "
            "on Linux, a CUDA build of several GB; for the CPU build (about 200 MB) install it first with\n"
            f"  {PYTHON} -m pip install {' '.join(TEST_TORCH)} --index-url https://download.pytorch.org/whl/cpu",
            flush=True,
        )
        # pip's own lines show what is downloaded and how big it is.
        subprocess.run([*pip, "--progress-bar", "off", *TEST_TORCH], check=True)
    print(f"installing milady-integrations[{EXTRAS[level]}] into {VENV} (first run only)", flush=True)
    subprocess.run([*pip, "-q", "-e", f"{ROOT}[{EXTRAS[level]}]"], check=True)
    _stamp(level).write_text(_fingerprint(level))


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    ensure_environment("demo" if argv[0] == "demo" else "test")
    if argv[0] == "setup":
        print(f"ready: run {BIN / 'milady'} (or activate the venv: . {BIN / 'activate'})")
        return 0
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
    if argv[0] == "demo":
        command = [str(BIN / "milady"), "demo", *argv[1:]]
    else:
        command = [str(PYTHON), "-m", "pytest", *argv[1:]]
    child = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        return child.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached the child too: let it end on its own terms, quietly.
        try:
            child.wait(timeout=15)
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            child.kill()
        return 130


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # during the install
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
