"""Lazily made clients, shared by the tools of one toolkit (the core's async client follows event loops)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from milady_integrations import AsyncMiladyClient, MiladyClient


class ClientPool:
    """The clients a tool uses: the ones passed in, else ones made on first use (and closed by us)."""

    def __init__(
        self,
        options: Callable[[], dict[str, Any]],
        client: MiladyClient | None = None,
        async_client: AsyncMiladyClient | None = None,
    ) -> None:
        self._options = options
        self._given = (client, async_client)
        self._made: dict[type, Any] = {}
        self._lock = threading.Lock()

    @property
    def only_async_given(self) -> bool:
        return self._given[1] is not None and self._given[0] is None

    @property
    def only_sync_given(self) -> bool:
        return self._given[0] is not None and self._given[1] is None

    def _get(self, given: Any, cls: type) -> Any:
        if given is not None:
            return given
        with self._lock:
            if cls not in self._made:
                self._made[cls] = cls(**self._options())
            return self._made[cls]

    def sync(self) -> MiladyClient:
        return self._get(self._given[0], MiladyClient)  # type: ignore[no-any-return]

    def async_(self) -> AsyncMiladyClient:
        return self._get(self._given[1], AsyncMiladyClient)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the sync client we made (clients passed in are the caller's to close)."""
        with self._lock:
            made = self._made.pop(MiladyClient, None)
        if made is not None:
            made.close()

    async def aclose(self) -> None:
        """Close every client we made."""
        self.close()
        with self._lock:
            made = self._made.pop(AsyncMiladyClient, None)
        if made is not None:
            await made.aclose()
