"""Running the app: in a background thread for tests and demos, or in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

from ._app import LocalApp, create_app
from ._faults import Faults
from ._state import ServerConfig, ServerStats
from ._uvicorn import Server, listening_socket


class LocalServer:
    """A local Milady-compatible server on loopback, in a background thread: ``with LocalServer() as
    server:`` starts it on a free port and waits until it answers; leaving the block stops it."""

    def __init__(self, config: ServerConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 log_level: str = "warning") -> None:
        self.config = config or ServerConfig()
        self.app: LocalApp = create_app(self.config)
        self.host, self._requested_port, self._log_level = host, port, log_level
        self._port: int | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalServer:
        if self._thread is not None:
            raise RuntimeError("this LocalServer is already running")
        sock = listening_socket(self.host, self._requested_port)
        self._port = sock.getsockname()[1]
        server = self._server = Server(self.app, self.app.local.stopping, self._log_level, embedded=True)
        thread = self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                                 name=f"milady-local-{self._port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server = self._thread = None
                sock.close()
                raise RuntimeError(f"the local server did not start on {self.host}:{self._port}")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.request_stop()
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> LocalServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the local server is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:  # a key this server accepts
        return self.config.local_key

    @property
    def stats(self) -> ServerStats:  # a snapshot: take one before and one after to compare
        return self.app.local.stats()

    @property
    def faults(self) -> Faults:  # live: changes apply to the next request
        return self.config.faults

    @property
    def requests(self) -> list[dict[str, object]]:
        """The last generate requests that passed the body checks, newest first (``GET /_local/requests``)."""
        return self.app.local.recent()

    def set_credits(self, key: str, amount: float) -> None:
        self.app.local.balance(key, amount)

    def credits(self, key: str) -> float:
        return self.app.local.balance(key)

    def reset(self) -> None:
        """Clear faults, counters, rate-limit windows and the request log (balances, images, gallery stay)."""
        self.app.local.reset()

    def __repr__(self) -> str:
        return f"LocalServer({self.base_url if self._port is not None else 'not started'})"


def serve(host: str = "127.0.0.1", port: int = 8787, config: ServerConfig | None = None, *,
          log_level: str = "info", ready: Callable[[], None] | None = None) -> None:
    """Run a local server in the foreground until Ctrl-C (``ready`` once the port is bound, else OSError)."""
    sock = listening_socket(host, port)
    app = create_app(config)
    server = Server(app, app.local.stopping, log_level, embedded=False)
    if ready is not None:
        ready()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the signal after a clean stop
        server.run(sockets=[sock])
