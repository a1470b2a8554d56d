"""The one place that reaches into uvicorn's internals, each for a reason given below.

uvicorn has no public API for these three things; if a uvicorn release changes them,
only this module needs to follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any

import uvicorn


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound before uvicorn starts, so the port is known (and taken) at once. IPPROTO_TCP, not 0:
    asyncio turns TCP_NODELAY on only for sockets that say TCP; without it every answer waits ~40 ms
    for a delayed ACK (headers and body are two writes)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


async def drop_connection(send: Any) -> None:
    """Break the connection of the request that ``send`` (uvicorn's own ASGI send) belongs to: an ASGI
    app can only answer cleanly; ``send`` is a method of uvicorn's per-request cycle, which holds the transport."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:  # not under uvicorn: an exception mid-answer also breaks the reply
        raise ConnectionAbortedError("connection dropped on purpose (local server fault)")
    transport.close()
    for _ in range(200):  # let uvicorn notice, so it does not try to answer 500 itself
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0.005)


class Server(uvicorn.Server):
    """uvicorn that stops at once when asked, from any thread, and tells stalled answers to end: its main
    loop polls ``should_exit`` every 0.1 s; ``main_loop`` also wakes on ``request_stop`` (milliseconds)."""

    def __init__(self, app: Any, stopping: threading.Event, log_level: str, *, embedded: bool) -> None:
        # Embedded: log_config=None leaves the host application's logging alone, and no access log.
        extra: dict[str, Any] = {"log_config": None, "access_log": False} if embedded else {}
        super().__init__(uvicorn.Config(app, log_level=log_level, lifespan="off", timeout_graceful_shutdown=2, **extra))
        self.stopping = stopping
        stopping.clear()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.stopping.set()
        super().handle_exit(sig, frame)

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def request_stop(self) -> None:
        self.stopping.set()
        self.should_exit = True
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop just closed
                self._loop.call_soon_threadsafe(self._wake.set)
