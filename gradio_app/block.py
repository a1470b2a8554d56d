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
from milady_integrations.access import OperatorLimits, Payer, caller_id, limits_line, payer_policy
from milady_integrations.calls import FACE_OPTIONS, client_for, keyed_call, unread_note
from milady_integrations.forms import form_errors, form_request, generate_for_page
from milady_integrations.request import FIELDS
from milady_integrations.wording import EXAMPLE_PROMPTS, choice_label, error_title

__all__ = ["MiladyImageBlock", "milady_image_block", "to_gradio_error"]

#: Events of every block share this queue group: they spend the same account's rate limit.
CONCURRENCY_ID = "milady-generate"
#: What the text box says after Stop: the service has no cancel.
STOPPED_TEXT = "Stopped. A request already sent may still finish and be billed."
API_DESCRIPTION = (
    "Generate 1-4 images with Milady Cloud; returns the images and the service's text. "
    "api_key is a secret: your own Milady Cloud key, used for this one request and never stored or shown."
)


def to_gradio_error(err: BaseException) -> gr.Error:
    """A ``gr.Error`` whose body is ``str(err)``, the line the core wrote for people.

    Gradio 6 heads every toast with "Error" and shows the message below it, so the whole text goes
    in ``message``; ``title`` names the kind of failure, so the face adds no words of its own.
    """
    if isinstance(err, gr.Error):
        return err
    message = str(err) if isinstance(err, MiladyError) else (str(err) or type(err).__name__)
    return gr.Error(message=message, title=error_title(err), duration=None, print_exception=False)


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
    #: The visitor's key (a password field), or None when the server's key pays.
    api_key: gr.Textbox | None
    #: The Generate event: chain host steps with ``block.event.then(...)``.
    event: Dependency
    #: The API route without its slash, e.g. ``"generate"`` or ``"generate_1"``.
    api_name: str

    @property
    def inputs(self) -> list[gr.components.Component]:
        """The inputs in the API's argument order (see ``FIELDS``)."""
        fields = [getattr(self, field) for field in FIELDS]
        return fields + ([self.api_key] if self.api_key is not None else [])

    @property
    def outputs(self) -> list[gr.components.Component]:
        return [self.gallery, self.text]


def _unique_api_name(name: str) -> str:
    context = get_blocks_context()
    if context is None:
        raise RuntimeError("milady_image_block() adds components to a page: call it inside `with gr.Blocks():`")
    taken = [fn.api_name for fn in context.fns.values() if isinstance(fn.api_name, str)]
    return str(append_unique_suffix(name, taken))


def _visitor(request: gr.Request | None, profile: gr.OAuthProfile | None) -> str:
    # The Hugging Face login when the Space has OAuth; else the address.
    address = request.client.host if request is not None and request.client else None
    forwarded = request.headers.get("x-forwarded-for") if request is not None else None
    return caller_id(profile.username if profile else None, address, forwarded)


def milady_image_block(
    client: AsyncMiladyClient | None = None,
    *,
    pays: Payer = "server",
    limits: OperatorLimits | None = None,
    fallback: AsyncMiladyClient | None = None,
    name: str = "generate",
    examples: Sequence[str] | None = EXAMPLE_PROMPTS,
    concurrency_limit: int | None = 4,
    show_source_image: bool = True,
    gallery_columns: int = 2,
) -> MiladyImageBlock:
    """Add prompt, settings, Generate/Stop buttons, a gallery and the service's text (see the README).

    ``client`` defaults to one from MILADY_API_KEY and MILADY_BASE_URL; its key never reaches the page.
    ``pays``: whose key pays (``"server"``, ``"visitor"``, ``"visitor_or_server"`` within ``limits``);
    ``fallback`` serves visitors without a key. ``name``: the API route, made unique (``generate_1``).
    """
    api_name = _unique_api_name(name)
    # Its own client looks in the gallery for what a failure that may have run made (never paid twice).
    the_client = client if client is not None else AsyncMiladyClient(**FACE_OPTIONS)
    policy = payer_policy(pays, (fallback or the_client).config.api_key, local=fallback is not None, limits=limits)

    def elem_id(part: str) -> str:
        return f"milady-{api_name}-{part}"

    def dropdown(field: str, **more: Any) -> gr.Dropdown:
        spec = FIELDS[field]
        labelled = [(choice_label(field, value), value) for value in spec.choices or ()]  # "16:9 · Wide landscape"
        return gr.Dropdown(labelled, value=spec.default, label=spec.label, elem_id=elem_id(field), **more)

    with gr.Row(equal_height=False, elem_id=elem_id("block")):
        with gr.Column(scale=2, min_width=320):
            prompt = gr.Textbox(
                label=FIELDS["prompt"].label,
                info=FIELDS["prompt"].description,
                placeholder=EXAMPLE_PROMPTS[0],
                lines=3,
                elem_id=elem_id("prompt"),
            )
            model = dropdown("model", info=FIELDS["model"].description)
            # One per line, not in a row: a style's label is too long to show whole beside another.
            aspect_ratio, style_preset = dropdown("aspect_ratio"), dropdown("style_preset")
            spec = FIELDS["num_images"]
            num_images = gr.Slider(
                spec.minimum or 1,
                spec.maximum or 1,
                step=1,
                precision=0,
                value=spec.default,
                label=spec.label,
                info=spec.description,
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
            api_key = None
            if pays != "server":
                api_key = gr.Textbox(
                    label="Your Milady Cloud key" + (" (optional)" if policy.operator_key else ""),
                    info=limits_line(policy.limits) if policy.limits else "Used for your requests only; never stored.",
                    type="password",
                    max_lines=1,
                    elem_id=elem_id("api_key"),
                )
            with gr.Row():
                generate_button = gr.Button("Generate", variant="primary", elem_id=elem_id("generate"))
                stop_button = gr.Button("Stop", variant="secondary", elem_id=elem_id("stop"))
            if examples:
                gr.Examples(
                    [[t] for t in examples],
                    [prompt],
                    label="Example prompts",
                    api_visibility="private",
                    elem_id=elem_id("examples"),
                )
        with gr.Column(scale=3, min_width=320):
            gallery = gr.Gallery(
                label="Images", columns=gallery_columns, object_fit="contain", height=760, elem_id=elem_id("gallery")
            )
            text = gr.Textbox(label="Service text", interactive=False, lines=2, elem_id=elem_id("text"))

    uploads = source_image.GRADIO_CACHE  # where Gradio keeps uploads: the only files a source may come from
    field_inputs = [prompt, model, aspect_ratio, style_preset, num_images, source_image]

    def validate(*values: Any) -> list[dict[str, Any]]:
        # Runs before the queue: bad input never waits in line or reaches the service.
        errors = form_errors(dict(zip(FIELDS, values, strict=False)), uploads=uploads)
        checks = [gr.validate(field not in errors, errors.get(field, "")) for field in FIELDS]
        # One check per input: the key (or its empty place) needs none.
        return checks + [gr.validate(True, "")] * (len(values) - len(FIELDS))

    async def generate(
        prompt: Any,
        model: Any,
        aspect_ratio: Any,
        style_preset: Any,
        num_images: Any,
        source_image: Any = None,
        api_key: Any = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio fills these three
        profile: gr.OAuthProfile | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ) -> tuple[list[str], str]:
        """Generate 1-4 images with Milady Cloud. Returns the images and the service's text."""
        values = dict(zip(FIELDS, (prompt, model, aspect_ratio, style_preset, num_images, source_image), strict=True))
        try:
            # Reading and shrinking a source image takes a while: off the event loop.
            checked = await asyncio.to_thread(form_request, the_client, values, uploads=uploads)
            visitor = None if pays == "server" else _visitor(request, profile)
            own_key = api_key if isinstance(api_key, str) else None
            with keyed_call(policy, own_key, caller=visitor, images=checked.num_images) as choice:
                paths, result, unread = await generate_for_page(
                    client_for(choice, the_client, fallback),
                    checked,
                    folder=gallery.GRADIO_CACHE,  # Gradio serves its cache to the page
                    bar=lambda fraction, text: progress(fraction, desc=text),
                    paid=choice.reservation.settle,
                )
        except MiladyError as err:
            raise to_gradio_error(err) from err
        if unread:
            gr.Warning(unread_note(unread))
        if result.partial:
            gr.Warning(result.partial_note)
        return paths, result.text

    common: dict[str, Any] = {
        "outputs": [gallery, text],
        "validator": validate,
        # Raw values reach the core's validators, so every message names field, value and range.
        "preprocess": False,
        "concurrency_limit": concurrency_limit,
        "concurrency_id": CONCURRENCY_ID,
        "show_progress": "full",
        "show_progress_on": [gallery],
    }
    if api_key is None:
        # No key field: a server-side None in its place (not part of the API).
        inputs = [*field_inputs, gr.State(None)]
        event = generate_button.click(generate, inputs=inputs, api_name=api_name, **common)
    else:
        # The browser keeps the inputs of public events in its run history (localStorage):
        # the page's own event is private so a key never lands there; programs call its
        # public twin, on a button no page shows.
        inputs = [*field_inputs, api_key]
        event = generate_button.click(
            generate, inputs=inputs, api_name=f"{api_name}_page", api_visibility="private", **common
        )
        gr.Button(visible=False, elem_id=elem_id("api")).click(
            generate, inputs=inputs, api_name=api_name, api_description=API_DESCRIPTION, **common
        )
    # After a failure the last run's images and text would sit beside the error as if current.
    event.failure(lambda: ([], ""), outputs=[gallery, text], api_visibility="private", show_progress="hidden")
    # Cancelling the task cancels the awaited HTTP request with it.
    stop_button.click(lambda: ([], STOPPED_TEXT), outputs=[gallery, text], cancels=[event], api_visibility="private")

    parts = (prompt, model, aspect_ratio, style_preset, num_images, source_image, generate_button, stop_button)
    return MiladyImageBlock(*parts, gallery, text, api_key, event, api_name)
