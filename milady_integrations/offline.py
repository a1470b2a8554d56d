"""The embedded default: with no key, run against an in-process local server, and say so.

The client itself never falls back silently; entry points that want the offline
default (``milady generate``, ``milady demo``) ask for it here and show the banner.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ._config import API_KEY_ENV, BASE_URL_ENV
from .errors import MiladyError

#: Said wherever a URL of the in-process server is shown: it stops when the command ends.
TEMPORARY_URLS_NOTE = (
    "the image URLs are those of the built-in local server, which stopped when this command ended: "
    "they no longer work; the images themselves are in the files"
)

#: What every face says of the local server's pictures, so that no one takes them for a model's.
DRAWN_LOCALLY = "images are drawn locally by the built-in Milady-compatible server, not by a model"
LOCAL_BANNER = f"No {API_KEY_ENV} set: {DRAWN_LOCALLY}. Set {API_KEY_ENV} to use Milady Cloud."


@dataclass(frozen=True)
class Endpoint:
    """Where to send requests: the configured service, or a local server started for us."""

    api_key: str | None = field(repr=False)
    base_url: str | None
    local: bool

    @property
    def banner(self) -> str | None:
        return LOCAL_BANNER if self.local else None


@contextmanager
def service_or_local(api_key: str | None = None, base_url: str | None = None) -> Iterator[Endpoint]:
    """Yield the configured endpoint; with no key and no base URL at all, a local server.

    A base URL without a key is respected (it may be a `milady serve` that the user
    started); the client then asks for a key before sending anything.
    """
    key = api_key or os.environ.get(API_KEY_ENV) or None
    url = base_url or os.environ.get(BASE_URL_ENV) or None
    if key or url:
        yield Endpoint(api_key=key, base_url=url, local=False)
        return
    try:
        from .local import LocalServer
    except ImportError as exc:  # pragma: no cover - only a broken install lacks its dependencies
        raise MiladyError(
            f"No {API_KEY_ENV} is set and the built-in local server cannot start ({exc})",
            hint="Reinstall the project (pip install .), or set your key.",
        ) from None
    with LocalServer() as server:
        yield Endpoint(api_key=server.api_key, base_url=server.base_url, local=True)
