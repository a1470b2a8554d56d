"""Client configuration: where the key, base URL and limits come from."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._version import __version__
from .errors import AuthenticationError
from .images import is_local_host

DEFAULT_BASE_URL = "https://cloud.milady.ai"
API_KEY_ENV = "MILADY_API_KEY"
BASE_URL_ENV = "MILADY_BASE_URL"

#: The service may take up to 180 s; our read timeout sits above that.
DEFAULT_TIMEOUT = httpx.Timeout(200.0, connect=10.0, pool=30.0)
DEFAULT_DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_WAIT = 60.0
DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024


class Secret:
    """A string that never shows itself in a repr, a log line or an f-string."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def as_timeout(value: float | httpx.Timeout | None, default: httpx.Timeout) -> httpx.Timeout:
    if value is None:
        return default
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(float(value), connect=min(10.0, float(value)))


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs to build and retry requests; immutable."""

    api_key: Secret | None
    base_url: str
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT
    allow_unlisted_models: bool = False
    download_timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_DOWNLOAD_TIMEOUT)
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    default_headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    #: Source of the retry backoff's jitter, in [0, 1); a seam that makes waits deterministic.
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    @classmethod
    def from_arguments(
        cls,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        allow_unlisted_models: bool = False,
        download_timeout: float | httpx.Timeout | None = None,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        default_headers: dict[str, str] | None = None,
    ) -> ClientConfig:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url={url!r} must start with http:// or https://")
        if max_retries < 0:
            raise ValueError(f"max_retries={max_retries!r} must be 0 or more")
        return cls(
            api_key=Secret(key.strip()) if key and key.strip() else None,
            base_url=url.rstrip("/"),
            timeout=as_timeout(timeout, DEFAULT_TIMEOUT),
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            allow_unlisted_models=allow_unlisted_models,
            download_timeout=as_timeout(download_timeout, DEFAULT_DOWNLOAD_TIMEOUT),
            max_download_bytes=max_download_bytes,
            default_headers=tuple((default_headers or {}).items()),
        )

    def replace(self, **changes: Any) -> ClientConfig:
        if "api_key" in changes and not isinstance(changes["api_key"], (Secret, type(None))):
            changes["api_key"] = Secret(changes["api_key"])
        for name, default in (("timeout", DEFAULT_TIMEOUT), ("download_timeout", DEFAULT_DOWNLOAD_TIMEOUT)):
            if name in changes:
                changes[name] = as_timeout(changes[name], default)
        if "base_url" in changes:
            changes["base_url"] = str(changes["base_url"]).rstrip("/")
        if "default_headers" in changes and isinstance(changes["default_headers"], dict):
            changes["default_headers"] = tuple(changes["default_headers"].items())
        return replace(self, **changes)

    @property
    def is_local(self) -> bool:
        """True when the base URL points at this machine or a private network."""
        return is_local_host(urlsplit(self.base_url).hostname or "")

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def require_key(self) -> str:
        if self.api_key is None:
            raise AuthenticationError(
                f"No API key: set the {API_KEY_ENV} environment variable or pass api_key=...",
                hint="For offline work run `milady serve` and point MILADY_BASE_URL at it.",
            )
        return self.api_key.get_secret_value()

    def headers(self) -> dict[str, str]:
        key = self.require_key()
        headers = {
            "Authorization": f"Bearer {key}",
            "X-API-Key": key,
            "User-Agent": f"milady-integrations/{__version__} httpx/{httpx.__version__}",
            "Accept": "application/json",
        }
        headers.update(self.default_headers)
        return headers
