"""MiladyClient and AsyncMiladyClient: twins with the same methods over httpx.

Both build requests, retry and parse through the same sans-IO flows (``_flow``);
only the sending (``_drivers``) and the concurrency of a fan-out differ.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
import warnings
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from typing_extensions import Unpack

from ._account import (
    Pending,
    RecoveryPolicy,
    gallery_flow,
    model_price_flow,
    model_status_flow,
    now,
    price_range_flow,
    recover_flow,
)
from ._config import ClientConfig, ClientOptions
from ._drivers import run_async, run_sync
from ._flow import Flow, balance_flow, download_flow, generate_flow
from .catalogue import NUM_IMAGES_MAX
from .errors import ImageDownloadError, InvalidRequestError, MiladyError
from .images import decode_data_url, sniff_mime, write_image
from .request import GenerateImageRequest, GenerateOptions, SharedOptions, check_request, warn_notes
from .results import GalleryPage, GeneratedImage, ImageGenerationResult, ModelStatus, PriceRange, merge_results
from .wording import recovered_note

__all__ = ["AsyncMiladyClient", "MiladyClient"]

logger = logging.getLogger("milady_integrations")

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
CachedT = TypeVar("CachedT")
T = TypeVar("T")

_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=16)
#: Image URLs any client of this process already handed out: recovery never returns them as another
#: request's images (faces make a client per run, so a per-client record would not do).
#: An insertion-ordered set: only the newest need remembering (recovery looks back minutes), so a
#: long-running server forgets the oldest half past ``_HANDED_OUT_MAX``.
_HANDED_OUT: dict[str, None] = {}
_HANDED_OUT_MAX = 50_000
#: How long the service's model status and prices are trusted before asking again.
CACHE_SECONDS = 300.0
_MISS = object()  # nothing remembered (None is a remembered answer: "the service gives no price")


def split_count(total: object) -> list[int]:
    """16 -> [4, 4, 4, 4]; 6 -> [4, 2]."""
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise InvalidRequestError(
            f"num_images={total!r} is not allowed: it must be a whole number of at least 1",
            field="num_images",
            value=total,
            allowed="1 or more",
        )
    full, rest = divmod(total, NUM_IMAGES_MAX)
    return [NUM_IMAGES_MAX] * full + ([rest] if rest else [])


def _total(num_images: int | None, count: int | None) -> object:
    if count is not None:
        warnings.warn("generate_images(count=...) is now num_images=...", DeprecationWarning, stacklevel=3)
        return count if num_images is None else num_images
    return num_images


def _decoded_data_url(data_url: str) -> bytes:
    try:
        _, data = decode_data_url(data_url)
    except ValueError as exc:
        raise ImageDownloadError(f"The image's data URL is malformed: {exc}") from None
    if sniff_mime(data) is None:
        raise ImageDownloadError(f"The image's data URL holds {len(data)} bytes that are not an image")
    return data


_SOURCE_ALLOWED = "an http(s) URL of an image, or a data:image/...;base64 URL"


def _web_source(value: object, allow_paths: bool) -> str | None:
    """The URL to download for a caller's source image, or None when the value is passed on as it is.

    Strings that are neither web URLs nor data URLs are file paths to the core; a caller
    that must not read this machine's files (an agent's argument) refuses them.
    """
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return value
    if not allow_paths and (
        isinstance(value, os.PathLike) or (isinstance(value, str) and not value.startswith("data:"))
    ):
        raise InvalidRequestError(
            f"source_image cannot be a file path here: it must be {_SOURCE_ALLOWED}; got {str(value)[:80]!r}",
            field="source_image",
            value=str(value)[:80],
            allowed=_SOURCE_ALLOWED,
        )
    return None


class _ClientBase(Generic[HttpT]):
    """What both clients share: configuration, request checking and planning, repr."""

    _config: ClientConfig
    _http: HttpT
    _owns_http: bool
    #: The client whose connection pool this one uses (itself, or the one it was copied from).
    _pool_owner: Any

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        http_client: HttpT | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        """Configure a client.

        ``api_key`` defaults to MILADY_API_KEY and ``base_url`` to MILADY_BASE_URL, else
        https://cloud.milady.ai. A missing key fails on the first call, before sending.
        ``options``: see :class:`ClientConfig` (timeouts, retries, download cap, headers).
        Pass ``http_client`` to bring your own httpx client (proxies, certificates);
        it is not closed by us.
        """
        self._config = ClientConfig.from_env(api_key, base_url, **options)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else self._new_http()
        self._pool_owner = self
        self._cache: dict[str, tuple[float, Any]] = {}

    def _new_http(self) -> HttpT:
        raise NotImplementedError

    @property
    def config(self) -> ClientConfig:
        return self._config

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    @property
    def has_api_key(self) -> bool:
        return self._config.api_key is not None

    def __repr__(self) -> str:
        key = "set" if self._config.api_key else "missing"
        return f"{type(self).__name__}(base_url={self._config.base_url!r}, api_key={key})"

    def with_options(self, **changes: Any) -> Any:
        """A copy with some options changed (checked as the constructor checks them), sharing the pool."""
        clone = object.__new__(type(self))
        clone._config = self._config.replace(**changes)
        clone._http = self._http
        clone._owns_http = False
        clone._pool_owner = self._pool_owner
        return clone

    def build_request(self, prompt: str, **options: Unpack[GenerateOptions]) -> GenerateImageRequest:
        """Check every argument before anything is sent (no credit spent on bad input).

        All problems are reported at once, in one InvalidRequestError (``.problems``).
        """
        options.setdefault("allow_unlisted_model", self._config.allow_unlisted_models)
        request = check_request(prompt, **options)
        warn_notes(request, stacklevel=4)
        return request

    def _plan(
        self, prompt: str, num_images: object, sources: Sequence[object], options: SharedOptions
    ) -> list[GenerateImageRequest]:
        """Every request of a fan-out, checked before the first is sent: ``num_images`` per source, at most 4 each."""
        chunks = split_count(num_images)
        if not sources:
            raise InvalidRequestError(
                "source_images is empty", field="source_image", value=[], allowed="one or more images"
            )
        # Each source is read and checked once, whatever the number of requests it makes.
        templates = [self.build_request(prompt, **options, source_image=s, num_images=chunks[0]) for s in sources]
        return [t.with_num_images(n) for t in templates for n in chunks]

    def _cached(self, key: str) -> Any:
        """The remembered value, or ``_MISS`` (a remembered None, "the service has no price", is an answer)."""
        entry = self._pool_owner._cache.get(self._service_key(key))
        return entry[1] if entry is not None and time.monotonic() - entry[0] < CACHE_SECONDS else _MISS

    def _remember(self, key: str, value: CachedT) -> CachedT:
        self._pool_owner._cache[self._service_key(key)] = (time.monotonic(), value)
        return value

    def _service_key(self, key: str) -> str:
        # Copies made by with_options share the cache: another base_url is another service's prices and status.
        return f"{self._config.base_url} {key}"

    @property
    def _asks_models(self) -> bool:
        # Without a key the request fails before sending: nothing may reach the service first.
        return self._config.check_models and self._config.api_key is not None

    def _returned(self, result: ImageGenerationResult) -> ImageGenerationResult:
        _HANDED_OUT.update(dict.fromkeys(result.urls))
        if len(_HANDED_OUT) > _HANDED_OUT_MAX:
            for url in list(_HANDED_OUT)[: _HANDED_OUT_MAX // 2]:
                del _HANDED_OUT[url]
        return result

    # ---------------------------------------------------------------- every method's decisions, as flows
    # Each public method of both clients runs one of these: only how it is run (``_run``) differs.

    def _send_flow(self, request: GenerateImageRequest) -> Flow[ImageGenerationResult]:
        notes: list[str | None] = [*request.notes]
        if self._asks_models:
            notes.append((yield from self._note_flow(request.model)))
        sent_at = now()
        try:
            result = self._returned((yield from generate_flow(self._config, request)))
        except MiladyError as error:
            error.pending = Pending(request, sent_at)
            found = yield from self._recover_for_flow(error)  # already handed out by the recovery
            if found is None:
                raise
            logger.warning("%s", recovered_note(error, found.returned))
            found.notes.append(recovered_note(error, found.returned))
            result = found
        result.notes[:0] = [note for note in notes if note]
        return result

    def _recover_flow(self, error: BaseException, polls: int | None) -> Flow[ImageGenerationResult | None]:
        pending = getattr(error, "pending", None)
        if not isinstance(pending, Pending) or not getattr(error, "may_have_run", False):
            return None  # nothing was left that may have run
        policy = RecoveryPolicy() if polls is None else RecoveryPolicy(polls=polls)
        result = yield from recover_flow(self._config, pending, _HANDED_OUT, policy)
        return None if result is None else self._returned(result)

    def _recover_for_flow(self, error: MiladyError) -> Flow[ImageGenerationResult | None]:
        """With the ``recover_for`` option, what ``error``'s request made, looked up in the gallery."""
        seconds = self._config.recover_for
        if seconds <= 0:
            return None
        try:
            return (yield from self._recover_flow(error, RecoveryPolicy.lasting(seconds).polls))
        except MiladyError as failed:
            # A look-up that failed finds nothing: the request's own error, which says it may have run
            # (so it is not sent again), is the one raised, never the look-up's (a 429 there would
            # read as "safe to send again").
            logger.warning("could not look for the request in the gallery: %s", failed)
            return None

    def _remembered(self, key: str, flow: Flow[CachedT]) -> Flow[CachedT]:
        """``flow``'s answer, asked again only after CACHE_SECONDS."""
        value = self._cached(key)
        if value is _MISS:
            value = self._remember(key, (yield from flow))
        return value  # type: ignore[no-any-return]

    def _status_flow(self, models: Sequence[str]) -> Flow[dict[str, ModelStatus]]:
        known = {m: self._cached(f"status:{m}") for m in models}
        missing = [m for m, status in known.items() if status is _MISS]
        if missing:
            fresh = yield from model_status_flow(self._config, missing)
            known.update({m: self._remember(f"status:{m}", s) for m, s in fresh.items()})
        return {m: s for m, s in known.items() if isinstance(s, ModelStatus)}

    def _note_flow(self, model: str) -> Flow[str | None]:
        try:
            status = (yield from self._status_flow([model])).get(model)
        except MiladyError:
            return None  # the status is advice; not knowing it must not stop a generation
        if status is None or status.available:
            return None
        why = f": {status.reason}" if status.reason else ""
        return f"The service reports model {model} as unavailable{why}; a request with it will probably fail."

    def _price_range_flow(self) -> Flow[PriceRange | None]:
        return self._remembered("prices", price_range_flow(self._config))

    def _price_flow(self, model: str) -> Flow[float | None]:
        return self._remembered(f"price:{model}", model_price_flow(self._config, model))

    def _read_flow(self, image: GeneratedImage) -> Flow[bytes]:
        if image.data_url:
            return _decoded_data_url(image.data_url)
        return (yield from download_flow(self._config, image.source))

    def _source_flow(self, value: object, allow_paths: bool) -> Flow[object]:
        url = _web_source(value, allow_paths)
        if url is None:
            return value
        try:
            return (yield from download_flow(self._config, url))
        except MiladyError as err:
            # The download error's own hint speaks of generated images; this one is the caller's input.
            raise InvalidRequestError(
                f"source_image could not be read from {url}: {err.message.rstrip('.')}",
                field="source_image",
                value=url,
                allowed=_SOURCE_ALLOWED,
                hint="Pass an image URL that answers with an image, or leave source_image out.",
            ) from err


class MiladyClient(_ClientBase[httpx.Client]):
    """Blocking client. ``with MiladyClient() as client: client.generate_image("a fox")``."""

    def _new_http(self) -> httpx.Client:
        return httpx.Client(limits=_LIMITS, timeout=self._config.timeout)

    def _run(self, flow: Flow[T]) -> T:
        return run_sync(flow, self._http)

    def generate_image(self, prompt: str, **options: Unpack[GenerateOptions]) -> ImageGenerationResult:
        """Generate 1-4 images in one request.

        ``source_image`` (image-to-image) may be a data URL, bytes, a file path or a
        PIL image. Fewer images than asked is partial success: see ``result.partial``.
        """
        return self.send(self.build_request(prompt, **options))

    def send(self, request: GenerateImageRequest) -> ImageGenerationResult:
        """Send an already checked request. A failure that may have run carries what ``recover`` needs.

        With the ``recover_for`` option such a failure is first looked up in the gallery.
        """
        return self._run(self._send_flow(request))

    def recover(self, error: BaseException, *, polls: int | None = None) -> ImageGenerationResult | None:
        """What a request that may have run made, found in the gallery (already billed), or None.

        Looks for images with the same prompt and model, created since the request was sent,
        not already returned by this client; polls a few times while the service finishes.
        """
        return self._run(self._recover_flow(error, polls))

    def gallery(self, *, limit: int = 20, offset: int = 0) -> GalleryPage:
        """Past generations, newest first (``limit`` 1..1000)."""
        return self._run(gallery_flow(self._config, limit=limit, offset=offset))

    def model_status(self, *models: str) -> dict[str, ModelStatus]:
        """Whether the service can use each model now (asked at most every few minutes; no key needed)."""
        return self._run(self._status_flow(models))

    def model_note(self, model: str) -> str | None:
        """A warning to show before spending when the service reports ``model`` unavailable; None otherwise."""
        return self._run(self._note_flow(model))

    def price_range(self) -> PriceRange | None:
        """The service's min and max price of one image (no key needed)."""
        return self._run(self._price_range_flow())

    def estimated_price(self, model: str) -> float | None:
        """An estimate of one image's price with ``model``: its catalogue price x 1.2, when the catalogue says."""
        return self._run(self._price_flow(model))

    def generate_images(
        self,
        prompt: str,
        *,
        num_images: int | None = None,
        source_image: object = None,
        source_images: Sequence[object] | None = None,
        concurrency: int = 4,
        count: int | None = None,
        **options: Unpack[SharedOptions],
    ) -> ImageGenerationResult:
        """Any number of images, for one source image or each of ``source_images``.

        Requests of at most 4, every one checked before the first is sent, then sent
        concurrently (at most ``concurrency``). Failed requests are kept in
        ``result.errors``; the others' images stay usable. (``count=`` is the old name.)
        """
        sources = [source_image] if source_images is None else source_images
        requests = self._plan(prompt, _total(num_images, count), sources, options)
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(requests)))) as pool:
            futures = [pool.submit(self.send, r) for r in requests]
            parts = [f.exception() or f.result() for f in futures]
        return merge_results(parts, sum(r.num_images for r in requests))

    def read_image(self, image: GeneratedImage) -> bytes:
        """The image's bytes: decoded from its data URL, or downloaded (capped, address-checked)."""
        return self._run(self._read_flow(image))

    def save_image(self, image: GeneratedImage, path: str | os.PathLike[str]) -> Path:
        """Write the image; a path without a suffix gets one from the real image type."""
        return write_image(path, self.read_image(image))

    def read_images(self, result: ImageGenerationResult, *, concurrency: int = 8) -> list[bytes]:
        """All images' bytes, downloaded concurrently, in order."""
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(result.images)))) as pool:
            return list(pool.map(self.read_image, result.images))

    def read_url(self, url: str) -> bytes:
        """Download an image URL with this client's size cap, timeout and address checks."""
        return self._run(download_flow(self._config, url))

    def read_source(self, value: object, *, allow_paths: bool = True) -> object:
        """A caller's source image, ready for ``source_image=``: a web URL is downloaded (capped, checked).

        ``allow_paths=False`` refuses anything that would read a file on this machine.
        """
        return self._run(self._source_flow(value, allow_paths))

    def credits_balance(self) -> float:
        """The account's credit balance."""
        return self._run(balance_flow(self._config))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> MiladyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncMiladyClient(_ClientBase[httpx.AsyncClient]):
    """Async twin of MiladyClient: ``async with AsyncMiladyClient() as client: await ...``.

    Usable from one event loop after another (agents often run each turn in a new
    ``asyncio.run``): a connection pool belongs to the loop that opened it, so a pool
    this client owns is opened anew on a new loop. A pool passed in is used as it is.
    """

    _loop: weakref.ref[asyncio.AbstractEventLoop] | None = None

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(limits=_LIMITS, timeout=self._config.timeout)

    def _transport(self) -> httpx.AsyncClient:
        owner: AsyncMiladyClient = self._pool_owner
        if owner._owns_http:
            loop = asyncio.get_running_loop()
            bound = owner._loop() if owner._loop is not None else None
            if bound is not loop:
                if owner._loop is not None:  # the old loop's connections cannot serve this one
                    owner._http = owner._new_http()
                owner._loop = weakref.ref(loop)
        return owner._http

    async def _run(self, flow: Flow[T]) -> T:
        return await run_async(flow, self._transport())

    async def generate_image(self, prompt: str, **options: Unpack[GenerateOptions]) -> ImageGenerationResult:
        """Generate 1-4 images in one request (see MiladyClient.generate_image)."""
        build = functools.partial(self.build_request, prompt, **options)
        # Reading, decoding and maybe shrinking a source image takes a while: off the event loop.
        request = build() if options.get("source_image") is None else await asyncio.to_thread(build)
        return await self.send(request)

    async def send(self, request: GenerateImageRequest) -> ImageGenerationResult:
        return await self._run(self._send_flow(request))

    async def recover(self, error: BaseException, *, polls: int | None = None) -> ImageGenerationResult | None:
        """What a request that may have run made, found in the gallery (see MiladyClient.recover)."""
        return await self._run(self._recover_flow(error, polls))

    async def gallery(self, *, limit: int = 20, offset: int = 0) -> GalleryPage:
        return await self._run(gallery_flow(self._config, limit=limit, offset=offset))

    async def model_status(self, *models: str) -> dict[str, ModelStatus]:
        return await self._run(self._status_flow(models))

    async def model_note(self, model: str) -> str | None:
        return await self._run(self._note_flow(model))

    async def price_range(self) -> PriceRange | None:
        return await self._run(self._price_range_flow())

    async def estimated_price(self, model: str) -> float | None:
        return await self._run(self._price_flow(model))

    async def generate_images(
        self,
        prompt: str,
        *,
        num_images: int | None = None,
        source_image: object = None,
        source_images: Sequence[object] | None = None,
        concurrency: int = 4,
        count: int | None = None,
        **options: Unpack[SharedOptions],
    ) -> ImageGenerationResult:
        """Any number of images (see MiladyClient.generate_images). Cancelling cancels every request."""
        total = _total(num_images, count)
        sources = [source_image] if source_images is None else source_images
        requests = await asyncio.to_thread(self._plan, prompt, total, sources, options)
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(request: GenerateImageRequest) -> ImageGenerationResult:
            async with gate:
                return await self.send(request)

        tasks = [asyncio.ensure_future(one(r)) for r in requests]
        try:
            parts = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for task in tasks:
                task.cancel()
        return merge_results(parts, sum(r.num_images for r in requests))

    async def read_image(self, image: GeneratedImage) -> bytes:
        return await self._run(self._read_flow(image))

    async def save_image(self, image: GeneratedImage, path: str | os.PathLike[str]) -> Path:
        data = await self.read_image(image)
        return await asyncio.to_thread(write_image, path, data)

    async def read_images(self, result: ImageGenerationResult, *, concurrency: int = 8) -> list[bytes]:
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(image: GeneratedImage) -> bytes:
            async with gate:
                return await self.read_image(image)

        return list(await asyncio.gather(*(one(i) for i in result.images)))

    async def read_url(self, url: str) -> bytes:
        return await self._run(download_flow(self._config, url))

    async def read_source(self, value: object, *, allow_paths: bool = True) -> object:
        return await self._run(self._source_flow(value, allow_paths))

    async def credits_balance(self) -> float:
        return await self._run(balance_flow(self._config))

    async def aclose(self) -> None:
        if self._owns_http:
            bound = self._loop() if self._loop is not None else None
            # A pool opened on another (maybe closed) loop cannot be closed from this one; it is dropped.
            if bound is None or bound is asyncio.get_running_loop():
                await self._http.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncMiladyClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


#: Either client, for code written once for both.
ClientT = TypeVar("ClientT", MiladyClient, AsyncMiladyClient)
