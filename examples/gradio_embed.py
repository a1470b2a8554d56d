"""Milady image generation inside your own Gradio app, beside your own components.

    python examples/gradio_embed.py        # no MILADY_API_KEY: the built-in local server draws

The block adds its inputs, buttons and gallery where it is called and returns them,
so the host wires its own events: here a moodboard collects every image generated.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from gradio_app import milady_image_block
from milady_integrations import AsyncMiladyClient
from milady_integrations.offline import service_or_local


def build_app(client: AsyncMiladyClient) -> gr.Blocks:
    with gr.Blocks(title="Moodboard") as app:
        gr.Markdown("# Moodboard\nGenerate images, then keep the ones you like on the board.")
        project = gr.Textbox(label="Project", value="Autumn campaign")

        block = milady_image_block(client, examples=["A cosy reading nook, warm autumn light"])

        with gr.Row():
            board = gr.Gallery(label="Board", columns=6, height=240)
            notes = gr.Markdown()

        def pin(project_name: str, board_items: list[Any] | None, new_items: list[Any] | None) -> tuple[Any, str]:
            # Gallery values arrive as (path, caption) pairs; keep every image generated so far.
            pinned = [item[0] for item in board_items or []] + [item[0] for item in new_items or []]
            return pinned, f"**{project_name}**: {len(pinned)} image(s) on the board"

        # The host's own step after each generation; it runs only when generation succeeded.
        block.event.success(pin, [project, board, block.gallery], [board, notes], api_visibility="private")
    return app


def main() -> None:
    with service_or_local() as endpoint:
        if endpoint.banner:
            print(f"NOTE: {endpoint.banner}")
        app = build_app(AsyncMiladyClient(api_key=endpoint.api_key, base_url=endpoint.base_url))
        app.launch(server_name="127.0.0.1")  # blocks; the local server lives until Ctrl+C


if __name__ == "__main__":
    main()
