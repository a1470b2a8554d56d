"""A local server in its own process, so a benchmark's client and server do not share one GIL.

``python benchmarks/_server.py [--cheap]`` prints the base URL and key on one line, then
serves until stdin closes. ``--cheap`` draws each distinct picture once and serves the
same bytes again (the HTTP contract is unchanged): client benchmarks then measure the
client, not the local server's drawing.
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from milady_integrations.local import LocalServer, ServerConfig
from milady_integrations.local import _app as app_module


def make_cheap() -> None:
    """Memoise drawing and encoding inside the server's app module."""
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
    parser.add_argument("--cheap", action="store_true")
    args = parser.parse_args()
    if args.cheap:
        make_cheap()
    config = ServerConfig(rate_limit=1_000_000_000, initial_credits=1e12)
    with LocalServer(config) as server:
        print(server.base_url, server.api_key, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


if __name__ == "__main__":
    main()
