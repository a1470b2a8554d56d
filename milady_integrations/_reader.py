"""Reads generated images' bytes: downloads URLs (capped, checked) or decodes data URLs."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

from ._config import ClientConfig
from ._drivers import run_async, run_sync
from ._flow import download_flow
from .errors import ImageDownloadError
from .images import decode_data_url, sniff_mime

if TYPE_CHECKING:
    from .schema import GeneratedImage


def _decode_fallback(data_url: str) -> bytes:
    try:
        _, data = decode_data_url(data_url)
    except ValueError as exc:
        raise ImageDownloadError(f"The image's data URL is malformed: {exc}") from None
    if sniff_mime(data) is None:
        raise ImageDownloadError(f"The image's data URL holds {len(data)} bytes that are not an image")
    return data


class ImageReader:
    """Bound to a client's configuration and HTTP clients; whichever is missing is made per call."""

    def __init__(
        self,
        config: ClientConfig,
        http: httpx.Client | None = None,
        async_http: httpx.AsyncClient | None = None,
    ) -> None:
        self._config = config
        self._http = http
        self._async_http = async_http

    @classmethod
    def default(cls) -> ImageReader:
        return cls(ClientConfig.from_arguments(api_key=""))

    def read(self, image: GeneratedImage) -> bytes:
        if image.data_url:  # no network needed when the bytes came inline
            return _decode_fallback(image.data_url)
        if self._http is not None:
            return run_sync(download_flow(self._config, image.source), self._http)
        with httpx.Client() as http:
            return run_sync(download_flow(self._config, image.source), http)

    async def aread(self, image: GeneratedImage) -> bytes:
        if image.data_url:  # no network needed when the bytes came inline
            return _decode_fallback(image.data_url)
        if self._async_http is not None:
            return await run_async(download_flow(self._config, image.source), self._async_http)
        if self._http is not None:
            return await asyncio.to_thread(self.read, image)
        async with httpx.AsyncClient() as http:
            return await run_async(download_flow(self._config, image.source), http)
