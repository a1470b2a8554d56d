"""Sans-IO request flows shared by the sync and async clients.

A flow is a generator that yields what to do (``Send`` a request, ``Sleep``) and
receives what happened (a ``Received`` answer or the transport exception). It holds
every decision: request building, error mapping, retries and their waits, parsing.
The drivers in ``_drivers`` only perform the I/O, once for sync and once for async.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from ._config import ClientConfig
from ._retry import not_retried_note, retry_delay
from .errors import (
    GenerationFailedError,
    ImageDownloadError,
    MiladyError,
    UnexpectedResponseError,
    error_from_response,
    error_from_transport,
)
from .images import check_download_url, decode_image, is_ip_literal, is_local_host, sniff_mime
from .request import GenerateImageRequest
from .results import ImageGenerationResult, parse_generation_body

logger = logging.getLogger("milady_integrations")

T = TypeVar("T")

GENERATE_PATH = "/api/v1/generate-image"
BALANCE_PATH = "/api/v1/credits/balance"
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-vercel-id")
_REQUEST_ID_RANK = {name.encode(): rank for rank, name in enumerate(_REQUEST_ID_HEADERS)}
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
    """The driver stopped reading a body at its cap (the argument: the bytes read by then)."""


Outcome = Received | Addresses | Exception
Flow = Generator[Send | Sleep | Resolve, Outcome | None, T]


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


def request_id_of(headers: httpx.Headers) -> str | None:
    """The first of ``_REQUEST_ID_HEADERS`` present, in their order of preference.

    One pass over the raw headers: it runs on every answer, and each ``Headers.get``
    scans and decodes all of them (the service's own id, x-vercel-id, comes last).
    """
    best: tuple[int, bytes] | None = None
    for key, value in headers.raw:
        rank = _REQUEST_ID_RANK.get(key.lower())
        if rank is not None and value and (best is None or rank < best[0]):
            best = (rank, value)
    return None if best is None else best[1].decode(headers.encoding)


@functools.lru_cache(maxsize=64)
def _parsed_url(url: str) -> httpx.URL:
    """Parsing a URL costs about as much as the rest of building a request: once per URL."""
    return httpx.URL(url)


def _json_body(received: Received, request_id: str | None) -> Any:
    try:
        return json.loads(received.body)
    except ValueError:
        raise UnexpectedResponseError(
            f"The service answered {received.status} with a body that is not JSON ({len(received.body)} bytes)",
            status_code=received.status,
            body=received.body[:200].decode("utf-8", "replace"),
            request_id=request_id,
        ) from None


def call_flow(
    config: ClientConfig, method: str, path: str, json_body: Any = None, *, auth: bool = True
) -> Flow[tuple[Any, str | None]]:
    """Send one API call, retried as ``_retry`` decides; return its parsed JSON body and request id.

    ``auth``: send the key (the model status and price routes need none).
    """
    url = config.url(path)
    request = httpx.Request(method, _parsed_url(url), headers=config.headers(auth=auth), json=json_body)
    debug = logger.isEnabledFor(logging.DEBUG)  # redacting headers costs time: only when shown
    attempt = 0
    while True:
        if debug:
            logger.debug("%s %s headers=%s", method, url, redact_headers(request.headers))
        outcome = yield Send(request, config.timeout)
        error: MiladyError
        if isinstance(outcome, Received):
            if debug:
                logger.debug("%s %s -> %s in %.3f s", method, url, outcome.status, outcome.elapsed)
            request_id = request_id_of(outcome.headers)
            if 200 <= outcome.status < 300:
                return _json_body(outcome, request_id), request_id
            error = error_from_response(outcome.status, outcome.headers, outcome.body, request_id=request_id)
        elif isinstance(outcome, Exception):
            error = error_from_transport(outcome, urlsplit(url).netloc, read_timeout=config.timeout.read)
        else:  # pragma: no cover - drivers always answer a Send
            raise RuntimeError("flow driver sent nothing back")
        error.redacted(config.api_key.get_secret_value() if config.api_key else None)
        delay = retry_delay(error, attempt, config)
        if delay is None:
            error.message += not_retried_note(error, attempt, config)
            raise error
        attempt += 1
        logger.info("retrying %s %s in %.2f s after: %s", method, path, delay, error)
        yield Sleep(delay)


def generate_flow(config: ClientConfig, request: GenerateImageRequest) -> Flow[ImageGenerationResult]:
    body, request_id = yield from call_flow(config, "POST", GENERATE_PATH, request.to_wire())
    result = parse_generation_body(body, requested=request.num_images, model=request.model, request_id=request_id)
    if not result.images:
        items = body.get("images")
        if items:
            # Images were made (and may be billed) but none is readable: not a failure to retry.
            raise UnexpectedResponseError(
                f"The service answered 200 with {len(items)} images, but none had a url or image data",
                body=body,
                request_id=request_id,
            )
        raise GenerationFailedError("The service answered 200 but returned no images", body=body, request_id=request_id)
    if result.partial:
        logger.warning("%s", result.partial_note)
    return result


def balance_flow(config: ClientConfig) -> Flow[float]:
    body, request_id = yield from call_flow(config, "GET", BALANCE_PATH)
    balance = body.get("balance") if isinstance(body, dict) else None
    if isinstance(balance, bool) or not isinstance(balance, (int, float)):
        raise UnexpectedResponseError("The credits answer has no numeric 'balance'", body=body, request_id=request_id)
    return float(balance)


def _checked_address(host: str, *, allow_local: bool) -> Flow[str | None]:
    """Look ``host`` up ONCE and return the address to connect to (None for a literal address).

    The connection goes to the address checked here, never to a second lookup, so a name
    that answers differently the next time (DNS rebinding) cannot reach this machine or its
    networks. A remote service's image URL must not lead to a local address.
    """
    if is_ip_literal(host):
        return None  # checked by check_download_url already
    found = yield Resolve(host)
    if not isinstance(found, Addresses) or not found.addresses:
        reason = f"{type(found).__name__}: {found}" if isinstance(found, Exception) else "no address"
        raise ImageDownloadError(f"Could not look up the image host {host!r} ({reason})")
    if not allow_local:
        local = [address for address in found.addresses if is_local_host(address)]
        if local:
            raise ImageDownloadError(
                f"Refusing to download an image from {host!r}: it resolves to local address "
                f"{local[0]} and the service is remote",
                hint="",
            )
    # IPv4 first: a machine without an IPv6 route often still lists AAAA answers.
    return next((a for a in found.addresses if ":" not in a), found.addresses[0])


def image_request(url: str, address: str | None) -> httpx.Request:
    """GET ``url``, connecting to ``address`` when given: the name stays in Host and TLS SNI,
    so virtual hosts answer and the certificate is still verified against the name."""
    headers = {"Accept": "image/*"}
    if address is None:
        return httpx.Request("GET", url, headers=headers)
    target = httpx.URL(url)
    headers["Host"] = target.netloc.decode("ascii")
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return httpx.Request("GET", target.copy_with(host=address), headers=headers, extensions=extensions)


def download_flow(config: ClientConfig, url: str) -> Flow[bytes]:
    """Download an image the service returned: http(s) only, capped, redirects and addresses checked."""
    started = time.monotonic()
    for _ in range(_MAX_REDIRECTS + 1):
        check_download_url(url, allow_local=config.is_local)
        address = yield from _checked_address(urlsplit(url).hostname or "", allow_local=config.is_local)
        outcome = yield Send(image_request(url, address), config.download_timeout, max_bytes=config.max_download_bytes)
        if isinstance(outcome, BodyTooLarge):
            raise ImageDownloadError(
                f"The image at {url} is larger than the download cap of {config.max_download_bytes:,} bytes",
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
            raise ImageDownloadError(f"The image at {url} answered HTTP {outcome.status}", status_code=outcome.status)
        if sniff_mime(outcome.body) is None:
            decode_image(outcome.body, what=f"download from {url}")
        return outcome.body
    raise ImageDownloadError(f"Too many redirects while downloading {url}")
