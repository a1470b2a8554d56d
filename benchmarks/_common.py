"""Helpers shared by the benchmarks: timing, medians, a local server in a subprocess."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Remote:
    base_url: str
    api_key: str

    def set_faults(self, **faults: object) -> None:
        httpx.post(f"{self.base_url}/_local/faults", json={"reset": True, **faults}).raise_for_status()


@contextmanager
def server_process(*, cheap: bool = False, plain: bool = False) -> Iterator[Remote]:
    """A server in a child process (its own GIL), stopped on exit: the LocalServer, or ``plain``
    canned answers from the standard library's HTTP server (see ``_server.py``)."""
    flags = ["--cheap"] * cheap + ["--plain"] * plain
    command = [sys.executable, str(HERE / "_server.py"), *flags]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        base_url, api_key = child.stdout.readline().split()
        yield Remote(base_url, api_key)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)
