"""Fixtures for hardening tests: what the server billed, open sockets, and each face ready to run.

The ComfyUI stand-ins are the node pack's own (tests/comfyui/conftest.py), loaded
from that file rather than written again.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import socket
import sys
import time
import types
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from milady_integrations import AsyncMiladyClient, MiladyClient
from milady_integrations.local import LocalServer

TESTS = Path(__file__).resolve().parents[1]

#: Retries the faces' clients make in these tests (one keeps the 5xx cases quick).
FACE_RETRIES = 1
#: The faces' read timeouts here: short, so slow faults end in seconds, yet long enough that a busy
#: machine still draws three pictures within it.
FACE_TIMEOUT = 2.0


def _load_comfyui_conftest() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("_hardening_comfy_standins", TESTS / "comfyui" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


comfy_conftest = _load_comfyui_conftest()
ComfyStandIns = comfy_conftest.ComfyStandIns
default_node_inputs = comfy_conftest.default_inputs


# ---------------------------------------------------------------- what the server saw


@dataclass(frozen=True)
class Seen:
    """What the server received and billed between two snapshots."""

    generate: int
    total: int
    validated: int
    billed: int
    credits: float
    images: int


class Ledger:
    """Snapshot the server's counters now; ``seen()`` gives what happened since."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.start = server.stats

    def seen(self) -> Seen:
        now = self.server.stats
        return Seen(
            generate=now.generate_requests - self.start.generate_requests,
            total=now.total_requests - self.start.total_requests,
            validated=now.generate_validated - self.start.generate_validated,
            billed=now.images_billed - self.start.images_billed,
            credits=round(now.credits_billed - self.start.credits_billed, 10),
            images=now.requests.get("image", 0) - self.start.requests.get("image", 0),
        )


@pytest.fixture
def ledger(server: LocalServer) -> Ledger:
    return Ledger(server)


# ---------------------------------------------------------------- leaks


def socket_fds() -> int:
    """Sockets this process holds open (client and in-process server sides)."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def settle_sockets(expected: int, patience: float = 5.0) -> int:
    """Wait until the socket count is back to ``expected`` (the server closes its side a moment
    after the client); returns the count seen last. Not a speed check: it only waits for cleanup."""
    deadline = time.monotonic() + patience
    count = socket_fds()
    while count > expected and time.monotonic() < deadline:
        time.sleep(0.02)
        count = socket_fds()
    return count


def busy_connections(client: MiladyClient | AsyncMiladyClient) -> int:
    """Pooled connections still carrying a request or response (a leaked stream keeps one busy)."""
    pool = client._http._transport._pool  # type: ignore[union-attr]
    return sum(1 for c in pool.connections if not c.is_idle() and not c.is_closed())


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- clients


@pytest.fixture
async def clients(server: LocalServer) -> AsyncIterator[Callable[..., Any]]:
    """``clients(kind, **options)`` -> a client on the session server; closed after the test."""
    made: list[MiladyClient | AsyncMiladyClient] = []

    def build(kind: str, **options: Any) -> MiladyClient | AsyncMiladyClient:
        options.setdefault("api_key", server.api_key)
        options.setdefault("base_url", server.base_url)
        made.append((MiladyClient if kind == "sync" else AsyncMiladyClient)(**options))
        return made[-1]

    yield build
    for client in made:
        result = client.close()
        if inspect.isawaitable(result):
            await result


async def call(value: Any) -> Any:
    """Await ``value`` when the client was async."""
    return await value if inspect.isawaitable(value) else value


# ---------------------------------------------------------------- ComfyUI node


@pytest.fixture
def comfy(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The node pack's ComfyUI stand-ins in sys.modules for this test."""
    stand_ins = ComfyStandIns()
    for name, module in stand_ins.modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return stand_ins


@pytest.fixture
def node(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, server: LocalServer, comfy: Any) -> Any:
    """The node as an artist runs it: key and URL from the environment, no config file.

    Its client gets short timeouts and a small download cap (options a user could set
    on the client), so the slow faults end in seconds.
    """
    from comfyui_nodes import MiladyGenerateImage

    config = tmp_path / "milady_config.json"
    config.write_text(
        json.dumps(
            {
                "max_retries": FACE_RETRIES,
                "timeout": FACE_TIMEOUT,
                "download_timeout": FACE_TIMEOUT,
                "max_download_bytes": 5_000_000,
                "recover_for": 1.0,
            }
        )
    )
    monkeypatch.setenv("MILADY_CONFIG", str(config))
    monkeypatch.setenv("MILADY_API_KEY", server.api_key)
    monkeypatch.setenv("MILADY_BASE_URL", server.base_url)
    return MiladyGenerateImage()


async def run_node(node: Any, **changes: Any) -> Any:
    return await node.generate(**default_node_inputs(**changes))


# ---------------------------------------------------------------- LangChain tool


@pytest.fixture
async def tool(server: LocalServer) -> AsyncIterator[Any]:
    """The LangChain tool on the session server, with short timeouts and a small download cap."""
    from langchain_tool import MiladyImageGenerationTool

    made = MiladyImageGenerationTool(
        api_key=server.api_key,
        base_url=server.base_url,
        timeout=FACE_TIMEOUT,
        max_retries=FACE_RETRIES,
        client_kwargs={"download_timeout": FACE_TIMEOUT, "max_download_bytes": 5_000_000, "recover_for": 1.0},
    )
    yield made
    await made.aclose()


def tool_call(args: dict[str, Any], call_id: str = "call_1") -> dict[str, Any]:
    return {"type": "tool_call", "id": call_id, "name": "generate_image", "args": args}


# ---------------------------------------------------------------- Gradio block


@dataclass
class BlockHandler:
    """The block's Generate function and validator, called as Gradio calls them."""

    fn: Callable[..., Any]
    validator: Callable[..., Any]

    FIELDS = ("prompt", "model", "aspect_ratio", "style_preset", "num_images", "source_image")

    def args(self, **values: Any) -> list[Any]:
        merged = {
            "prompt": "a lighthouse",
            "model": "google/gemini-2.5-flash-image",
            "aspect_ratio": "1:1",
            "style_preset": "none",
            "num_images": 1,
            "source_image": None,
            **values,
        }
        return [merged[field] for field in self.FIELDS]

    def invalid(self, **values: Any) -> dict[str, str]:
        checks = self.validator(*self.args(**values))
        return {f: c["message"] for f, c in zip(self.FIELDS, checks, strict=True) if not c["is_valid"]}

    async def run(self, **values: Any) -> Any:
        return await self.fn(*self.args(**values), progress=lambda *a, **k: None)


def face_client(server: LocalServer) -> AsyncMiladyClient:
    """A client set up as every face is here: FACE_RETRIES retries, FACE_TIMEOUT timeouts, a 5 MB download cap, and
    1 s of looking in the gallery (as the faces' own clients do)."""
    return AsyncMiladyClient(
        api_key=server.api_key,
        base_url=server.base_url,
        max_retries=FACE_RETRIES,
        timeout=httpx.Timeout(FACE_TIMEOUT, connect=2.0),
        download_timeout=httpx.Timeout(FACE_TIMEOUT, connect=2.0),
        max_download_bytes=5_000_000,
        recover_for=1.0,
    )


@pytest.fixture
async def block(server: LocalServer) -> AsyncIterator[BlockHandler]:
    """A milady_image_block on the session server (short timeouts, small download cap)."""
    gr = pytest.importorskip("gradio", reason="the Gradio face needs the 'gradio' extra")
    from gradio_app import milady_image_block

    client = face_client(server)
    with gr.Blocks() as demo:
        made = milady_image_block(client)
    fn = next(f for f in demo.fns.values() if f.api_name == made.api_name)
    yield BlockHandler(fn=fn.fn, validator=fn.validator)  # type: ignore[arg-type]
    await client.aclose()


def eventually(check: Callable[[], bool], patience: float = 5.0) -> bool:
    """Poll ``check`` until true (work the server finishes after the client left); not a speed check."""
    deadline = time.monotonic() + patience
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
