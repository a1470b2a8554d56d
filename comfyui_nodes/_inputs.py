"""The node's inputs, derived from the shared schema (no choice or limit typed here)."""

from __future__ import annotations

from typing import Any

from milady_integrations.schema import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    FIELD_DESCRIPTIONS,
    MODEL_INFO,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    SOURCE_IMAGE_MAX_CHARS,
    STYLE_PRESETS,
)

SEED_MAX = 0xFFFFFFFFFFFFFFFF

SEED_TOOLTIP = (
    "Only decides when the node runs again: the service has no seed. "
    "The same inputs and seed are served from ComfyUI's cache (no new request, no charge); "
    "a new seed (control after generate: randomize or increment) sends a new request."
)

SOURCE_IMAGE_TOOLTIP = (
    "Optional image to transform (image-to-image). Sent as PNG, downscaled (aspect ratio kept) "
    f"when it would exceed the service's limit of {SOURCE_IMAGE_MAX_CHARS:,} characters. "
    "A batch of several images sends one request per image, and each returned image is billed."
)


def _model_tooltip() -> str:
    lines = [FIELD_DESCRIPTIONS["model"]]
    lines += [f"{m}: {i.provider}, {i.speed.lower()}, {i.best_for}" for m, i in MODEL_INFO.items()]
    return "\n".join(lines)


def input_types() -> dict[str, Any]:
    """ComfyUI's classic INPUT_TYPES dict for MiladyGenerateImage."""
    return {
        "required": {
            "prompt": (
                "STRING",
                {"multiline": True, "default": "", "tooltip": FIELD_DESCRIPTIONS["prompt"]},
            ),
            "model": (list(MODELS), {"default": DEFAULT_MODEL, "tooltip": _model_tooltip()}),
            "aspect_ratio": (
                list(ASPECT_RATIOS),
                {"default": DEFAULT_ASPECT_RATIO, "tooltip": FIELD_DESCRIPTIONS["aspect_ratio"]},
            ),
            "style_preset": (
                list(STYLE_PRESETS),
                {"default": DEFAULT_STYLE_PRESET, "tooltip": FIELD_DESCRIPTIONS["style_preset"]},
            ),
            "num_images": (
                "INT",
                {
                    "default": DEFAULT_NUM_IMAGES,
                    "min": NUM_IMAGES_MIN,
                    "max": NUM_IMAGES_MAX,
                    "step": 1,
                    "tooltip": FIELD_DESCRIPTIONS["num_images"],
                },
            ),
            "seed": (
                "INT",
                {
                    "default": 0,
                    "min": 0,
                    "max": SEED_MAX,
                    "control_after_generate": True,
                    "tooltip": SEED_TOOLTIP,
                },
            ),
        },
        "optional": {
            "source_image": ("IMAGE", {"tooltip": SOURCE_IMAGE_TOOLTIP}),
        },
        "hidden": {"unique_id": "UNIQUE_ID"},
    }
