"""Fixtures for the local server's own tests: raw HTTP with httpx, never the library's client."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from milady_integrations.local import LocalServer, ServerConfig

GENERATE = "/api/v1/generate-image"
BALANCE = "/api/v1/credits/balance"

Generate = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def module_server() -> Iterator[LocalServer]:
    with LocalServer(ServerConfig()) as running:
        yield running


@pytest.fixture
def srv(module_server: LocalServer) -> Iterator[LocalServer]:
    """The module's server with faults, counters and rate-limit windows cleared."""
    module_server.reset()
    yield module_server
    module_server.reset()


@pytest.fixture
def key() -> str:
    """A key of this test only: its own credits and its own rate-limit bucket."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def http(srv: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def generate(http: httpx.Client, key: str) -> Generate:
    """POST a generate body (JSON, or raw bytes via ``raw=``) with this test's key."""

    def call(
        body: Any = None, *, headers: dict[str, str] | None = None, raw: bytes | None = None, auth: bool = True
    ) -> httpx.Response:
        sent = {"X-API-Key": key} if auth else {}
        sent.update(headers or {})
        if raw is not None:
            return http.post(GENERATE, content=raw, headers=sent)
        return http.post(GENERATE, json=body, headers=sent)

    return call


class Helpers:
    """Small decoders the tests share (a fixture: test modules cannot import conftest)."""

    GENERATE = GENERATE
    BALANCE = BALANCE

    @staticmethod
    def decode(data: bytes) -> Image.Image:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image

    @staticmethod
    def data_url_bytes(data_url: str) -> tuple[str, bytes]:
        head, _, payload = data_url.partition(",")
        assert head.startswith("data:") and head.endswith(";base64"), head
        return head[5:-7], base64.b64decode(payload)

    @staticmethod
    def png_data_url(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> str:
        out = io.BytesIO()
        Image.new("RGB", size, colour).save(out, "PNG")
        return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def h() -> type[Helpers]:
    return Helpers
