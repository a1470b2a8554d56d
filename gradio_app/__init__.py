"""Milady image generation for Gradio: a block for any app, and a standalone demo.

import gradio as gr
from gradio_app import milady_image_block

with gr.Blocks() as demo:
    block = milady_image_block()      # key from MILADY_API_KEY, kept on the server
demo.launch()
"""

from __future__ import annotations

from ._handler import to_gradio_error
from .block import MiladyImageBlock, milady_image_block
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
