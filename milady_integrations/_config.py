"""Client configuration: where the key, base URL and limits come from."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict
from urllib.parse import urlsplit

import httpx
from typing_extensions import Unpack

from ._version import __version__
from .errors import AuthenticationError
from .images import is_local_host

DEFAULT_BASE_URL = "https://cloud.milady.ai"
API_KEY_ENV = "MILADY_API_KEY"
BASE_URL_ENV = "MILADY_BASE_URL"
#: Where the service's endpoints live; a base URL given with it is accepted and trimmed.
API_PREFIX = "/api/v1"
#: What a missing key means, in plain text (it shows in a terminal and in a browser toast alike).
NO_KEY_MESSAGE = f"No API key: set the {API_KEY_ENV} environment variable to your Milady Cloud key"
#: How to work with no key at all: the local server, and which key it takes.
OFFLINE_HINT = (
    f"To work offline, run: milady serve. It prints the {BASE_URL_ENV} and {API_KEY_ENV} to set; "
    "it accepts any key unless it was started with --api-key."
)
LOCAL_KEY_HINT = (
    f"This URL is on this machine, so it is probably a local server (milady serve): set {API_KEY_ENV} "
    "to the key it printed when it started (it accepts any key unless it was started with --api-key)."
)

#: The service may take up to 180 s; our read timeout sits above that.
DEFAULT_TIMEOUT = httpx.Timeout(200.0, connect=10.0, pool=30.0)
DEFAULT_DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_WAIT = 60.0
#: How long the faces look in the gallery for what a failure that may have run made.
RECOVER_FOR = 30.0
DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
_USER_AGENT = f"milady-integrations/{__version__} httpx/{httpx.__version__}"


class Secret:
    """A string that never shows itself in a repr, a log line or an f-string.

    Not a dataclass: ``dataclasses.asdict`` of a config would copy a dataclass's fields out.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def as_timeout(value: float | httpx.Timeout | None, default: httpx.Timeout) -> httpx.Timeout:
    if value is None:
        return default
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(float(value), connect=min(10.0, float(value)))


class ClientOptions(TypedDict, total=False):
    """What ``MiladyClient(...)`` and ``with_options(...)`` take besides the key and URL (see ClientConfig)."""

    timeout: float | httpx.Timeout | None
    max_retries: int
    max_retry_wait: float
    retry_rate_limits: bool
    allow_unlisted_models: bool
    download_timeout: float | httpx.Timeout | None
    max_download_bytes: int
    default_headers: Mapping[str, str] | None
    jitter: Callable[[], float]
    recover_for: float
    check_models: bool


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs to build and retry requests; immutable, checked on every change.

    Build it with :meth:`from_env` (the key and URL default to the environment); ``replace``
    runs the same checks, so ``with_options(base_url="ftp://x")`` fails as the constructor does.
    """

    api_key: Secret | None
    base_url: str = DEFAULT_BASE_URL
    #: Seconds (or an httpx.Timeout) to wait for the service; above its 180 s limit by default.
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    #: Retries of failures that provably did nothing (see ``_flow.retry_delay``).
    max_retries: int = DEFAULT_MAX_RETRIES
    #: The longest Retry-After a 429 may ask for and still be waited out.
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT
    #: False: a 429 is raised at once, for a caller that paces every request itself (``milady batch``).
    retry_rate_limits: bool = True
    allow_unlisted_models: bool = False
    download_timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_DOWNLOAD_TIMEOUT)
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    default_headers: tuple[tuple[str, str], ...] = ()
    #: Source of the retry backoff's jitter, in [0, 1); a seam that makes waits deterministic.
    jitter: Callable[[], float] = field(default=random.random, compare=False)
    #: Seconds to look in the gallery for what a generation that may have run made (a timeout, a
    #: 502/504, a catch-all 500) before raising, so a paid image is not lost; 0 raises at once.
    recover_for: float = 0.0
    #: Ask the service (cached for minutes) whether the model works before sending; the result notes it.
    check_models: bool = False

    def __post_init__(self) -> None:
        # Normalised here, once, for the constructor and for every ``replace``.
        key = self.api_key
        if isinstance(key, str):
            key = Secret(key.strip()) if key.strip() else None
        set_ = object.__setattr__
        set_(self, "api_key", key)
        url = str(self.base_url).rstrip("/")
        # The service's paths start with /api/v1: a URL copied from its docs ends with it too.
        if url.endswith(API_PREFIX):
            url = url[: -len(API_PREFIX)]
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url={url!r} must start with http:// or https://")
        set_(self, "base_url", url)
        set_(self, "timeout", as_timeout(self.timeout, DEFAULT_TIMEOUT))
        set_(self, "download_timeout", as_timeout(self.download_timeout, DEFAULT_DOWNLOAD_TIMEOUT))
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"max_retries={self.max_retries!r} must be 0 or more (a whole number)")
        if self.max_download_bytes <= 0:
            raise ValueError(f"max_download_bytes={self.max_download_bytes!r} must be positive")
        headers = self.default_headers or ()
        set_(self, "default_headers", tuple(dict(headers).items()) if isinstance(headers, Mapping) else tuple(headers))

    @classmethod
    def from_env(
        cls, api_key: str | None = None, base_url: str | None = None, **options: Unpack[ClientOptions]
    ) -> ClientConfig:
        """A config whose key and URL default to MILADY_API_KEY and MILADY_BASE_URL."""
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        given = {name: value for name, value in options.items() if value is not None}
        return cls(api_key=key, base_url=url, **given)  # type: ignore[arg-type]

    from_arguments = from_env

    def replace(self, **changes: Any) -> ClientConfig:
        return replace(self, **changes)

    @property
    def is_local(self) -> bool:
        """True when the base URL points at this machine or a private network."""
        return is_local_host(urlsplit(self.base_url).hostname or "")

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def require_key(self) -> str:
        if self.api_key is None:
            raise AuthenticationError(NO_KEY_MESSAGE, hint=LOCAL_KEY_HINT if self.is_local else OFFLINE_HINT)
        return self.api_key.get_secret_value()

    def headers(self, *, auth: bool = True) -> dict[str, str]:
        """Request headers; with ``auth`` the key in both headers the service reads (it must be set)."""
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if auth:
            key = self.require_key()
            headers.update({"Authorization": f"Bearer {key}", "X-API-Key": key})
        headers.update(self.default_headers)
        return headers


if set(ClientOptions.__annotations__) != set(ClientConfig.__dataclass_fields__) - {"api_key", "base_url"}:
    raise RuntimeError("ClientOptions must name exactly ClientConfig's options")
