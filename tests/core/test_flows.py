"""The sans-IO flows driven with scripted outcomes: every retry decision, every wait, every
final error, with no socket and no sleep.

A script lists what the network "answered" to each ``Send`` or ``Resolve`` in turn; a ``Sleep``
is recorded and answered with nothing. The jitter of the backoff comes from the config's
``jitter`` seam, so each wait is an exact number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from milady_integrations import GenerateImageRequest, errors
from milady_integrations._config import ClientConfig
from milady_integrations._flow import (
    Addresses,
    BodyTooLarge,
    Outcome,
    Received,
    Resolve,
    Send,
    Sleep,
    balance_flow,
    call_flow,
    download_flow,
    generate_flow,
)

KEY = "sk-flow-test-key-0123456789"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def config(**changes: Any) -> ClientConfig:
    """A remote service, 2 retries, no jitter (waits are exactly 0.5 s, 1 s, 2 s ...)."""
    base = ClientConfig.from_arguments(api_key=KEY, base_url="https://cloud.milady.example")
    return base.replace(**{"jitter": lambda: 0.0, **changes})


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> Received:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return Received(status, httpx.Headers({"x-request-id": "req_1", **(headers or {})}), raw, 0.01)


OK = answer(200, {"balance": 12.5})
REFUNDED = answer(500, {"error": "No images were generated"})
CATCH_ALL_500 = answer(500, {"error": "Pricing unavailable for image:generation google/x"})
PARSER_500 = answer(500, {"error": "Unexpected end of JSON input"})
NOT_CONFIGURED = answer(503, {"error": "Image generation service is not configured"})
VARIANT_503 = answer(
    503, {"success": False, "error": "Image generation is temporarily unavailable. Please try again shortly."}
)
AUTH_401 = answer(401, {"error": "Authentication required. Provide a valid session or API key."})
BALANCE_401 = answer(401, {"success": False, "error": "Invalid or expired API key", "code": "authentication_required"})
GATEWAY_401 = answer(401, {"error": "Gateway API key rejected by upstream provider"})
HTML = b"<html><head><title>Bad Gateway</title></head><body>proxy</body></html>"


def request_of(url: str = "https://cloud.milady.example/api/v1/credits/balance") -> httpx.Request:
    return httpx.Request("GET", url)


def drive(flow: Any, script: Sequence[Outcome]) -> tuple[list[Any], Any, list[Outcome]]:
    """Run ``flow`` on ``script``; return its actions, its result (or the error raised) and the unused rest."""
    rest = list(script)
    actions: list[Any] = []
    outcome: Outcome | None = None
    try:
        while True:
            action = flow.send(outcome)
            actions.append(action)
            outcome = None if isinstance(action, Sleep) else rest.pop(0)
    except StopIteration as stop:
        return actions, stop.value, rest
    except errors.MiladyError as error:
        return actions, error, rest


def sleeps(actions: list[Any]) -> list[float]:
    return [a.seconds for a in actions if isinstance(a, Sleep)]


def sends(actions: list[Any]) -> list[Send]:
    return [a for a in actions if isinstance(a, Send)]


# name: (script, waits, final class (or None for success), may_have_run, words in the error)
CALL_TABLE: dict[str, tuple[list[Outcome], list[float], type[errors.MiladyError] | None, bool, str]] = {
    "success": ([OK], [], None, False, ""),
    "429 Retry-After, then success": ([answer(429, {}, {"Retry-After": "3"}), OK], [3.0], None, False, ""),
    "429 retryAfter in the body": ([answer(429, {"retryAfter": 7}), OK], [7.0], None, False, ""),
    "429 without a wait, every time": ([answer(429)] * 3, [0.5, 1.0], errors.RateLimitError, False, "Rate limited"),
    "429 past max_retry_wait": (
        [answer(429, {}, {"Retry-After": "61"})],
        [],
        errors.RateLimitError,
        False,
        "longer than max_retry_wait=60 s, so not retried",
    ),
    "refunded 500, then success": ([REFUNDED, OK], [0.5], None, False, ""),
    "refunded 500 every time": ([REFUNDED] * 3, [0.5, 1.0], errors.GenerationFailedError, False, "nothing was charged"),
    "catch-all 500": ([CATCH_ALL_500], [], errors.OutcomeUnknownError, True, "Pricing unavailable"),
    "the parser's 500": ([PARSER_500], [], errors.OutcomeUnknownError, True, "may have been charged"),
    "500 HTML page": ([answer(500, HTML)], [], errors.OutcomeUnknownError, True, "Bad Gateway"),
    "500 empty": ([answer(500)], [], errors.OutcomeUnknownError, True, "may have been charged"),
    "501": ([answer(501, {"error": "Not Implemented"})], [], errors.OutcomeUnknownError, True, "HTTP 501"),
    "502 HTML": ([answer(502, HTML)], [], errors.OutcomeUnknownError, True, "may still be running"),
    "502 empty": ([answer(502)], [], errors.OutcomeUnknownError, True, "may still be running"),
    "503 not configured": ([NOT_CONFIGURED], [], errors.ServiceUnavailableError, False, "nothing was charged"),
    "503 of the other variant": ([VARIANT_503], [], errors.ServiceUnavailableError, False, "nothing was charged"),
    "503 HTML page": ([answer(503, HTML)], [], errors.OutcomeUnknownError, True, "may have been charged"),
    "504": ([answer(504)], [], errors.OutcomeUnknownError, True, "may still be running"),
    "520": ([answer(520, b"")], [], errors.OutcomeUnknownError, True, "gateway"),
    "521": ([answer(521, b"")], [], errors.OutcomeUnknownError, True, "gateway"),
    "522": ([answer(522, b"")], [], errors.OutcomeUnknownError, True, "gateway"),
    "523": ([answer(523, b"")], [], errors.OutcomeUnknownError, True, "gateway"),
    "524": ([answer(524, HTML)], [], errors.OutcomeUnknownError, True, "gateway"),
    "400": (
        [answer(400, {"error": "Prompt is required and must be a non-empty string"})],
        [],
        errors.InvalidRequestError,
        False,
        "Prompt is required",
    ),
    "401 of generate-image": ([AUTH_401], [], errors.AuthenticationError, False, "Authentication required"),
    "401 of the balance route": ([BALANCE_401], [], errors.AuthenticationError, False, "Invalid or expired API key"),
    "401 of the catch-all": ([GATEWAY_401], [], errors.OutcomeUnknownError, True, "not yours"),
    "401 empty": ([answer(401)], [], errors.OutcomeUnknownError, True, "may have been charged"),
    "402": (
        [answer(402, {"error": "Insufficient credits", "required": 0.024})],
        [],
        errors.InsufficientCreditsError,
        False,
        "0.024 required",
    ),
    "405": ([answer(405)], [], errors.MiladyAPIError, False, "MILADY_BASE_URL"),
    "connection refused, then success": ([httpx.ConnectError("refused"), OK], [0.5], None, False, ""),
    "connection refused every time": (
        [httpx.ConnectError("refused")] * 3,
        [0.5, 1.0],
        errors.MiladyConnectionError,
        False,
        "Could not connect to cloud.milady.example",
    ),
    "connect timeout, then success": ([httpx.ConnectTimeout("slow"), OK], [0.5], None, False, ""),
    "pool timeout, then success": ([httpx.PoolTimeout("busy"), OK], [0.5], None, False, ""),
    "write failed, then success": ([httpx.WriteError("reset"), OK], [0.5], None, False, ""),
    "read timeout": (
        [httpx.ReadTimeout("slow")],
        [],
        errors.MiladyTimeoutError,
        True,
        "may still complete and be billed",
    ),
    "broken after sending": (
        [httpx.RemoteProtocolError("closed")],
        [],
        errors.MiladyConnectionError,
        True,
        "may have been charged",
    ),
    "read error after sending": ([httpx.ReadError("reset")], [], errors.MiladyConnectionError, True, "gallery"),
    "refunded 500, then a 502": ([REFUNDED, answer(502)], [0.5], errors.OutcomeUnknownError, True, "HTTP 502"),
    "refunded, refused, then success": ([REFUNDED, httpx.ConnectError("x"), OK], [0.5, 1.0], None, False, ""),
}


@pytest.mark.parametrize("name", CALL_TABLE)
def test_call_flow_retries_waits_and_fails_as_the_table_says(name: str) -> None:
    script, waits, error_class, may_have_run, words = CALL_TABLE[name]
    actions, result, rest = drive(call_flow(config(), "GET", "/api/v1/credits/balance"), script)
    assert rest == []  # every scripted answer was asked for: no fewer, no more sends
    assert sleeps(actions) == waits
    assert len(sends(actions)) == len(script)
    if error_class is None:
        assert result == ({"balance": 12.5}, "req_1")
        return
    assert type(result) is error_class
    assert result.may_have_run is may_have_run
    assert words in str(result) and KEY not in str(result)


@pytest.mark.parametrize(
    ("max_retries", "jitter", "waits"),
    [
        (0, 0.0, []),
        (1, 0.0, [0.5]),
        (6, 0.0, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]),  # doubling, capped at 8 s
        (3, 1.0, [0.375, 0.75, 1.5]),  # the jitter takes up to a quarter off
        (2, 0.5, [0.4375, 0.875]),
    ],
)
def test_backoff_doubles_up_to_a_cap_with_up_to_a_quarter_off(
    max_retries: int, jitter: float, waits: list[float]
) -> None:
    script = [httpx.ConnectError("refused")] * (max_retries + 1)
    actions, result, rest = drive(
        call_flow(config(max_retries=max_retries, jitter=lambda: jitter), "GET", "/x"), script
    )
    assert sleeps(actions) == waits and rest == []
    assert isinstance(result, errors.MiladyConnectionError) and not result.may_have_run


def test_a_429_wait_may_equal_max_retry_wait_but_not_exceed_it() -> None:
    at_cap = [answer(429, {}, {"Retry-After": "5"}), OK]
    actions, result, _ = drive(call_flow(config(max_retry_wait=5.0), "GET", "/x"), at_cap)
    assert sleeps(actions) == [5.0] and result[0] == {"balance": 12.5}
    over = [answer(429, {}, {"Retry-After": "6"})]
    actions, result, _ = drive(call_flow(config(max_retry_wait=5.0), "GET", "/x"), over)
    assert sleeps(actions) == [] and isinstance(result, errors.RateLimitError)


def test_with_no_retries_left_a_429_is_raised_without_the_cap_note() -> None:
    actions, result, _ = drive(call_flow(config(max_retries=0), "GET", "/x"), [answer(429, {}, {"Retry-After": "1"})])
    assert sleeps(actions) == [] and isinstance(result, errors.RateLimitError)
    assert "max_retry_wait" not in str(result)


@pytest.mark.parametrize("retry_after", ["1", None])
def test_a_client_made_for_batch_hands_every_429_back_and_still_retries_a_refunded_500(retry_after: str | None) -> None:
    # `milady batch` sets retry_rate_limits=False: its rate gate alone waits a 429 out, for every line at once.
    limited = answer(429, {"error": "Too many requests"}, {"Retry-After": retry_after} if retry_after else {})
    actions, result, _ = drive(call_flow(config(retry_rate_limits=False), "GET", "/x"), [limited, OK])
    assert len(actions) == 1 and sleeps(actions) == []  # raised at once: no wait, no second send
    assert isinstance(result, errors.RateLimitError) and "max_retry_wait" not in str(result)
    actions, result, _ = drive(call_flow(config(), "GET", "/x"), [limited, OK])  # any other client waits itself
    assert len(sleeps(actions)) == 1 and result[0] == {"balance": 12.5}
    actions, result, _ = drive(call_flow(config(retry_rate_limits=False), "GET", "/x"), [REFUNDED, OK])
    assert len(sleeps(actions)) == 1 and result[0] == {"balance": 12.5}


def test_every_retry_sends_the_same_request() -> None:
    actions, _, _ = drive(
        call_flow(config(), "POST", "/api/v1/generate-image", {"prompt": "a"}), [REFUNDED, REFUNDED, OK]
    )
    requests = [send.request for send in sends(actions)]
    assert len(requests) == 3 and len({id(r) for r in requests}) == 1
    assert requests[0].headers["x-api-key"] == KEY and requests[0].content == b'{"prompt":"a"}'


def test_the_key_is_taken_out_of_a_service_error() -> None:
    _, result, _ = drive(call_flow(config(), "GET", "/x"), [answer(500, {"error": f"bad key {KEY}"})])
    assert isinstance(result, errors.OutcomeUnknownError) and KEY not in str(result) and "***" in str(result)


# ------------------------------------------------------------------ generate_flow

IMAGE = {"url": "https://blob.example/a.png", "mimeType": "image/png", "text": ""}


@pytest.mark.parametrize(
    ("script", "waits", "error_class", "may_have_run"),
    [
        ([answer(200, {"images": [IMAGE], "numImages": 1})], [], None, False),
        ([REFUNDED, answer(200, {"images": [IMAGE], "numImages": 1})], [0.5], None, False),
        (
            [
                answer(
                    200,
                    {
                        "success": True,
                        "model": "google/gemini-2.5-flash-image",
                        "images": [IMAGE],
                        "cost": {"totalCost": 0.024},
                    },
                )
            ],
            [],
            None,
            False,
        ),
        ([answer(200, {"images": [], "numImages": 0})], [], errors.GenerationFailedError, False),
        ([answer(200, {"images": [{"text": ""}], "numImages": 1})], [], errors.UnexpectedResponseError, True),
        ([answer(200, b'{"images": [')], [], errors.UnexpectedResponseError, True),
        ([CATCH_ALL_500], [], errors.OutcomeUnknownError, True),
        ([httpx.ReadTimeout("slow")], [], errors.MiladyTimeoutError, True),
    ],
)
def test_generate_flow_reads_or_fails_without_paying_twice(script, waits, error_class, may_have_run) -> None:
    request = GenerateImageRequest.create("a fox")
    actions, result, rest = drive(generate_flow(config(), request), script)
    assert rest == [] and sleeps(actions) == waits
    if error_class is None:
        assert result.returned == 1 and result.images[0].source == IMAGE["url"]
        return
    assert type(result) is error_class and result.may_have_run is may_have_run


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("X-Vercel-Id", "fra1::abc"), ("X-Request-Id", "req_9")], "req_9"),
        ([("Request-Id", "req_8"), ("x-vercel-id", "fra1::abc")], "req_8"),
        ([("x-vercel-id", "fra1::abc")], "fra1::abc"),
        ([("X-Request-Id", ""), ("x-vercel-id", "fra1::abc")], "fra1::abc"),
        ([("Content-Type", "application/json")], None),
    ],
)
def test_answers_and_errors_carry_the_preferred_request_id(headers, expected) -> None:
    body = json.dumps({"images": [IMAGE], "numImages": 1}).encode()
    flow = generate_flow(config(), GenerateImageRequest.create("a fox"))
    _, result, _ = drive(flow, [Received(200, httpx.Headers(headers), body, 0.01)])
    assert result.request_ids == ([expected] if expected else [])
    failed = Received(500, httpx.Headers(headers), CATCH_ALL_500.body, 0.01)
    _, error, _ = drive(generate_flow(config(), GenerateImageRequest.create("a fox")), [failed])
    assert isinstance(error, errors.OutcomeUnknownError) and error.request_id == expected


def test_balance_flow_wants_a_number() -> None:
    _, result, _ = drive(balance_flow(config()), [answer(200, {"balance": "lots"})])
    assert isinstance(result, errors.UnexpectedResponseError)


# ------------------------------------------------------------------ download_flow

PUBLIC = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"


def test_a_name_is_looked_up_once_and_the_checked_address_is_the_one_connected_to() -> None:
    # A rebinding name: public for the check, loopback for whoever asks next. Nobody asks next.
    script = [Addresses((PUBLIC,)), answer(200, PNG)]
    actions, result, rest = drive(download_flow(config(), "http://img.example:8080/a.png"), script)
    assert result == PNG and rest == []
    assert [a for a in actions if isinstance(a, Resolve)] == [Resolve("img.example")]
    (send,) = sends(actions)
    assert str(send.request.url) == f"http://{PUBLIC}:8080/a.png"
    assert send.request.headers["host"] == "img.example:8080"
    assert "sni_hostname" not in send.request.extensions


def test_https_keeps_the_name_for_tls_while_connecting_to_the_checked_address() -> None:
    actions, result, _ = drive(
        download_flow(config(), "https://img.example/a.png"), [Addresses((PUBLIC,)), answer(200, PNG)]
    )
    (send,) = sends(actions)
    assert result == PNG
    assert str(send.request.url) == f"https://{PUBLIC}/a.png"
    assert send.request.headers["host"] == "img.example"
    assert send.request.extensions["sni_hostname"] == "img.example"


def test_ipv4_is_preferred_and_an_ipv6_only_name_is_bracketed() -> None:
    actions, _, _ = drive(
        download_flow(config(), "http://img.example/a.png"), [Addresses((PUBLIC_V6, PUBLIC)), answer(200, PNG)]
    )
    assert sends(actions)[0].request.url.host == PUBLIC
    actions, _, _ = drive(
        download_flow(config(), "http://img.example/a.png"), [Addresses((PUBLIC_V6,)), answer(200, PNG)]
    )
    assert str(sends(actions)[0].request.url) == f"http://[{PUBLIC_V6}]/a.png"


@pytest.mark.parametrize("addresses", [("127.0.0.1",), (PUBLIC, "10.0.0.7"), ("::1",), ("169.254.169.254",)])
def test_a_name_with_any_local_address_is_refused_before_connecting(addresses) -> None:
    actions, result, _ = drive(download_flow(config(), "http://img.example/a.png"), [Addresses(addresses)])
    assert isinstance(result, errors.ImageDownloadError) and "resolves to local address" in str(result)
    assert sends(actions) == []


def test_a_failed_lookup_is_an_error_not_a_second_lookup_by_the_connection() -> None:
    actions, result, _ = drive(download_flow(config(), "http://img.example/a.png"), [OSError("no such host")])
    assert isinstance(result, errors.ImageDownloadError)
    assert "Could not look up the image host 'img.example'" in str(result)
    assert sends(actions) == []


def test_a_redirect_is_looked_up_and_checked_again() -> None:
    script = [
        Addresses((PUBLIC,)),
        answer(302, b"", {"Location": "http://elsewhere.example/b.png"}),
        Addresses(("192.168.1.1",)),
    ]
    actions, result, rest = drive(download_flow(config(), "http://img.example/a.png"), script)
    assert rest == [] and len(sends(actions)) == 1
    assert isinstance(result, errors.ImageDownloadError) and "elsewhere.example" in str(result)


def test_a_relative_redirect_is_resolved_against_the_name_not_the_address() -> None:
    script = [Addresses((PUBLIC,)), answer(301, b"", {"Location": "/b.png"}), Addresses((PUBLIC,)), answer(200, PNG)]
    actions, result, _ = drive(download_flow(config(), "https://img.example/a.png"), script)
    assert result == PNG
    second = sends(actions)[1].request
    assert str(second.url) == f"https://{PUBLIC}/b.png" and second.headers["host"] == "img.example"


def test_an_address_in_the_url_is_not_looked_up() -> None:
    actions, result, _ = drive(download_flow(config(), f"http://{PUBLIC}/a.png"), [answer(200, PNG)])
    assert result == PNG and not [a for a in actions if isinstance(a, Resolve)]


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        (BodyTooLarge(60_000_000), "larger than the download cap"),
        (httpx.ReadTimeout("slow"), "Could not download the image"),
        (answer(404, b"gone"), "answered HTTP 404"),
        (answer(200, b"<html>not an image</html>"), "does not decode"),
    ],
)
def test_download_failures_are_clear_and_not_retried(outcome: Outcome, words: str) -> None:
    actions, result, _ = drive(download_flow(config(), "http://img.example/a.png"), [Addresses((PUBLIC,)), outcome])
    assert isinstance(result, errors.ImageDownloadError) and words in str(result)
    assert len(sends(actions)) == 1 and sleeps(actions) == [] and not result.may_have_run
