"""MiladyClient and AsyncMiladyClient: twins with the same methods over httpx.

Both build requests, retry and parse through the same sans-IO flows (``_flow``);
only the sending (``_drivers``) and the fan-out differ.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import httpx

from ._config import DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT, ClientConfig
from ._drivers import run_async, run_sync
from ._flow import balance_flow, generate_flow
from ._reader import ImageReader
from .errors import InvalidRequestError, MiladyError
from .schema import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    NUM_IMAGES_MAX,
    GeneratedImage,
    GenerateImageRequest,
    ImageGenerationResult,
)

__all__ = ["AsyncMiladyClient", "MiladyClient"]

logger = logging.getLogger("milady_integrations")

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)

_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=16)


def split_count(total: int, per_request: int = NUM_IMAGES_MAX) -> list[int]:
    """16 -> [4, 4, 4, 4]; 6 -> [4, 2]."""
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise InvalidRequestError(
            f"count={total!r} is not allowed: it must be a whole number of at least 1",
            field="count",
            value=total,
            allowed="1 or more",
        )
    full, rest = divmod(total, per_request)
    return [per_request] * full + ([rest] if rest else [])


def merge_results(
    parts: Sequence[ImageGenerationResult | BaseException], requested: int
) -> ImageGenerationResult:
    """One result from several requests; failed parts are kept as ``errors``.

    Raises the first error only when every part failed, so partial work is never lost.
    """
    results = [p for p in parts if isinstance(p, ImageGenerationResult)]
    errors = [p for p in parts if isinstance(p, BaseException)]
    for error in errors:
        if not isinstance(error, MiladyError):
            raise error
    if not results:
        raise errors[0]
    costs = [r.cost for r in results if r.cost is not None]
    return ImageGenerationResult(
        images=[image for r in results for image in r.images],
        requested=requested,
        model=results[0].model,
        cost=sum(costs) if costs else None,
        request_ids=[rid for r in results for rid in r.request_ids],
        errors=[e for e in errors if isinstance(e, MiladyError)],
    )


class _ClientBase(Generic[HttpT]):
    """What both clients share: configuration, request checking, repr."""

    _config: ClientConfig
    _http: HttpT
    _owns_http: bool

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        allow_unlisted_models: bool = False,
        download_timeout: float | httpx.Timeout | None = None,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        default_headers: dict[str, str] | None = None,
        http_client: HttpT | None = None,
    ) -> None:
        """Configure a client.

        ``api_key`` defaults to MILADY_API_KEY and ``base_url`` to MILADY_BASE_URL, else
        https://cloud.milady.ai. A missing key fails on the first call, before sending.
        Pass ``http_client`` to bring your own httpx client (proxies, certificates);
        it is not closed by us.
        """
        self._config = ClientConfig.from_arguments(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            allow_unlisted_models=allow_unlisted_models,
            download_timeout=download_timeout,
            max_download_bytes=max_download_bytes,
            default_headers=default_headers,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else self._new_http()

    def _new_http(self) -> HttpT:
        raise NotImplementedError

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
        """A copy with some options changed, sharing this client's connection pool."""
        clone = object.__new__(type(self))
        clone._config = self._config.replace(**changes)
        clone._http = self._http
        clone._owns_http = False
        return clone

    def build_request(
        self,
        prompt: str,
        *,
        model: str = DEFAULT_MODEL,
        aspect_ratio: str = DEFAULT_ASPECT_RATIO,
        num_images: int = DEFAULT_NUM_IMAGES,
        style_preset: str = DEFAULT_STYLE_PRESET,
        source_image: object = None,
        allow_unlisted_model: bool | None = None,
        downscale_source: bool = False,
    ) -> GenerateImageRequest:
        """Check every argument before anything is sent (no credit spent on bad input).

        ``downscale_source`` shrinks a source image that is over the service's limit
        instead of refusing it.
        """
        return GenerateImageRequest.create(
            prompt,
            model=model,
            aspect_ratio=aspect_ratio,
            num_images=num_images,
            style_preset=style_preset,
            source_image=source_image,
            downscale_source=downscale_source,
            allow_unlisted_model=self._config.allow_unlisted_models
            if allow_unlisted_model is None
            else allow_unlisted_model,
        )

    @staticmethod
    def _chunked(template: GenerateImageRequest, count: int) -> list[GenerateImageRequest]:
        # The source image is read and checked once, whatever the number of requests.
        return [template.model_copy(update={"num_images": n}) for n in split_count(count)]

    def _bind(self, result: ImageGenerationResult, reader: ImageReader) -> ImageGenerationResult:
        for image in result.images:
            image._reader = reader
        return result


class MiladyClient(_ClientBase[httpx.Client]):
    """Blocking client. ``with MiladyClient() as client: client.generate_image("a fox")``."""

    def _new_http(self) -> httpx.Client:
        return httpx.Client(limits=_LIMITS, timeout=self._config.timeout)

    def _reader(self) -> ImageReader:
        return ImageReader(self._config, http=self._http)

    def generate_image(
        self,
        prompt: str,
        *,
        model: str = DEFAULT_MODEL,
        aspect_ratio: str = DEFAULT_ASPECT_RATIO,
        num_images: int = DEFAULT_NUM_IMAGES,
        style_preset: str = DEFAULT_STYLE_PRESET,
        source_image: object = None,
        allow_unlisted_model: bool | None = None,
        downscale_source: bool = False,
    ) -> ImageGenerationResult:
        """Generate 1-4 images in one request.

        ``source_image`` (image-to-image) may be a data URL, bytes, a file path or a
        PIL image. Fewer images than asked is partial success: see ``result.partial``.
        """
        request = self.build_request(
            prompt,
            model=model,
            aspect_ratio=aspect_ratio,
            num_images=num_images,
            style_preset=style_preset,
            source_image=source_image,
            allow_unlisted_model=allow_unlisted_model,
            downscale_source=downscale_source,
        )
        return self.send(request)

    def send(self, request: GenerateImageRequest) -> ImageGenerationResult:
        """Send an already checked request."""
        result = run_sync(generate_flow(self._config, request), self._http)
        return self._bind(result, self._reader())

    def generate_images(
        self, prompt: str, *, count: int, concurrency: int = 4, **options: Any
    ) -> ImageGenerationResult:
        """Any number of images: requests of at most 4, sent concurrently (at most ``concurrency``)."""
        requests = self._chunked(self.build_request(prompt, **options), count)
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(requests)))) as pool:
            futures = [pool.submit(self.send, r) for r in requests]
            parts: list[ImageGenerationResult | BaseException] = []
            for future in futures:
                exc = future.exception()
                parts.append(exc if exc is not None else future.result())
        return merge_results(parts, count)

    def read_images(self, result: ImageGenerationResult, *, concurrency: int = 8) -> list[bytes]:
        """All images' bytes, downloaded concurrently, in order."""
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(result.images)))) as pool:
            return list(pool.map(lambda image: image.read(), result.images))

    def read_url(self, url: str) -> bytes:
        """Download an image URL with this client's size cap, timeout and address checks."""
        return self._reader().read(GeneratedImage.model_validate({"url": url}))

    def credits_balance(self) -> float:
        """The account's credit balance."""
        return run_sync(balance_flow(self._config), self._http)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> MiladyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncMiladyClient(_ClientBase[httpx.AsyncClient]):
    """Async twin of MiladyClient: ``async with AsyncMiladyClient() as client: await ...``."""

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(limits=_LIMITS, timeout=self._config.timeout)

    def _reader(self) -> ImageReader:
        return ImageReader(self._config, async_http=self._http)

    async def generate_image(
        self,
        prompt: str,
        *,
        model: str = DEFAULT_MODEL,
        aspect_ratio: str = DEFAULT_ASPECT_RATIO,
        num_images: int = DEFAULT_NUM_IMAGES,
        style_preset: str = DEFAULT_STYLE_PRESET,
        source_image: object = None,
        allow_unlisted_model: bool | None = None,
        downscale_source: bool = False,
    ) -> ImageGenerationResult:
        """Generate 1-4 images in one request (see MiladyClient.generate_image)."""
        build = functools.partial(
            self.build_request,
            prompt,
            model=model,
            aspect_ratio=aspect_ratio,
            num_images=num_images,
            style_preset=style_preset,
            source_image=source_image,
            allow_unlisted_model=allow_unlisted_model,
            downscale_source=downscale_source,
        )
        # Reading, decoding and maybe shrinking a source image takes a while: off the event loop.
        request = build() if source_image is None else await asyncio.to_thread(build)
        return await self.send(request)

    async def send(self, request: GenerateImageRequest) -> ImageGenerationResult:
        result = await run_async(generate_flow(self._config, request), self._http)
        return self._bind(result, self._reader())

    async def generate_images(
        self, prompt: str, *, count: int, concurrency: int = 4, **options: Any
    ) -> ImageGenerationResult:
        template = await asyncio.to_thread(functools.partial(self.build_request, prompt, **options))
        requests = self._chunked(template, count)
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(request: GenerateImageRequest) -> ImageGenerationResult:
            async with gate:
                return await self.send(request)

        parts = await asyncio.gather(*(one(r) for r in requests), return_exceptions=True)
        return merge_results(parts, count)

    async def read_images(self, result: ImageGenerationResult, *, concurrency: int = 8) -> list[bytes]:
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(image: Any) -> bytes:
            async with gate:
                return await image.aread()  # type: ignore[no-any-return]

        return list(await asyncio.gather(*(one(i) for i in result.images)))

    async def read_url(self, url: str) -> bytes:
        """Download an image URL with this client's size cap, timeout and address checks."""
        return await self._reader().aread(GeneratedImage.model_validate({"url": url}))

    async def credits_balance(self) -> float:
        return await run_async(balance_flow(self._config), self._http)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncMiladyClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
