"""The whole fault matrix through both clients, with what the server received and billed.

tests/core/test_client.py already proves most error classes; here every fault is also
checked for what a user pays for and what is left behind: how many generate requests
reached the server (retries only where nothing was billed), how many images were
billed (never twice), and that no connection stays busy or open afterwards.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image

from milady_integrations import (
    GenerationFailedError,
    ImageDownloadError,
    MiladyConnectionError,
    MiladyError,
    MiladyTimeoutError,
    OutcomeUnknownError,
    RateLimitError,
    ServiceUnavailableError,
    UnexpectedResponseError,
)
from milady_integrations.images import sniff_mime
from milady_integrations.local import LocalServer

from .conftest import Ledger, busy_connections, call, eventually, settle_sockets, socket_fds

SHORT = httpx.Timeout(0.5, connect=2.0)


@dataclass(frozen=True)
class Case:
    """One fault, how the client is set, and what must follow."""

    faults: dict[str, Any] = field(default_factory=dict)
    #: force_status(...) arguments: (status, count, body, retry_after)
    force: tuple[int, int, str | None, int | None] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    num_images: int = 1
    #: Error of generate_image, with words its text must hold; None: a result.
    error: type[MiladyError] | None = None
    words: tuple[str, ...] = ()
    returned: int = 1
    #: Error of reading the first image (the generation itself succeeded).
    read_error: tuple[type[MiladyError], str] | None = None
    generate_requests: int = 1
    billed: int = 1


CASES: dict[str, Case] = {
    "latency past the timeout": Case(
        faults={"latency": 1.2},
        options={"timeout": SHORT},
        error=MiladyTimeoutError,
        words=("No answer", "may still complete and be billed"),
        billed=1,  # the server finished the work: billed once, never sent again
    ),
    "429 with Retry-After": Case(force=(429, 1, None, 1), generate_requests=2),
    "429 without Retry-After": Case(force=(429, 1, None, None), generate_requests=2),
    "429 with a wait over the cap": Case(
        force=(429, 1, None, 90),
        options={"max_retry_wait": 5},
        error=RateLimitError,
        words=("retry in 90 s", "max_retry_wait=5"),
        billed=0,
    ),
    "500 then success": Case(force=(500, 1, None, None), generate_requests=2),
    "500 every time": Case(
        force=(500, 5, None, None),
        options={"max_retries": 2},
        error=GenerationFailedError,
        words=("HTTP 500", "No images were generated"),
        generate_requests=3,
        billed=0,
    ),
    "every image fails": Case(
        faults={"fail_images": 4},
        options={"max_retries": 1},
        error=GenerationFailedError,
        words=("No images were generated",),
        generate_requests=2,
        billed=0,
    ),
    **{
        f"{status} {body} page": Case(
            force=(status, 5, body, None),
            options={"max_retries": 1},
            error=OutcomeUnknownError,
            words=(f"HTTP {status}", phrase, "may have been charged", "Check your gallery"),
            generate_requests=1,  # it may have run: never sent again
            billed=0,
        )
        for status, body, phrase in (
            (500, "html", "500 Internal Server Error"),
            (500, "empty", "HTTP 500."),
            (502, "html", "502 Bad Gateway"),
            (503, "html", "503 Service Unavailable"),
            (503, "empty", "HTTP 503."),
            (504, "html", "504 Gateway Timeout"),
        )
    },
    "503 of the service": Case(
        force=(503, 5, None, None),
        error=ServiceUnavailableError,
        words=("not configured", "nothing was charged"),
        billed=0,
    ),
    "dropped before the response": Case(
        faults={"drop": "before-response"},
        error=MiladyConnectionError,
        words=("broke after the request was sent", "not retried", "Check your gallery"),
    ),
    "dropped mid-body": Case(
        faults={"drop": "mid-body"},
        error=MiladyConnectionError,
        words=("broke after the request was sent", "not retried"),
    ),
    "truncated JSON": Case(
        faults={"body": "truncated"}, error=UnexpectedResponseError, words=("answered 200", "not JSON")
    ),
    "invalid JSON": Case(
        faults={"body": "invalid-json"}, error=UnexpectedResponseError, words=("answered 200", "not JSON")
    ),
    "JSON missing the images list": Case(
        faults={"body": "empty-object"}, error=UnexpectedResponseError, words=("without an 'images' list",)
    ),
    "JSON items without url or image": Case(
        faults={"body": "no-url"},
        num_images=2,
        error=UnexpectedResponseError,
        words=("2 images", "none"),
        billed=2,
    ),
    "zero images": Case(faults={"body": "zero-images"}, error=GenerationFailedError, words=("no images",), billed=0),
    "partial success": Case(faults={"fail_images": 1}, num_images=3, returned=2, billed=2),
    "storage failure (data URLs)": Case(faults={"storage_failure": True}, num_images=2, returned=2, billed=2),
    "image URL 404": Case(faults={"image_url": "404"}, read_error=(ImageDownloadError, "HTTP 404")),
    "image URL hangs": Case(
        faults={"image_url": "hang"},
        options={"download_timeout": SHORT},
        read_error=(ImageDownloadError, "ReadTimeout"),
    ),
    "image URL not an image": Case(
        faults={"image_url": "not-image"}, read_error=(ImageDownloadError, "does not decode as an image")
    ),
    "image over the cap": Case(
        faults={"image_url": "oversize"},
        options={"max_download_bytes": 2_000_000},
        read_error=(ImageDownloadError, "larger than the download cap of 2,000,000 bytes"),
    ),
    "image over the cap, no Content-Length": Case(
        faults={"image_url": "oversize-chunked"},
        options={"max_download_bytes": 2_000_000},
        read_error=(ImageDownloadError, "download cap"),
    ),
    "wrong MIME label": Case(faults={"wrong_mime": True}),
}


def _arm(server: LocalServer, case: Case) -> None:
    if case.faults:
        server.faults.update(**case.faults)
    if case.force is not None:
        status, count, body, retry_after = case.force
        server.faults.force_status(status, count, body=body, retry_after=retry_after)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_fault_ends_cleanly_and_is_billed_once(
    case: Case, kind_sync_async: str, server: LocalServer, clients: Any
) -> None:
    sockets_before = socket_fds()
    ledger = Ledger(server)
    client = clients(kind_sync_async, **case.options)
    _arm(server, case)

    if case.error is not None:
        with pytest.raises(case.error) as caught:
            await call(client.generate_image("a fox in the snow", num_images=case.num_images))
        for words in case.words:
            assert words in str(caught.value)
        assert "<" not in str(caught.value)  # no HTML reaches the user
    else:
        result = await call(client.generate_image("a fox in the snow", num_images=case.num_images))
        assert (result.requested, result.returned) == (case.num_images, case.returned)
        if case.read_error is not None:
            error_class, words = case.read_error
            with pytest.raises(error_class, match=words):
                await call(client.read_images(result))
        else:
            datas = await call(client.read_images(result))
            assert len(datas) == case.returned
            for data in datas:
                assert sniff_mime(data) in ("image/webp", "image/png")
                Image.open(io.BytesIO(data)).load()

    # Work the server finishes after the client left (a read timeout) is billed, once.
    assert eventually(lambda: ledger.seen().billed >= case.billed)
    seen = ledger.seen()
    assert seen.generate == case.generate_requests
    assert seen.billed == case.billed
    assert busy_connections(client) == 0
    await call(client.close())
    assert settle_sockets(sockets_before) <= sockets_before


async def test_wrong_mime_label_is_corrected_on_save(
    kind_sync_async: str, server: LocalServer, clients: Any, tmp_path
) -> None:
    server.faults.update(wrong_mime=True)
    client = clients(kind_sync_async)
    result = await call(client.generate_image("a kite"))
    image = result.images[0]
    assert image.mime_type == "image/png"  # the label lies
    path = await call(client.save_image(image, tmp_path / "kite"))
    assert path.suffix == ".webp" and Image.open(path).format == "WEBP"


async def test_connection_refused_is_retried_then_reported(
    kind_sync_async: str, clients: Any, closed_port: int
) -> None:
    sockets_before = socket_fds()
    client = clients(kind_sync_async, base_url=f"http://127.0.0.1:{closed_port}", max_retries=2)
    with pytest.raises(MiladyConnectionError) as caught:
        await call(client.generate_image("a fox"))
    assert not caught.value.may_have_run
    assert f"Could not connect to 127.0.0.1:{closed_port}" in str(caught.value)
    assert "MILADY_BASE_URL" in str(caught.value)
    await call(client.close())
    assert settle_sockets(sockets_before) <= sockets_before


async def test_many_failures_in_a_row_leave_no_socket_open(
    kind_sync_async: str, server: LocalServer, clients: Any
) -> None:
    """Twelve broken answers on one client: connections are reused or closed, never piled up."""
    client = clients(kind_sync_async, max_retries=0)
    await call(client.generate_image("warm-up"))
    sockets_before = socket_fds()
    for fault in ("before-response", "mid-body") * 3:
        server.faults.update(drop=fault)
        with pytest.raises(MiladyConnectionError):
            await call(client.generate_image("a fox"))
    server.faults.clear()
    for body in ("truncated", "invalid-json") * 3:
        server.faults.update(body=body)
        with pytest.raises(UnexpectedResponseError):
            await call(client.generate_image("a fox"))
    server.faults.clear()
    assert busy_connections(client) == 0
    assert settle_sockets(sockets_before) <= sockets_before
    assert (await call(client.generate_image("still works"))).returned == 1


async def test_generate_images_keeps_good_parts_when_one_request_fails(
    kind_sync_async: str, server: LocalServer, clients: Any
) -> None:
    """8 images in two requests; one answers 402: the other's 4 images are kept and billed once."""
    ledger = Ledger(server)
    client = clients(kind_sync_async)
    server.faults.force_status(402)
    result = await call(client.generate_images("tiles", num_images=8, concurrency=1))
    assert (result.requested, result.returned) == (8, 4)
    assert [type(e).__name__ for e in result.errors] == ["InsufficientCreditsError"]
    assert ledger.seen().generate == 2 and ledger.seen().billed == 4
