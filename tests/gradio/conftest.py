"""Fixtures for the Gradio face: apps launched on loopback, backed by the local server."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("gradio", reason="the Gradio face needs the 'gradio' extra")

import gradio as gr
import httpx
from gradio_client import Client

from milady_integrations import AsyncMiladyClient
from milady_integrations.local import LocalServer


@dataclass
class Launched:
    """A running app: its URL and the Blocks behind it."""

    demo: gr.Blocks
    url: str

    def client(self, download_dir: Path) -> Client:
        # The client's default settings, apart from staying offline and quiet.
        return Client(self.url, analytics_enabled=False, verbose=False, download_files=str(download_dir))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_page(process: subprocess.Popen[bytes], url: str) -> httpx.Response:
    """The first answer of an app started as a process; bounded by the test timeout, ends early if it dies."""
    while process.poll() is None:
        try:
            return httpx.get(url)
        except httpx.TransportError:
            time.sleep(0.2)
    output = process.stdout.read().decode() if process.stdout else ""
    pytest.fail(f"{process.args!r} exited with {process.returncode}:\n{output}")


def launch(demo: gr.Blocks) -> Launched:
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    return Launched(demo=demo, url=str(demo.local_url))


@pytest.fixture
def launch_app() -> Iterator[Callable[[gr.Blocks], Launched]]:
    """Launch any Blocks on loopback for one test; closed afterwards."""
    running: list[gr.Blocks] = []

    def start(demo: gr.Blocks) -> Launched:
        running.append(demo)
        return launch(demo)

    yield start
    for demo in running:
        demo.close(verbose=False)


def async_client_for(server: LocalServer) -> AsyncMiladyClient:
    return AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url)


@pytest.fixture
async def async_client(server: LocalServer) -> AsyncIterator[AsyncMiladyClient]:
    """An async client on the session's local server, in the test's own event loop."""
    async with async_client_for(server) as client:
        yield client


@pytest.fixture(scope="module")
def demo_app(server: LocalServer) -> Iterator[Launched]:
    """The standalone demo, pointed at the session's local server, launched once per module."""
    from gradio_app import create_demo

    demo = create_demo(async_client_for(server))
    launched = launch(demo)
    yield launched
    demo.close(verbose=False)


@pytest.fixture
def gradio_client(demo_app: Launched, tmp_path: Path) -> Client:
    return demo_app.client(tmp_path)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium for a browser test module (they import tests/gradio/_browser.py, which may skip them)."""
    from ._browser import chromium

    with chromium() as launched:
        yield launched
