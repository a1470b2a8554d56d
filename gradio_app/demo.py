"""The standalone demo (``milady demo``). With no key and no service URL, the built-in local server serves
it for as long as the app exists, and the page says the images are drawn locally, not by a model."""

from __future__ import annotations

import html
import os
import sys
import time
import weakref
from contextlib import ExitStack
from typing import Any

import gradio as gr

from milady_integrations import AsyncMiladyClient
from milady_integrations.access import OperatorLimits, Payer
from milady_integrations.calls import FACE_OPTIONS
from milady_integrations.local import LocalServer
from milady_integrations.offline import DRAWN_LOCALLY, Endpoint, service_or_local

from .block import milady_image_block

__all__ = ["BANNER_ELEM_ID", "close_demo", "create_demo", "demo_endpoint", "launch_demo"]

BANNER_ELEM_ID = "milady-local-banner"
TITLE = "Milady image generation"
#: Said when visitors without a key of their own are served by the local server.
VISITOR_BANNER = f"Without a Milady Cloud key of your own, {DRAWN_LOCALLY}. Enter your key to use Milady Cloud."
# The page's own font at its regular weight: Gradio ships its semi-bold face as a small
# subset, so semi-bold text falls back to another font glyph by glyph.
_BANNER_HTML = (
    '<div role="status" style="padding:10px 14px;border-radius:8px;border:1px solid #f59e0b;'
    'background:#fffbeb;color:#78350f;font-weight:400;font-family:var(--font)">⚠️ {text}</div>'
)

# What each demo keeps alive (the local server) and where it sends requests; released by close_demo() or when collected.
_running: weakref.WeakKeyDictionary[gr.Blocks, tuple[ExitStack, Endpoint | None]] = weakref.WeakKeyDictionary()


def create_demo(
    client: AsyncMiladyClient | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    pays: Payer = "server",
    limits: OperatorLimits | None = None,
) -> gr.Blocks:
    """Build the app. With ``pays="visitor"`` (or no key of the server's to lend), visitors who give no key
    are served by the local server, and the page says so."""
    stack = ExitStack()
    endpoint: Endpoint | None = None
    fallback: AsyncMiladyClient | None = None
    if pays != "server":
        client = client or AsyncMiladyClient(api_key=api_key, base_url=base_url, **FACE_OPTIONS)
        if pays == "visitor" or not client.has_api_key:
            server = stack.enter_context(LocalServer())
            fallback = AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url)
            endpoint = Endpoint(server.api_key, server.base_url, local=True)
    elif client is None:
        endpoint = stack.enter_context(service_or_local(api_key=api_key, base_url=base_url))
        client = AsyncMiladyClient(api_key=endpoint.api_key, base_url=endpoint.base_url, **FACE_OPTIONS)
    banner = (VISITOR_BANNER if fallback else endpoint.banner) if endpoint is not None else None
    try:
        with gr.Blocks(title=TITLE) as demo:
            gr.Markdown(f"# {TITLE}")
            if banner:
                # HTML, not Markdown: the variable names' underscores must not turn into italics.
                gr.HTML(_BANNER_HTML.format(text=html.escape(banner)), elem_id=BANNER_ELEM_ID)
            if pays != "server" and os.environ.get("OAUTH_CLIENT_ID"):
                # A Space with `hf_oauth: true`: signed-in visitors are counted by login, not address.
                gr.LoginButton()
            milady_image_block(client, pays=pays, limits=limits, fallback=fallback)
    except BaseException:
        stack.close()
        raise
    _running[demo] = (stack, endpoint)
    weakref.finalize(demo, stack.close)
    return demo  # type: ignore[no-any-return]


def demo_endpoint(demo: gr.Blocks) -> Endpoint | None:
    """Where a demo built without ``client`` sends requests (``.local``: the built-in server)."""
    return _running.get(demo, (None, None))[1]


def close_demo(demo: gr.Blocks) -> None:
    """Stop the app's server and the local server it started, if any."""
    demo.close()
    stack, _ = _running.pop(demo, (None, None))
    if stack is not None:
        stack.close()


def launch_demo(host: str = "127.0.0.1", port: int = 7860, share: bool = False, **launch_kwargs: Any) -> None:
    """Build and serve the demo until Ctrl+C, which closes it and raises KeyboardInterrupt; loopback by default."""
    demo = create_demo()
    endpoint = demo_endpoint(demo)
    if endpoint is not None and endpoint.banner:
        # Said in the terminal too: whoever launched it may never look at the page's banner.
        print(f"NOTE: {endpoint.banner}", file=sys.stderr, flush=True)
    try:
        # Our own wait, not Gradio's: its wait swallows Ctrl+C and returns as if all went well.
        demo.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=True, **launch_kwargs)
        while demo.is_running:
            time.sleep(0.2)
    finally:
        close_demo(demo)
