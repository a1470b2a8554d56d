"""``milady mcp``: stdio for desktop hosts, or streamable HTTP at /mcp for callers with their own keys."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from milady_integrations._config import RECOVER_FOR
from milady_integrations.access import KeyPolicy, OperatorLimits
from milady_integrations.offline import service_or_local

from .server import DEFAULT_MAX_IMAGE_CHARS, Settings, build_server


def run(
    *,
    http: bool = False,
    host: str = "127.0.0.1",
    port: int = 8000,
    serve_without_key: bool = False,
    caller_images_per_hour: int = 20,
    app_images_per_hour: int = 200,
    urls_only: bool = False,
    max_image_chars: int = DEFAULT_MAX_IMAGE_CHARS,
    recover_for: float = RECOVER_FOR,
    err: TextIO | None = None,
) -> None:
    """Serve until stopped. With no key and no service URL, on an in-process local server."""
    err = err or sys.stderr  # stdout carries the protocol over stdio
    # One plain line per record (the SDK's default wraps lines to a terminal's width).
    logging.basicConfig(stream=err, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with service_or_local() as endpoint:
        if endpoint.banner:
            print(f"NOTE: {endpoint.banner}", file=err, flush=True)
        policy = KeyPolicy(
            endpoint.api_key,
            local=endpoint.local,
            serve_others=serve_without_key,
            limits=OperatorLimits(per_caller=caller_images_per_hour, per_app=app_images_per_hour),
            how="header" if http else "environment",
        )
        settings = Settings(
            policy,
            endpoint.base_url,
            remote=http,
            urls_only=urls_only,
            max_image_chars=max_image_chars,
            recover_for=recover_for,
        )
        server = build_server(settings)
        if not http:
            server.run()
            return
        lending = (
            f"callers without X-API-Key use this server's key, at most {caller_images_per_hour} images per "
            f"caller and {app_images_per_hour} in all per hour"
            if serve_without_key and not endpoint.local
            else "each caller sends its own Milady key in X-API-Key"
        )
        print(f"MCP server on http://{host}:{port}/mcp ({lending})", file=err, flush=True)
        server.run("streamable-http", host=host, port=port, streamable_http_path="/mcp")
