#!/usr/bin/env python3
"""One entry point for a fresh checkout: `python3 dev.py demo` or `python3 dev.py test`.

It makes `.venv` beside this file, installs the project with every extra (again only
when pyproject.toml changed), then runs the demo or the whole test suite in it.
Extra arguments go to the demo (`milady demo ...`) or to pytest.
`python3 dev.py setup` only installs.
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
STAMP = VENV / ".installed"
# The ComfyUI tests need torch; this CPU build is what ComfyUI itself would bring.
TORCH = "torch==2.13.0"


def _install_fingerprint() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(TORCH.encode())
    return digest.hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 10):  # noqa: UP036 - this script may be started by an old python3
        sys.exit(f"Python 3.10 or newer is needed, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    fingerprint = _install_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print("installing milady-integrations with all extras (first run only)", flush=True)
    subprocess.run([*pip, "-U", "pip"], check=True)
    subprocess.run([*pip, TORCH], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(fingerprint)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    ensure_environment()
    if argv[0] == "setup":
        return 0
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
    if argv[0] == "demo":
        command = [str(BIN / "milady"), "demo", *argv[1:]]
    else:
        command = [str(PYTHON), "-m", "pytest", *argv[1:]]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
