"""Retries over real loopback HTTP: the local server's own counters prove what was sent again.

Every decision and wait is asserted without a socket in ``test_flows.py``; here each kind of
failure runs once per client (sync and async) to prove the requests the server really saw:
what may have been charged went out once, what was refunded or never arrived went out again.
The local server's forced 500 is the refunded "No images were generated" body; its HTML and
empty 500 pages stand in for a 500 that keeps the charge (the catch-all's JSON 500 is covered
by the flow tests).
"""

from __future__ import annotations

import socket

import httpx
import pytest

from milady_integrations import (
    AuthenticationError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidRequestError,
    MiladyConnectionError,
    MiladyTimeoutError,
    OutcomeUnknownError,
    RateLimitError,
    ServiceUnavailableError,
)
from milady_integrations.local import LocalServer


def generate_count(server: LocalServer) -> int:
    return server.stats.generate_requests


async def test_the_refunded_500_is_retried_and_then_succeeds(twin, server: LocalServer) -> None:
    server.faults.force_status(500, count=1)
    before = generate_count(server)
    result = await twin.generate_image("a fox")
    assert result.returned == 1
    assert generate_count(server) == before + 2


async def test_the_refunded_500_is_sent_exactly_max_retries_more_times(twin, server: LocalServer) -> None:
    server.faults.force_status(500, count=5)
    before = generate_count(server)
    with pytest.raises(GenerationFailedError) as caught:
        await twin.with_options(max_retries=1).generate_image("a fox")
    assert "nothing was charged" in str(caught.value) and not caught.value.may_have_run
    assert generate_count(server) == before + 2


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, "html"), (500, "empty"), (502, "html"), (502, "json"), (504, "html"), (504, "empty"), (503, "html")],
)
async def test_a_failure_that_may_have_been_charged_is_sent_once(twin, server: LocalServer, status, body) -> None:
    server.faults.force_status(status, count=5, body=body)
    before = generate_count(server)
    with pytest.raises(OutcomeUnknownError) as caught:
        await twin.generate_image("a fox")
    assert caught.value.may_have_run and caught.value.status_code == status
    assert "may have been charged" in str(caught.value) and "gallery" in str(caught.value)
    assert generate_count(server) == before + 1


async def test_the_services_503_is_not_retried_and_says_nothing_was_charged(twin, server: LocalServer) -> None:
    server.faults.force_status(503, count=5)
    before = generate_count(server)
    with pytest.raises(ServiceUnavailableError) as caught:
        await twin.generate_image("a fox")
    assert "nothing was charged" in str(caught.value) and not caught.value.may_have_run
    assert generate_count(server) == before + 1


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(400, InvalidRequestError), (401, AuthenticationError), (402, InsufficientCreditsError)],
)
async def test_client_errors_are_sent_once_and_did_not_run(twin, server: LocalServer, status, error_class) -> None:
    server.faults.force_status(status, count=3)
    before = generate_count(server)
    with pytest.raises(error_class) as caught:
        await twin.generate_image("a fox")
    assert not caught.value.may_have_run
    assert generate_count(server) == before + 1


async def test_a_429_is_retried_after_retry_after(twin, server: LocalServer) -> None:
    server.faults.force_status(429, retry_after=0)
    before = generate_count(server)
    assert (await twin.generate_image("a fox")).returned == 1
    assert generate_count(server) == before + 2


async def test_a_429_longer_than_the_cap_is_raised_at_once_with_the_wait(twin, server: LocalServer) -> None:
    server.faults.force_status(429, retry_after=90)
    before = generate_count(server)
    with pytest.raises(RateLimitError) as caught:
        await twin.with_options(max_retry_wait=5).generate_image("a fox")
    assert caught.value.retry_after == 90 and "retry in 90 s" in str(caught.value)
    assert "max_retry_wait=5" in str(caught.value) and caught.value.limit is not None
    assert generate_count(server) == before + 1


async def test_a_read_timeout_is_never_repeated(twin, server: LocalServer) -> None:
    server.faults.update(latency=1.5)
    before = generate_count(server)
    with pytest.raises(MiladyTimeoutError) as caught:
        await twin.with_options(timeout=httpx.Timeout(0.4, connect=2.0)).generate_image("slow fox")
    assert "may still complete and be billed" in str(caught.value) and caught.value.may_have_run
    assert generate_count(server) == before + 1


async def test_a_dropped_connection_after_sending_is_not_repeated(twin, server: LocalServer) -> None:
    server.faults.update(drop="before-response")
    before = generate_count(server)
    with pytest.raises(MiladyConnectionError) as caught:
        await twin.generate_image("a fox")
    assert caught.value.may_have_run and "may have been charged" in str(caught.value)
    assert generate_count(server) == before + 1


async def test_connection_refused_is_retried_and_reported(kind_sync_async: str, make_twin) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    twin = make_twin(kind_sync_async, api_key="k", base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(MiladyConnectionError) as caught:
        await twin.generate_image("a fox")
    assert not caught.value.may_have_run and f"127.0.0.1:{port}" in str(caught.value)
