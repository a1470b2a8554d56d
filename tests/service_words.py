"""The service's prompt words, copied from ../shared/reference/server-behaviour.md.

Tests take expected words from here, never from the code under test.
"""

STYLE_WORDS = {
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
RATIO_WORDS = {
    "1:1": "square composition",
    "16:9": "wide landscape composition",
    "9:16": "tall portrait composition",
    "4:3": "landscape composition",
    "3:4": "portrait composition",
    "21:9": "ultra-wide cinematic composition",
    "9:21": "ultra-tall vertical composition",
}
