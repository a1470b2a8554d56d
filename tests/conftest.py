"""Shared fixtures: a real local server on loopback, and the sync and async clients as twins."""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# Tests choose their endpoint explicitly; a developer's real key must never be used.
os.environ.pop("MILADY_API_KEY", None)
os.environ.pop("MILADY_BASE_URL", None)

from milady_integrations import AsyncMiladyClient, MiladyClient
from milady_integrations.local import LocalServer, ServerConfig


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    """One server for the session, with a rate limit no test reaches by accident."""
    with LocalServer(ServerConfig(rate_limit=1_000_000)) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "server" in request.fixturenames:
        request.getfixturevalue("server").faults.clear()


class Twin:
    """Calls a sync or an async client the same way: ``await twin.method(...)``."""

    def __init__(self, inner: MiladyClient | AsyncMiladyClient) -> None:
        self.inner = inner
        self.is_async = isinstance(inner, AsyncMiladyClient)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            value = attr(*args, **kwargs)
            return await value if inspect.isawaitable(value) else value

        return call

    def with_options(self, **changes: Any) -> Twin:
        return Twin(self.inner.with_options(**changes))

    async def read(self, image: Any) -> bytes:
        return await self.read_image(image)  # type: ignore[no-any-return]


@pytest.fixture(params=["sync", "async"])
async def twin(request: pytest.FixtureRequest, server: LocalServer) -> AsyncIterator[Twin]:
    """The same test against MiladyClient and AsyncMiladyClient."""
    cls = MiladyClient if request.param == "sync" else AsyncMiladyClient
    client = cls(api_key=server.api_key, base_url=server.base_url)
    yield Twin(client)
    result = client.close()
    if inspect.isawaitable(result):
        await result


@pytest.fixture
async def make_twin() -> AsyncIterator[Any]:
    """Build a Twin of either kind with any client options; closed after the test."""
    made: list[MiladyClient | AsyncMiladyClient] = []

    def build(kind: str, **options: Any) -> Twin:
        made.append((MiladyClient if kind == "sync" else AsyncMiladyClient)(**options))
        return Twin(made[-1])

    yield build
    for client in made:
        result = client.close()
        if inspect.isawaitable(result):
            await result


@pytest.fixture(params=["sync", "async"])
def kind_sync_async(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---------------------------------------------------------------- no silent skips in CI

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI every test must run: a skip there means a missing install step, so the run fails."""
    if os.environ.get("CI") and _skipped and exitstatus == 0:
        print(f"\nCI: {len(_skipped)} tests were skipped and must run here:", *_skipped, sep="\n  ")
        session.exitstatus = 1
