"""Sans-IO request flows shared by the sync and async clients.

A flow is a generator that yields what to do (``Send`` a request, ``Sleep``) and
receives what happened (a ``Received`` answer or the transport exception). It holds
every decision: request building, error mapping, retries and their waits, parsing.
The drivers in ``_drivers`` only perform the I/O, once for sync and once for async.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from ._config import ClientConfig
from .errors import (
    GenerationFailedError,
    ImageDownloadError,
    MiladyConnectionError,
    MiladyError,
    MiladyTimeoutError,
    RateLimitError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    error_from_response,
)
from .images import check_download_url, decode_image, is_ip_literal, is_local_host, sniff_mime
from .request import GenerateImageRequest
from .results import ImageGenerationResult, parse_generation_body

logger = logging.getLogger("milady_integrations")

T = TypeVar("T")

GENERATE_PATH = "/api/v1/generate-image"
BALANCE_PATH = "/api/v1/credits/balance"
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-vercel-id")
_SECRET_HEADERS = frozenset({"authorization", "x-api-key"})
_MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Send:
    request: httpx.Request
    timeout: httpx.Timeout
    max_bytes: int | None = None


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Resolve:
    """Look up a host's addresses (answered with ``Addresses`` or the lookup's exception)."""

    host: str


@dataclass(frozen=True)
class Addresses:
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Received:
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed: float


class BodyTooLarge(Exception):
    """The driver stopped reading a body at its cap."""

    def __init__(self, received: int) -> None:
        super().__init__(f"body larger than {received} bytes")
        self.received = received


Outcome = Received | Addresses | Exception
Flow = Generator[Send | Sleep | Resolve, Outcome | None, T]


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


def request_id_of(headers: Mapping[str, str]) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        if headers.get(name):
            return headers[name]
    return None


def backoff_delay(attempt: int, *, initial: float = 0.5, cap: float = 8.0) -> float:
    """Capped exponential backoff with jitter (up to 25% shorter), as openai-python does."""
    return min(initial * 2.0**attempt, cap) * (1 - 0.25 * random.random())


def retry_delay(error: MiladyError, attempt: int, config: ClientConfig) -> float | None:
    """How long to wait before retrying ``error``, or None when it must not be retried.

    Only failures where nothing was generated or billed are retried: 429, 500
    (failed generations are refunded), 502-504, and connections that never carried
    the request. 400/401/402 and anything that may have run are never repeated.
    """
    if attempt >= config.max_retries:
        return None
    if isinstance(error, RateLimitError):
        if error.retry_after is None:
            return backoff_delay(attempt)
        return error.retry_after if error.retry_after <= config.max_retry_wait else None
    if isinstance(error, (GenerationFailedError, ServiceUnavailableError)):
        return backoff_delay(attempt)
    if isinstance(error, MiladyConnectionError) and not error.may_have_run:
        return backoff_delay(attempt)
    return None


def transport_error(exc: Exception, url: str, config: ClientConfig) -> MiladyError:
    """Map an httpx transport failure, saying whether the request may have run."""
    host = urlsplit(url).netloc
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return MiladyConnectionError(f"Could not connect to {host}: {exc or type(exc).__name__}")
    if isinstance(exc, (httpx.WriteError, httpx.WriteTimeout)):
        # The body did not arrive whole, so the service cannot have acted on it.
        return MiladyConnectionError(f"The connection to {host} failed while sending the request")
    if isinstance(exc, httpx.TimeoutException):
        return MiladyTimeoutError(
            f"No answer from {host} within {config.timeout.read:g} s after the request was sent"
        )
    return MiladyConnectionError(
        f"The connection to {host} broke after the request was sent "
        f"({type(exc).__name__}); it was not retried because the service may have run it",
        may_have_run=True,
        hint="Check your gallery before sending it again.",
    )


def _json_body(received: Received, request_id: str | None) -> Any:
    try:
        return json.loads(received.body)
    except ValueError:
        raise UnexpectedResponseError(
            f"The service answered {received.status} with a body that is not JSON "
            f"({len(received.body)} bytes)",
            status_code=received.status,
            body=received.body[:200].decode("utf-8", "replace"),
            request_id=request_id,
        ) from None


def call_flow(
    config: ClientConfig, method: str, path: str, json_body: Any = None, *, auth: bool = True
) -> Flow[tuple[Any, str | None]]:
    """Send one API call with retries; return its parsed JSON body and request id (``auth``: send the key)."""
    url = config.url(path)
    request = httpx.Request(method, url, headers=config.headers(auth=auth), json=json_body)
    secret = config.api_key.get_secret_value() if config.api_key else None
    attempt = 0
    while True:
        logger.debug("%s %s headers=%s", method, url, redact_headers(request.headers))
        outcome = yield Send(request, config.timeout)
        if isinstance(outcome, Received):
            request_id = request_id_of(outcome.headers)
            logger.debug("%s %s -> %s in %.3f s", method, url, outcome.status, outcome.elapsed)
            if 200 <= outcome.status < 300:
                return _json_body(outcome, request_id), request_id
            error = error_from_response(
                outcome.status, outcome.headers, outcome.body, request_id=request_id
            )
        elif isinstance(outcome, Exception):
            error = transport_error(outcome, url, config)
        else:  # pragma: no cover - drivers always answer a Send
            raise RuntimeError("flow driver sent nothing back")
        error.redacted(secret)
        delay = retry_delay(error, attempt, config)
        if delay is None:
            if isinstance(error, RateLimitError) and attempt < config.max_retries:
                error.message += f" (longer than max_retry_wait={config.max_retry_wait:g} s, so not retried)"
            raise error
        attempt += 1
        logger.info("retrying %s %s in %.2f s after: %s", method, path, delay, error)
        yield Sleep(delay)


def generate_flow(config: ClientConfig, request: GenerateImageRequest) -> Flow[ImageGenerationResult]:
    body, request_id = yield from call_flow(config, "POST", GENERATE_PATH, request.to_wire())
    result = parse_generation_body(
        body, requested=request.num_images, model=request.model, request_id=request_id
    )
    if not result.images:
        items = body.get("images")
        if items:
            # Images were made (and may be billed) but none is readable: not a failure to retry.
            raise UnexpectedResponseError(
                f"The service answered 200 with {len(items)} images, but none had a url or image data",
                body=body,
                request_id=request_id,
            )
        raise GenerationFailedError(
            "The service answered 200 but returned no images", body=body, request_id=request_id
        )
    if result.partial:
        logger.warning("%s", result.partial_note)
    return result


def balance_flow(config: ClientConfig) -> Flow[float]:
    body, request_id = yield from call_flow(config, "GET", BALANCE_PATH)
    balance = body.get("balance") if isinstance(body, dict) else None
    if isinstance(balance, bool) or not isinstance(balance, (int, float)):
        raise UnexpectedResponseError(
            "The credits answer has no numeric 'balance'", body=body, request_id=request_id
        )
    return float(balance)


def _refuse_local_names(url: str) -> Flow[None]:
    """A remote service's image URL must not name a host that resolves to this machine's networks.

    Literal addresses were checked already; a name is looked up. When the lookup fails, the
    connection will fail the same way, so that is left to it.
    """
    host = urlsplit(url).hostname or ""
    if is_ip_literal(host):
        return
    found = yield Resolve(host)
    if isinstance(found, Addresses):
        local = [address for address in found.addresses if is_local_host(address)]
        if local:
            raise ImageDownloadError(
                f"Refusing to download an image from {host!r}: it resolves to local address "
                f"{local[0]} and the service is remote",
                hint="",
            )


def download_flow(config: ClientConfig, url: str) -> Flow[bytes]:
    """Download an image the service returned: http(s) only, capped, redirects checked."""
    started = time.monotonic()
    for _ in range(_MAX_REDIRECTS + 1):
        check_download_url(url, allow_local=config.is_local)
        if not config.is_local:
            yield from _refuse_local_names(url)
        outcome = yield Send(
            httpx.Request("GET", url, headers={"Accept": "image/*"}),
            config.download_timeout,
            max_bytes=config.max_download_bytes,
        )
        if isinstance(outcome, BodyTooLarge):
            raise ImageDownloadError(
                f"The image at {url} is larger than the download cap of "
                f"{config.max_download_bytes:,} bytes",
                hint="Raise max_download_bytes if you trust this source.",
            )
        if isinstance(outcome, Exception):
            raise ImageDownloadError(
                f"Could not download the image at {url}: {type(outcome).__name__} "
                f"after {time.monotonic() - started:.1f} s"
            ) from outcome
        assert isinstance(outcome, Received)
        if outcome.status in (301, 302, 303, 307, 308) and outcome.headers.get("location"):
            url = urljoin(url, outcome.headers["location"])
            continue
        if outcome.status != 200:
            raise ImageDownloadError(
                f"The image at {url} answered HTTP {outcome.status}", status_code=outcome.status
            )
        if sniff_mime(outcome.body) is None:
            decode_image(outcome.body, what=f"download from {url}")
        return outcome.body
    raise ImageDownloadError(f"Too many redirects while downloading {url}")
