"""Running the app: in a background thread for tests and demos, or in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from types import FrameType, TracebackType

import uvicorn

from ._app import LocalApp, create_app
from ._config import ServerConfig
from ._faults import Faults
from ._stats import ServerStats

_START_TIMEOUT = 10.0


class _Uvicorn(uvicorn.Server):
    """uvicorn that also ends stalled answers (latency, "hang") when asked to stop."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event) -> None:
        super().__init__(config)
        self._stopping = stopping

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._stopping.set()
        super().handle_exit(sig, frame)

    async def main_loop(self) -> None:
        # uvicorn polls every 0.1 s; waking on request makes stop() (and test suites) faster.
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def request_stop(self) -> None:
        """Ask the server to stop, from any thread."""
        self._stopping.set()
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop just closed
                loop.call_soon_threadsafe(wake.set)


class LocalServer:
    """A local Milady-compatible server on loopback, in a background thread.

    ``with LocalServer() as server:`` starts it on a free port and waits until it
    answers; leaving the block stops it and joins its threads.
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
    ) -> None:
        self.config = config or ServerConfig()
        self.app: LocalApp = create_app(self.config)
        self.host = host
        self._requested_port = port
        self._log_level = log_level
        self._port: int | None = None
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> LocalServer:
        if self._thread is not None:
            raise RuntimeError("this LocalServer is already running")
        # Bind here, so the port is known (and taken) before uvicorn starts.
        # IPPROTO_TCP, not 0: asyncio turns on TCP_NODELAY only for sockets that say TCP, and
        # without it every answer waits ~40 ms for a delayed ACK (headers and body are two writes).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,  # embedded: leave the host application's logging alone
            log_level=self._log_level,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self.app.local.stopping.clear()
        server = _Uvicorn(config, self.app.local.stopping)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"milady-local-{self._port}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server = self._thread = None
                sock.close()
                raise RuntimeError(f"the local server did not start on {self.host}:{self._port}")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.request_stop()
        thread.join(timeout=_START_TIMEOUT)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> LocalServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    # ------------------------------------------------------------ what tests use

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the local server is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:
        """A key this server accepts."""
        return self.config.local_key

    @property
    def stats(self) -> ServerStats:
        """A snapshot of the counters (take one before and one after to compare)."""
        return self.app.local.stats()

    @property
    def faults(self) -> Faults:
        """The live faults: changes apply to the next request."""
        return self.config.faults

    def set_credits(self, key: str, amount: float) -> None:
        self.app.local.ledger.set(key, amount)

    def credits(self, key: str) -> float:
        return self.app.local.ledger.balance(key)

    def reset(self) -> None:
        """Clear faults, counters and rate-limit windows (balances and images stay)."""
        self.config.faults.clear()
        self.app.local.counters.reset()
        self.app.local.limiter.reset()

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "not started"
        return f"LocalServer({where})"


def serve(
    host: str = "127.0.0.1", port: int = 8787, config: ServerConfig | None = None, *, log_level: str = "info"
) -> None:
    """Run a local server in the foreground until Ctrl-C; then return normally."""
    app = create_app(config)
    uv_config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, lifespan="off", timeout_graceful_shutdown=2
    )
    # uvicorn re-raises the signal after a clean shutdown; the caller asked to stop, so return.
    with contextlib.suppress(KeyboardInterrupt):
        _Uvicorn(uv_config, app.local.stopping).run()
