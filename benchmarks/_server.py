"""A server in its own process, so a benchmark's client and server do not share one GIL.

``python benchmarks/_server.py [--cheap | --plain]`` prints the base URL and key on one
line, then serves until stdin closes.

- default: the LocalServer, really drawing every picture.
- ``--cheap``: the LocalServer drawing each distinct picture once and serving the same
  bytes again (the HTTP contract is unchanged), for benchmarks of fan-out timing.
- ``--plain``: a standard-library ``ThreadingHTTPServer`` with canned JSON answers for
  generate-image and the credits balance; its own cost per request is tiny, so a client
  benchmark against it measures the client.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

PLAIN_KEY = "bench-key"


class _PlainHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, Content-Length, canned answers (what the service answers, in shape)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body are two writes: no wait for a delayed ACK
    answers: ClassVar[dict[tuple[str, str], bytes]] = {}

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = self.answers.get((method, self.path))
        status = 200 if body is not None else 404
        if body is None:
            body = b'{"error": "not found"}'
        elif self.headers.get("X-API-Key") != PLAIN_KEY:
            status, body = 401, b'{"error": "Invalid API key"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", "req-bench-1")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_plain() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PlainHandler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    image = {"url": f"{base_url}/images/1.webp", "text": "", "mimeType": "image/webp", "fileSize": 2048}
    _PlainHandler.answers = {
        ("POST", "/api/v1/generate-image"): json.dumps({"images": [image], "numImages": 1}).encode(),
        ("GET", "/api/v1/credits/balance"): json.dumps({"balance": 1234.5}).encode(),
    }
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(base_url, PLAIN_KEY, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.shutdown()


def make_cheap() -> None:
    """Memoise drawing and encoding inside the server's app module."""
    from milady_integrations.local import _app as app_module

    draw = app_module.draw_picture
    encode = app_module.encode_webp
    encoded: dict[int, tuple[Any, bytes]] = {}

    @functools.lru_cache(maxsize=256)
    def cached_draw(**kwargs: Any) -> Any:
        return draw(**kwargs)

    def cached_encode(image: Any, quality: int = 80) -> bytes:
        hit = encoded.get(id(image))
        if hit is None or hit[0] is not image:
            hit = encoded[id(image)] = (image, encode(image, quality))
        return hit[1]

    app_module.draw_picture = cached_draw  # type: ignore[assignment]
    app_module.encode_webp = cached_encode  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser()
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--cheap", action="store_true")
    kind.add_argument("--plain", action="store_true")
    args = parser.parse_args()
    if args.plain:
        serve_plain()
        return
    from milady_integrations.local import LocalServer, ServerConfig

    if args.cheap:
        make_cheap()
    config = ServerConfig(rate_limit=1_000_000_000, initial_credits=1e12)
    with LocalServer(config) as server:
        print(server.base_url, server.api_key, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


if __name__ == "__main__":
    main()
