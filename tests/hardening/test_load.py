"""The local server and the async client under a bounded loopback load: nothing lost, all accounted for.

CI runs 200 requests at concurrency 32; `python scripts/fuzz_long.py` runs 1,000 and prints
requests/s and latency percentiles (figures, not asserts: speed lives in benchmarks/).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from milady_integrations.local import LocalServer, ServerConfig

from ._load import run_load


@pytest.fixture
def load_server() -> Iterator[LocalServer]:
    """Its own server, so its counters hold only this load; small files (low WebP quality)."""
    with LocalServer(ServerConfig(rate_limit=10**9, initial_credits=1e9, webp_quality=10)) as running:
        yield running


async def test_every_request_under_load_is_answered_and_accounted_for(load_server: LocalServer) -> None:
    figures = await run_load(load_server, requests=200, concurrency=32)
    print(figures.line())
    assert figures.errors == []
    assert figures.answered == 200
    assert len(figures.request_ids) == 200  # every answer is its own request
    assert figures.server_generate_requests == 200  # no retry, nothing lost, nothing extra
    assert figures.server_images_billed == figures.images_returned == 200
    assert load_server.stats.credits_billed == pytest.approx(200 * 0.02)
