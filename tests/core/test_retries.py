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
from typing import Any

import httpx
import pytest

from milady_integrations import errors
from milady_integrations.local import LocalServer


def force(status: int, **options: Any) -> Any:
    return lambda server: server.faults.force_status(status, **options)


def fault(**changes: Any) -> Any:
    return lambda server: server.faults.update(**changes)


def case(
    make_fault: Any,
    error: type[errors.MiladyError] | None = None,
    *,
    sent: int = 1,
    may_have_run: bool = False,
    words: tuple[str, ...] = (),
    options: dict[str, Any] | None = None,
    status_code: int | None = None,
) -> tuple[Any, ...]:
    """A fault, the error it ends in (None: one image comes back) and how many requests the server saw."""
    return make_fault, error, sent, may_have_run, words, options or {}, status_code


CHARGED = "may have been charged"
NOTHING = "nothing was charged"
CASES = {
    "the refunded 500 is retried, then succeeds": case(force(500, count=1), sent=2),
    "the refunded 500 is sent exactly max_retries more times": case(
        force(500, count=5), errors.GenerationFailedError, sent=2, words=(NOTHING,), options={"max_retries": 1}
    ),
    **{
        f"a {status} {body} page may have been charged: sent once": case(
            force(status, count=5, body=body),
            errors.OutcomeUnknownError,
            may_have_run=True,
            status_code=status,
            words=(CHARGED, "gallery"),
        )
        for status, body in [
            (500, "html"), (500, "empty"), (502, "html"), (502, "json"), (504, "html"), (504, "empty"), (503, "html")
        ]
    },
    "the service's 503 is not retried": case(force(503, count=5), errors.ServiceUnavailableError, words=(NOTHING,)),
    "400 is sent once": case(force(400, count=3), errors.InvalidRequestError),
    "401 is sent once": case(force(401, count=3), errors.AuthenticationError),
    "402 is sent once": case(force(402, count=3), errors.InsufficientCreditsError),
    "a 429 is retried after Retry-After": case(force(429, retry_after=0), sent=2),
    "a read timeout is never repeated": case(
        fault(latency=1.5),
        errors.MiladyTimeoutError,
        may_have_run=True,
        words=("may still complete and be billed",),
        options={"timeout": httpx.Timeout(0.4, connect=2.0)},
    ),
    "a connection dropped after sending is not repeated": case(
        fault(drop="before-response"), errors.MiladyConnectionError, may_have_run=True, words=(CHARGED,)
    ),
}


@pytest.mark.parametrize("name", CASES)
async def test_only_what_cannot_have_been_charged_is_sent_again(twin, server: LocalServer, name: str) -> None:
    make_fault, error_class, sent, may_have_run, words, options, status_code = CASES[name]
    make_fault(server)
    before = server.stats.generate_requests
    try:
        outcome: Any = await twin.with_options(**options).generate_image("a fox")
    except errors.MiladyError as error:
        outcome = error
    assert server.stats.generate_requests == before + sent
    if error_class is None:
        assert outcome.returned == 1
        return
    assert isinstance(outcome, error_class) and outcome.may_have_run is may_have_run
    assert all(word in str(outcome) for word in words), str(outcome)
    if status_code is not None:
        assert outcome.status_code == status_code


async def test_a_429_longer_than_the_cap_is_raised_at_once_with_the_wait(twin, server: LocalServer) -> None:
    server.faults.force_status(429, retry_after=90)
    before = server.stats.generate_requests
    with pytest.raises(errors.RateLimitError) as caught:
        await twin.with_options(max_retry_wait=5).generate_image("a fox")
    assert caught.value.retry_after == 90 and "retry in 90 s" in str(caught.value)
    assert "max_retry_wait=5" in str(caught.value) and caught.value.limit is not None
    assert server.stats.generate_requests == before + 1


async def test_connection_refused_is_retried_and_reported(kind_sync_async: str, make_twin) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    twin = make_twin(kind_sync_async, api_key="k", base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(errors.MiladyConnectionError) as caught:
        await twin.generate_image("a fox")
    assert not caught.value.may_have_run and f"127.0.0.1:{port}" in str(caught.value)
