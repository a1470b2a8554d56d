"""The node's inputs, derived from the core's field declarations (no choice or limit typed here)."""

from __future__ import annotations

from typing import Any

from milady_integrations.catalogue import MODEL_INFO
from milady_integrations.request import FIELDS, FieldSpec

SEED_MAX = 0xFFFFFFFFFFFFFFFF

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


def _tooltip(spec: FieldSpec) -> str:
    if spec.name != "model":
        return spec.description
    return "\n".join(
        [spec.description, *(f"{m}: {i.provider}, {i.speed.lower()}, {i.best_for}" for m, i in MODEL_INFO.items())]
    )


def _widget(spec: FieldSpec) -> tuple[Any, dict[str, Any]]:
    """ComfyUI's widget for one field: a combo for choices, INT for a range, a text box otherwise."""
    if spec.choices is not None:
        return list(spec.choices), {"default": spec.default, "tooltip": _tooltip(spec)}
    if spec.minimum is not None:
        bounds = {"min": spec.minimum, "max": spec.maximum, "step": 1}
        return "INT", {"default": spec.default, **bounds, "tooltip": spec.description}
    return "STRING", {"multiline": True, "default": "", "tooltip": spec.description}


def input_types() -> dict[str, Any]:
    """ComfyUI's classic INPUT_TYPES dict for MiladyGenerateImage."""
    required = {name: _widget(spec) for name, spec in FIELDS.items() if name != "source_image"}
    required["seed"] = (
        "INT",
        {"default": 0, "min": 0, "max": SEED_MAX, "control_after_generate": True, "tooltip": SEED_TOOLTIP},
    )
    return {
        "required": required,
        "optional": {"source_image": ("IMAGE", {"tooltip": SOURCE_IMAGE_TOOLTIP})},
        "hidden": {"unique_id": "UNIQUE_ID"},
    }
