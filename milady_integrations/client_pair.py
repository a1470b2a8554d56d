"""One connection pool per face (a LangChain toolkit, the MCP server) for its whole life: the clients it was
given, else ones made on first use. A call with another key uses ``with_options``, which keeps the pool."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .client import AsyncMiladyClient, ClientT, MiladyClient

__all__ = ["ClientPair"]


class ClientPair:
    """A sync and an async client: ``given`` ones used as they are, else made from ``options()`` once."""

    def __init__(
        self,
        options: Callable[[], dict[str, Any]],
        given: MiladyClient | None = None,
        given_async: AsyncMiladyClient | None = None,
    ) -> None:
        self._options = options
        self.given, self.given_async = given, given_async
        self._made: dict[type, Any] = {}
        self._lock = threading.Lock()  # two threads asking at once still share one pool

    def _get(self, given: ClientT | None, cls: type[ClientT]) -> ClientT:
        if given is not None:
            return given
        with self._lock:
            if cls not in self._made:
                self._made[cls] = cls(**self._options())
            return self._made[cls]  # type: ignore[no-any-return]

    def sync(self) -> MiladyClient:
        return self._get(self.given, MiladyClient)

    def async_(self) -> AsyncMiladyClient:
        return self._get(self.given_async, AsyncMiladyClient)

    def _pop(self, cls: type[ClientT]) -> ClientT | None:
        with self._lock:
            return self._made.pop(cls, None)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the sync client made here (the async one needs ``aclose``); never one that was given."""
        made = self._pop(MiladyClient)
        if made is not None:
            made.close()

    async def aclose(self) -> None:
        self.close()
        made = self._pop(AsyncMiladyClient)
        if made is not None:
            await made.aclose()
