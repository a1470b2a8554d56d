"""The nodes' inputs, declared once (``InputSpec``), and their classic-API rendering.

The generate node's inputs come from the core's field declarations (no choice or limit
typed here). Order matters: ComfyUI saves widget values by position, so a new input
goes last. The V3 nodes (``_v3``) render the same declarations.
"""

from __future__ import annotations

from typing import Any

from milady_integrations.catalogue import MODEL_INFO
from milady_integrations.config_file import DEFAULT_ACCOUNT
from milady_integrations.request import FIELDS, FieldSpec

from ._spec import GENERATE, InputSpec, NodeSpec

SEED_MAX = 0xFFFFFFFFFFFFFFFF
#: A node-only aspect-ratio choice, resolved to the nearest of the service's ratios before sending.
MATCH_SOURCE = "match source"
#: How far back the gallery node reaches (newest first).
GALLERY_INDEX_MAX = 99

SEED_TOOLTIP = (
    "Only decides when the node runs again: the service has no seed. "
    "The same inputs and seed are served from ComfyUI's cache (no new request, no charge); "
    "a new seed (control after generate: randomize or increment) sends a new request."
)

SOURCE_IMAGE_TOOLTIP = (
    "Optional image to transform (image-to-image). Sent as PNG, downscaled (aspect ratio kept) "
    f"when it would exceed the service's limit of {FIELDS['source_image'].max_length:,} characters. "
    "A batch of several images sends one request per image, and each returned image is billed."
)

ACCOUNT_TOOLTIP = (
    f'Which key pays: "{DEFAULT_ACCOUNT}" is MILADY_API_KEY, else the "api_key" of milady_config.json; '
    'the other names are the "accounts" of milady_config.json. The workflow stores only the name.'
)


def _tooltip(spec: FieldSpec) -> str:
    if spec.name == "aspect_ratio":
        return (
            f"{spec.description} {MATCH_SOURCE}: the nearest of these to the source image's shape "
            "(the first source image's; needs a source image)."
        )
    if spec.name != "model":
        return spec.description
    return "\n".join(
        [spec.description, *(f"{m}: {i.provider}, {i.speed.lower()}, {i.best_for}" for m, i in MODEL_INFO.items())]
    )


def _field_input(spec: FieldSpec) -> InputSpec:
    """A combo for choices, INT for a range, a text box otherwise."""
    if spec.choices is not None:
        options = (*spec.choices, MATCH_SOURCE) if spec.name == "aspect_ratio" else spec.choices
        return InputSpec(spec.name, "COMBO", _tooltip(spec), spec.default, options=options)
    if spec.minimum is not None:
        return InputSpec(spec.name, "INT", spec.description, spec.default, minimum=spec.minimum, maximum=spec.maximum)
    return InputSpec(spec.name, "STRING", spec.description, "", multiline=True)


def account_input() -> InputSpec:
    """The names of milady_config.json's accounts (never a key); a broken file lists only the default."""
    from milady_integrations import MiladyError
    from milady_integrations.config_file import account_names

    from ._settings import config_paths

    try:
        names = account_names(config_paths())
    except MiladyError:
        names = (DEFAULT_ACCOUNT,)  # the run reports the broken file, with its path
    return InputSpec("account", "COMBO", ACCOUNT_TOOLTIP, DEFAULT_ACCOUNT, options=names, optional=True)


def generate_inputs() -> list[InputSpec]:
    fields = [_field_input(spec) for name, spec in FIELDS.items() if name != "source_image"]
    seed = InputSpec("seed", "INT", SEED_TOOLTIP, 0, minimum=0, maximum=SEED_MAX, control_after_generate=True)
    source = InputSpec("source_image", "IMAGE", SOURCE_IMAGE_TOOLTIP, optional=True)
    return [*fields, seed, source, account_input()]


def gallery_inputs() -> list[InputSpec]:
    index = InputSpec(
        "index",
        "INT",
        "Which of your recent generations: 0 is the newest, 1 the one before, and so on. "
        "Loading it costs nothing. ComfyUI keeps what it loaded for the same index until an input changes.",
        0,
        minimum=0,
        maximum=GALLERY_INDEX_MAX,
    )
    return [index, account_input()]


# ---------------------------------------------------------------- the classic API's rendering


def _classic(spec: InputSpec) -> tuple[Any, dict[str, Any]]:
    config: dict[str, Any] = {"tooltip": spec.tooltip}
    if spec.kind == "COMBO":
        return list(spec.options), {"default": spec.default, **config}
    if spec.kind == "INT":
        config = {"default": spec.default, "min": spec.minimum, "max": spec.maximum, "step": 1, **config}
        if spec.control_after_generate:
            config["control_after_generate"] = True
        return "INT", config
    if spec.kind == "STRING":
        return "STRING", {"multiline": spec.multiline, "default": spec.default, **config}
    return spec.kind, config


def classic_input_types(node: NodeSpec) -> dict[str, Any]:
    """ComfyUI's classic INPUT_TYPES dict for ``node``."""
    inputs = node.inputs()
    return {
        "required": {i.id: _classic(i) for i in inputs if not i.optional},
        "optional": {i.id: _classic(i) for i in inputs if i.optional},
        "hidden": {"unique_id": "UNIQUE_ID"},
    }


def input_types() -> dict[str, Any]:
    """The generate node's classic INPUT_TYPES."""
    return classic_input_types(GENERATE)
