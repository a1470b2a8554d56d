"""The catalogue: every choice, limit and description a user meets, defined once.

Faces derive their combos, argument schemas and dropdowns from these names; a new
choice is added here and nowhere else. Pure data: this module imports nothing of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = [
    "ASPECT_RATIOS", "ASPECT_RATIO_DESCRIPTIONS", "DEFAULT_ASPECT_RATIO", "DEFAULT_MODEL", "DEFAULT_NUM_IMAGES",
    "DEFAULT_STYLE_PRESET", "MODELS", "MODEL_INFO", "NUM_IMAGES_MAX", "NUM_IMAGES_MIN", "PROMPT_MAX_CHARS",
    "RETIRED_MODELS", "SOURCE_IMAGE_MAX_CHARS", "STYLE_PRESETS", "STYLE_PRESET_DESCRIPTIONS", "AspectRatio",
    "KnownModel", "ModelInfo", "StylePreset", "nearest_aspect_ratio",
]  # fmt: skip

# ---------------------------------------------------------------- limits

PROMPT_MAX_CHARS = 4000
NUM_IMAGES_MIN = 1
NUM_IMAGES_MAX = 4
#: The service refuses a ``sourceImage`` longer than this (about 10 MB of image).
SOURCE_IMAGE_MAX_CHARS = 14_000_000

# ---------------------------------------------------------------- choices

AspectRatio = Literal["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]
StylePreset = Literal[
    "none", "photographic", "digital-art", "comic-book", "fantasy-art", "analog-film", "neon-punk",
    "isometric", "low-poly", "origami", "line-art", "cinematic", "3d-model",
]  # fmt: skip
KnownModel = Literal[
    "google/gemini-2.5-flash-image", "google/gemini-3.1-flash-image-preview", "google/gemini-3-pro-image",
    "openai/gpt-image-2", "bfl/flux-kontext-max",
]  # fmt: skip

ASPECT_RATIOS: tuple[AspectRatio, ...] = get_args(AspectRatio)
STYLE_PRESETS: tuple[StylePreset, ...] = get_args(StylePreset)
MODELS: tuple[KnownModel, ...] = get_args(KnownModel)

DEFAULT_MODEL: KnownModel = "google/gemini-2.5-flash-image"
DEFAULT_ASPECT_RATIO: AspectRatio = "1:1"
DEFAULT_STYLE_PRESET: StylePreset = "none"
DEFAULT_NUM_IMAGES = 1

ASPECT_RATIO_DESCRIPTIONS: dict[AspectRatio, str] = {
    "1:1": "Square (default)",
    "16:9": "Wide landscape",
    "9:16": "Tall portrait",
    "4:3": "Standard landscape",
    "3:4": "Standard portrait",
    "21:9": "Ultra-wide cinematic",
    "9:21": "Ultra-tall vertical",
}

STYLE_PRESET_DESCRIPTIONS: dict[StylePreset, str] = {
    "none": "No style modification (default)",
    "photographic": "Realistic lighting and details",
    "digital-art": "Vibrant colors, modern aesthetics",
    "comic-book": "Bold lines, dramatic shading",
    "fantasy-art": "Magical and ethereal elements",
    "analog-film": "Film grain and vintage tones",
    "neon-punk": "Cyberpunk style with neon colors",
    "isometric": "Isometric perspective",
    "low-poly": "Low-poly 3D style",
    "origami": "Paper-folding style",
    "line-art": "Clean line art with minimal shading",
    "cinematic": "Dramatic lighting and composition",
    "3d-model": "High-quality 3D rendered appearance",
}


@dataclass(frozen=True)
class ModelInfo:
    """What the service's documentation says about a model."""

    provider: str
    speed: str
    best_for: str


MODEL_INFO: dict[KnownModel, ModelInfo] = {
    "google/gemini-2.5-flash-image": ModelInfo("Google", "Fast", "General use (default)"),
    "google/gemini-3.1-flash-image-preview": ModelInfo("Google", "Fast", "Preview/testing"),
    "google/gemini-3-pro-image": ModelInfo("Google", "Medium", "Higher quality"),
    "openai/gpt-image-2": ModelInfo("OpenAI", "Medium", "OpenAI image generation"),
    "bfl/flux-kontext-max": ModelInfo("BFL", "Medium", "Context-aware generation"),
}

#: Documented models the service no longer serves: it silently generates with
#: the model named here instead (and bills for it), so we warn.
RETIRED_MODELS: dict[str, str] = {"openai/gpt-5-nano": DEFAULT_MODEL}


def _require_complete(name: str, choices: tuple[str, ...], table: Mapping[Any, object]) -> None:
    # Fails at import, so a choice added without its description can never ship.
    if tuple(table) != choices:
        raise RuntimeError(f"catalogue table {name} does not match its choices: {tuple(table)}")


_require_complete("ASPECT_RATIO_DESCRIPTIONS", ASPECT_RATIOS, ASPECT_RATIO_DESCRIPTIONS)
_require_complete("STYLE_PRESET_DESCRIPTIONS", STYLE_PRESETS, STYLE_PRESET_DESCRIPTIONS)
_require_complete("MODEL_INFO", MODELS, MODEL_INFO)


def nearest_aspect_ratio(width: int, height: int) -> AspectRatio:
    """The choice closest to ``width:height`` (compared as logarithms, so 2:1 and 1:2 are equally far)."""
    import math

    wanted = math.log(max(width, 1) / max(height, 1))

    def distance(ratio: AspectRatio) -> float:
        w, h = (int(part) for part in ratio.split(":"))
        return abs(math.log(w / h) - wanted)

    return min(ASPECT_RATIOS, key=distance)
