"""`milady mcp` as a subprocess, reached with the SDK's own client over stdio and streamable HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from milady_integrations.local import LocalServer

MILADY = str(Path(sys.executable).parent / "milady")
#: The operator's key: a distinctive string, searched for in everything the client and the logs show.
OPERATOR_KEY = "mk-operator-SECRET-7f3a9c2e51"
MODES = ["legacy", "auto"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(server: LocalServer, key: str | None = OPERATOR_KEY) -> dict[str, str]:
    env = {"MILADY_BASE_URL": server.base_url}
    if key:
        env["MILADY_API_KEY"] = key
    return env


class Logs:
    """Where a subprocess's output goes, to be searched afterwards."""

    def __init__(self, folder: Path) -> None:
        self.out = folder / "stdout.txt"
        self.err = folder / "stderr.txt"

    def text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.out, self.err) if p.exists())


@pytest.fixture
def logs(tmp_path: Path) -> Logs:
    return Logs(tmp_path)


@asynccontextmanager
async def stdio_mcp(env: dict[str, str], logs: Logs, *args: str, mode: str = "auto") -> AsyncIterator[Client]:
    """`milady mcp` over stdio, as a desktop host launches it (stderr kept for the leak check)."""
    params = StdioServerParameters(command=MILADY, args=["mcp", *args], env=env)
    with logs.err.open("a") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:  # type: ignore[arg-type]
            yield client


class HttpServer:
    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.process = process

    @asynccontextmanager
    async def connect(
        self, key: str | None = None, mode: str = "auto", headers: dict[str, str] | None = None
    ) -> AsyncIterator[Client]:
        headers = {**({"X-API-Key": key} if key else {}), **(headers or {})}
        http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0))
        async with http, Client(streamable_http_client(self.url, http_client=http), mode=mode) as client:  # type: ignore[arg-type]
            yield client


@pytest.fixture
def http_mcp(logs: Logs) -> Iterator[Callable[..., HttpServer]]:
    """Start `milady mcp --http` on a free loopback port; stopped (SIGTERM) after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], *args: str) -> HttpServer:
        port = free_port()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("MILADY_")} | env
        process = subprocess.Popen(
            [MILADY, "mcp", "--http", "--port", str(port), *args],
            env=full_env,
            stdout=logs.out.open("ab"),
            stderr=logs.err.open("ab"),
        )
        started.append(process)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return HttpServer(port, process)
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"milady mcp --http did not start:\n{logs.text()}") from None
                time.sleep(0.1)

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def dump(value: Any) -> str:
    """Everything a client received, as text (for searching keys in it)."""
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json(by_alias=True))
    return repr(value)


def established_to(port: int) -> int:
    """Client-side TCP connections to ``port`` on this machine that are still open (Linux /proc)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":
                count += 1
    return count
