"""Run the installed ``milady`` command as a user would: a separate process, a clean environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

MILADY = Path(sys.executable).parent / ("milady.exe" if os.name == "nt" else "milady")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any MILADY_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILADY_")}
    env.update(extra)
    return env


def milady(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 110
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MILADY), *args],
        env=dict(env) if env is not None else clean_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(*args: str, env: Mapping[str, str], cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(MILADY), *args],
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A test run started in the background inherits an ignored SIGINT; a terminal's Ctrl-C is not ignored.
        preexec_fn=_default_sigint if os.name == "posix" else None,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(condition: Callable[[], bool], what: str, limit: float = 60) -> None:
    """Poll until ``condition`` holds; the limit only keeps a broken run from hanging."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def interrupt(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    """Ctrl-C as a terminal sends it (SIGINT), then the exit code and output."""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def no_traceback(text: str) -> bool:
    return "Traceback" not in text and 'File "' not in text
