"""Lazily made clients, shared by the tools of one toolkit.

An async client is tied to the event loop it first ran on, and agents may run a
tool on several loops (``asyncio.run`` per turn, notebooks, worker threads), so
the async client we own is remade when the running loop changes.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Any

from milady_integrations import AsyncMiladyClient, MiladyClient

ClientOptions = Callable[[], dict[str, Any]]


class ClientPool:
    """The clients a tool uses: the ones passed in, else ones made on first use."""

    def __init__(
        self,
        options: ClientOptions,
        client: MiladyClient | None = None,
        async_client: AsyncMiladyClient | None = None,
    ) -> None:
        self._options = options
        self._given_sync = client
        self._given_async = async_client
        self._sync: MiladyClient | None = None
        self._async: AsyncMiladyClient | None = None
        self._async_loop: weakref.ref[asyncio.AbstractEventLoop] | None = None
        self._lock = threading.Lock()

    @property
    def only_async_given(self) -> bool:
        return self._given_async is not None and self._given_sync is None

    @property
    def only_sync_given(self) -> bool:
        return self._given_sync is not None and self._given_async is None

    def sync(self) -> MiladyClient:
        if self._given_sync is not None:
            return self._given_sync
        with self._lock:
            if self._sync is None:
                self._sync = MiladyClient(**self._options())
            return self._sync

    def async_(self) -> AsyncMiladyClient:
        if self._given_async is not None:
            return self._given_async
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._async is None or self._async_loop is None or self._async_loop() is not loop:
                # The old client's connections belong to a loop that is gone or elsewhere.
                self._async = AsyncMiladyClient(**self._options())
                self._async_loop = weakref.ref(loop)
            return self._async

    def close(self) -> None:
        """Close the sync client we made (clients passed in are the caller's to close)."""
        with self._lock:
            sync, self._sync = self._sync, None
        if sync is not None:
            sync.close()

    async def aclose(self) -> None:
        """Close every client we made."""
        self.close()
        with self._lock:
            made, self._async = self._async, None
            made_on, self._async_loop = self._async_loop, None
        # A client made on another loop cannot be closed from this one; it is dropped.
        if made is not None and made_on is not None and made_on() is asyncio.get_running_loop():
            await made.aclose()
