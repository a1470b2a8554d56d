"""Deterministic pictures that nobody mistakes for a model's: a gradient in the prompt's colours,
a motif per style preset (a grid of one polygon), and a caption saying how they were made."""

from __future__ import annotations

import base64
import colorsys
import hashlib
import io
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ._bodies import STYLE_WORDS

#: Pixel size drawn for each aspect ratio (width, height); unknown ratios are drawn square.
IMAGE_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344), "4:3": (1184, 864),
    "3:4": (864, 1184), "21:9": (1536, 672), "9:21": (672, 1536),
}
CAPTION = "drawn locally, not by a model"
_PRESETS = list(STYLE_WORDS)


def _colour(hue: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def draw_picture(*, enhanced: str, prompt: str, model: str, preset: str, aspect_ratio: str, index: int,
                 source: Image.Image | None = None) -> Image.Image:
    """One image of a request; same inputs, same picture. ``source`` shows through (image-to-image)."""
    w, h = IMAGE_SIZES.get(aspect_ratio, IMAGE_SIZES["1:1"])
    hue = hashlib.sha256(enhanced.encode()).digest()[0] / 255
    light, dark, accent = _colour(hue, 0.45, 0.95), _colour(hue + 0.1, 0.75, 0.45), _colour(hue + 0.5, 0.85, 0.95)
    rng = random.Random(hashlib.sha256(f"{model}\x1f{enhanced}\x1f{index}".encode()).digest())
    grad = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize((w, h))
    image = Image.composite(Image.new("RGB", (w, h), dark), Image.new("RGB", (w, h), light), grad)
    d = ImageDraw.Draw(image)
    # Preset i: a grid of polygons with 3 + i % 5 sides, sized by i // 5; an unknown preset (its prompt says
    # "undefined"): question marks.
    motif, step = _PRESETS.index(preset) if preset in _PRESETS else -1, rng.randrange(90, 160)
    for y in range(step // 2, h, step):
        for x in range(step // 2, w, step):
            if motif < 0:
                d.text((x, y), "?", fill=accent, font=_font(step // 2), anchor="mm")
            else:
                d.regular_polygon((x, y, step * (2 + motif // 5) / 10), 3 + motif % 5, rng.randrange(120), accent)
    if source is not None:  # mostly the source, the motif over it: visibly derived, visibly local
        image = Image.blend(ImageOps.fit(source, (w, h)), image, 0.35)
        d = ImageDraw.Draw(image)
    band = max(34, h // 16)
    d.rectangle((0, h - band, w, h), fill=(0, 0, 0))
    short = " ".join(prompt.split())
    text = f"{CAPTION} | {model} | {preset} | {short if len(short) <= 70 else short[:67] + '...'}"
    d.text((band // 3, h - band * 3 // 4), text.encode("latin-1", "replace").decode("latin-1"),
           fill=(255, 255, 255), font=_font(band * 9 // 20))
    return image


def decode_source(source: str) -> Image.Image:
    """The image in a ``sourceImage`` (a data URL or bare base64); ValueError when unreadable."""
    data = source.split(",", 1)[1] if source.startswith("data:") and "," in source else source
    try:
        with Image.open(io.BytesIO(base64.b64decode(data))) as opened:
            return opened.convert("RGB")
    except (OSError, Image.DecompressionBombError, ValueError) as exc:  # binascii.Error is a ValueError
        raise ValueError(f"sourceImage is not a readable image: {exc}") from exc


def encode_webp(image: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=quality, method=0)  # libwebp's fastest: tens of ms, not hundreds
    return out.getvalue()


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()
