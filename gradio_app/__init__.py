"""Milady image generation for Gradio: ``milady_image_block()`` for any app, and a standalone demo (see the README)."""

from __future__ import annotations

from .block import MiladyImageBlock, milady_image_block, to_gradio_error
from .demo import close_demo, create_demo, demo_endpoint, launch_demo

__all__ = [
    "MiladyImageBlock",
    "close_demo",
    "create_demo",
    "demo_endpoint",
    "launch_demo",
    "milady_image_block",
    "to_gradio_error",
]
