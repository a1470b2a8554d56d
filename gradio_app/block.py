"""``milady_image_block()``: Milady image generation as a piece of any Gradio app.

Called inside the host's ``with gr.Blocks():``; it adds its components to the page
being built (never a Blocks of its own rendered into another: Gradio 6 would
duplicate it) and returns them so the host can wire its own events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.context import get_blocks_context
from gradio.events import Dependency
from gradio.utils import append_unique_suffix

from milady_integrations import AsyncMiladyClient, MiladyError
from milady_integrations.request import FIELDS

from . import _handler
from ._choices import EXAMPLE_PROMPTS, choices
from .errors import to_gradio_error

__all__ = ["MiladyImageBlock", "milady_image_block"]

#: Events of every block share this queue group: they spend the same account's rate limit.
CONCURRENCY_ID = "milady-generate"


@dataclass(frozen=True)
class MiladyImageBlock:
    """The components one ``milady_image_block()`` call added, and its Generate event."""

    prompt: gr.Textbox
    model: gr.Dropdown
    aspect_ratio: gr.Dropdown
    style_preset: gr.Dropdown
    num_images: gr.Slider
    source_image: gr.Image
    generate_button: gr.Button
    stop_button: gr.Button
    gallery: gr.Gallery
    text: gr.Textbox
    #: The Generate event: chain host steps with ``block.event.then(...)``.
    event: Dependency
    #: The API route without its slash, e.g. ``"generate"`` or ``"generate_1"``.
    api_name: str

    @property
    def inputs(self) -> list[gr.components.Component]:
        """The inputs in the API's argument order (see ``FIELDS``)."""
        return [self.prompt, self.model, self.aspect_ratio, self.style_preset, self.num_images, self.source_image]

    @property
    def outputs(self) -> list[gr.components.Component]:
        return [self.gallery, self.text]


def _unique_api_name(name: str) -> str:
    context = get_blocks_context()
    if context is None:
        raise RuntimeError("milady_image_block() adds components to a page: call it inside `with gr.Blocks():`")
    taken = [fn.api_name for fn in context.fns.values() if isinstance(fn.api_name, str)]
    return str(append_unique_suffix(name, taken))


def milady_image_block(
    client: AsyncMiladyClient | None = None,
    *,
    name: str = "generate",
    examples: Sequence[str] | None = EXAMPLE_PROMPTS,
    concurrency_limit: int | None = 4,
    show_source_image: bool = True,
    gallery_columns: int = 2,
) -> MiladyImageBlock:
    """Add prompt, settings, Generate/Stop buttons, a gallery and the service's text.

    ``client``: an ``AsyncMiladyClient``; by default one configured from MILADY_API_KEY
    and MILADY_BASE_URL. The key stays in this process: nothing on the page holds it.
    ``name``: the API route (``/generate``); a second block gets ``/generate_1``, and
    element ids follow it (``milady-generate-prompt``, ``milady-generate_1-prompt``).
    ``concurrency_limit``: generations running at once, over all blocks of the app.
    """
    api_name = _unique_api_name(name)
    the_client = client if client is not None else AsyncMiladyClient()

    def elem_id(part: str) -> str:
        return f"milady-{api_name}-{part}"

    with gr.Row(equal_height=False, elem_id=elem_id("block")):
        with gr.Column(scale=2, min_width=320):
            prompt = gr.Textbox(
                label=FIELDS["prompt"].label,
                info=FIELDS["prompt"].description,
                placeholder=EXAMPLE_PROMPTS[0],
                lines=3,
                elem_id=elem_id("prompt"),
            )
            model = gr.Dropdown(
                choices("model"),
                value=FIELDS["model"].default,
                label=FIELDS["model"].label,
                info=FIELDS["model"].description,
                elem_id=elem_id("model"),
            )
            with gr.Row():
                aspect_ratio = gr.Dropdown(
                    choices("aspect_ratio"),
                    value=FIELDS["aspect_ratio"].default,
                    label=FIELDS["aspect_ratio"].label,
                    elem_id=elem_id("aspect_ratio"),
                )
                style_preset = gr.Dropdown(
                    choices("style_preset"),
                    value=FIELDS["style_preset"].default,
                    label=FIELDS["style_preset"].label,
                    elem_id=elem_id("style_preset"),
                )
            num_images = gr.Slider(
                FIELDS["num_images"].minimum or 1,
                FIELDS["num_images"].maximum or 1,
                step=1,
                precision=0,
                value=FIELDS["num_images"].default,
                label=FIELDS["num_images"].label,
                info=FIELDS["num_images"].description,
                elem_id=elem_id("num_images"),
            )
            with gr.Accordion(f"{FIELDS['source_image'].label} (optional)", open=False, visible=show_source_image):
                source_image = gr.Image(
                    type="filepath",
                    sources=["upload", "clipboard"],
                    label=FIELDS["source_image"].label,
                    height=220,
                    elem_id=elem_id("source_image"),
                )
            with gr.Row():
                generate_button = gr.Button("Generate", variant="primary", elem_id=elem_id("generate"))
                stop_button = gr.Button("Stop", variant="secondary", elem_id=elem_id("stop"))
            if examples:
                gr.Examples(
                    [[text] for text in examples],
                    inputs=[prompt],
                    label="Example prompts",
                    api_visibility="private",
                    elem_id=elem_id("examples"),
                )
        with gr.Column(scale=3, min_width=320):
            gallery = gr.Gallery(
                label="Images",
                columns=gallery_columns,
                object_fit="contain",
                height=760,
                elem_id=elem_id("gallery"),
            )
            text = gr.Textbox(
                label="Service text",
                interactive=False,
                lines=2,
                elem_id=elem_id("text"),
            )

    # Where Gradio keeps uploads: the only files a source image may come from.
    uploads = source_image.GRADIO_CACHE

    def validate(
        prompt: Any, model: Any, aspect_ratio: Any, style_preset: Any, num_images: Any, source_image: Any = None
    ) -> list[dict[str, Any]]:
        # Runs before the queue: bad input never waits in line or reaches the service.
        values = dict(zip(FIELDS, (prompt, model, aspect_ratio, style_preset, num_images, source_image), strict=True))
        errors = _handler.field_errors(values, uploads=uploads)
        return [gr.validate(field not in errors, errors.get(field, "")) for field in FIELDS]

    async def generate(
        prompt: Any,
        model: Any,
        aspect_ratio: Any,
        style_preset: Any,
        num_images: Any,
        source_image: Any = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[list[str], str]:
        """Generate 1-4 images with Milady Cloud. Returns the images and the service's text."""
        values = dict(zip(FIELDS, (prompt, model, aspect_ratio, style_preset, num_images, source_image), strict=True))
        try:
            # Reading and shrinking a source image takes a while: off the event loop.
            request = await asyncio.to_thread(_handler.build_request, the_client, values, uploads=uploads)
            paths, result = await _handler.generate(the_client, request, folder=gallery.GRADIO_CACHE, progress=progress)
        except MiladyError as err:
            raise to_gradio_error(err) from err
        if result.partial:
            gr.Warning(result.partial_note)
        return paths, result.text

    event = generate_button.click(
        generate,
        inputs=[prompt, model, aspect_ratio, style_preset, num_images, source_image],
        outputs=[gallery, text],
        api_name=api_name,
        validator=validate,
        # Raw values reach the core's validators, so every message names field, value and range.
        preprocess=False,
        concurrency_limit=concurrency_limit,
        concurrency_id=CONCURRENCY_ID,
        show_progress="full",
        show_progress_on=[gallery],
    )
    # Cancelling the task cancels the awaited HTTP request with it.
    stop_button.click(None, cancels=[event], api_visibility="private")

    return MiladyImageBlock(
        prompt=prompt,
        model=model,
        aspect_ratio=aspect_ratio,
        style_preset=style_preset,
        num_images=num_images,
        source_image=source_image,
        generate_button=generate_button,
        stop_button=stop_button,
        gallery=gallery,
        text=text,
        event=event,
        api_name=api_name,
    )
