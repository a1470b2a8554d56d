"""The service's own prompt words: what it appends to the prompt for each choice.

The service has no pixel sizes and no style engine, only these words; they are its
internals, so they live beside the local server that imitates it.
"""

from __future__ import annotations

from ..catalogue import DEFAULT_ASPECT_RATIO, DEFAULT_STYLE_PRESET, AspectRatio, StylePreset

STYLE_PRESET_PROMPT_WORDS: dict[StylePreset, str] = {
    "none": "",
    "photographic": "in a photographic style with realistic lighting and details",
    "digital-art": "in a digital art style with vibrant colors and modern aesthetics",
    "comic-book": "in a comic book style with bold lines and dramatic shading",
    "fantasy-art": "in a fantasy art style with magical and ethereal elements",
    "analog-film": "in an analog film photography style with film grain and vintage tones",
    "neon-punk": "in a neon punk cyberpunk style with glowing neon colors",
    "isometric": "in an isometric perspective style with geometric precision",
    "low-poly": "in a low-poly 3D style with geometric facets",
    "origami": "in an origami paper-folding style",
    "line-art": "in a clean line art style with minimal shading",
    "cinematic": "in a cinematic style with dramatic lighting and composition",
    "3d-model": "as a high-quality 3D rendered model",
}

ASPECT_RATIO_PROMPT_WORDS: dict[AspectRatio, str] = {
    "1:1": "square composition",
    "16:9": "wide landscape composition",
    "9:16": "tall portrait composition",
    "4:3": "landscape composition",
    "3:4": "portrait composition",
    "21:9": "ultra-wide cinematic composition",
    "9:21": "ultra-tall vertical composition",
}


def enhanced_prompt(
    prompt: str,
    *,
    style_preset: StylePreset = DEFAULT_STYLE_PRESET,
    aspect_ratio: AspectRatio = DEFAULT_ASPECT_RATIO,
    image_to_image: bool = False,
) -> str:
    """The prompt exactly as the service sends it to the model."""
    lead = (
        "Using the provided image as a reference, generate a new image: "
        if image_to_image
        else "Generate an image: "
    )
    style = STYLE_PRESET_PROMPT_WORDS[style_preset]
    body = f"{prompt} {style}" if style else prompt
    return f"{lead}{body}, {ASPECT_RATIO_PROMPT_WORDS[aspect_ratio]}"

