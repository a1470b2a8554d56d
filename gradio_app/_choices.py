"""Dropdown choices, defaults, labels and info texts, all derived from the shared schema."""

from __future__ import annotations

from milady_integrations.schema import (
    ASPECT_RATIO_DESCRIPTIONS,
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    FIELD_DESCRIPTIONS,
    FIELD_LABELS,
    MODEL_INFO,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    STYLE_PRESET_DESCRIPTIONS,
    STYLE_PRESETS,
)

#: The block's inputs, in the order of the handler's parameters and the API's arguments.
FIELDS: tuple[str, ...] = ("prompt", "model", "aspect_ratio", "style_preset", "num_images", "source_image")

DEFAULTS: dict[str, str | int] = {
    "model": DEFAULT_MODEL,
    "aspect_ratio": DEFAULT_ASPECT_RATIO,
    "style_preset": DEFAULT_STYLE_PRESET,
    "num_images": DEFAULT_NUM_IMAGES,
}

NUM_IMAGES_RANGE = (NUM_IMAGES_MIN, NUM_IMAGES_MAX)

#: A few prompts to start from.
EXAMPLE_PROMPTS: tuple[str, ...] = (
    "A red fox reading a book under a lantern, autumn forest at dusk",
    "A lighthouse on a cliff in a storm, waves crashing, moody sky",
    "A tiny robot watering a bonsai tree on a sunny windowsill",
    "A bowl of ramen seen from above, steam rising, warm light",
)


def label(field: str) -> str:
    """The field's label from the shared schema: ``num_images`` -> "Number of images"."""
    return FIELD_LABELS[field]


def info(field: str) -> str:
    return FIELD_DESCRIPTIONS[field]


def model_choices() -> list[tuple[str, str]]:
    return [(f"{model} · {MODEL_INFO[model].speed}, {MODEL_INFO[model].best_for}", model) for model in MODELS]


def aspect_ratio_choices() -> list[tuple[str, str]]:
    return [(f"{ratio} · {ASPECT_RATIO_DESCRIPTIONS[ratio]}", ratio) for ratio in ASPECT_RATIOS]


def style_preset_choices() -> list[tuple[str, str]]:
    return [(f"{preset} · {STYLE_PRESET_DESCRIPTIONS[preset]}", preset) for preset in STYLE_PRESETS]
