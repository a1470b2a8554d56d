"""Deterministic pictures that nobody mistakes for a model's: a gradient in the prompt's colours,
a motif per style preset (a shape in a layout), and a caption saying how they were made."""

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
_PRESETS = list(STYLE_WORDS)  # preset i draws a shape of 3 + i % 4 sides in layout i // 4


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
    motif = _PRESETS.index(preset) if preset in _PRESETS else -1
    sides, layout, step = 3 + motif % 4, motif // 4, rng.randrange(90, 160)

    def shape(x: float, y: float, r: float, fill: tuple[int, int, int] = accent) -> None:
        d.regular_polygon((x, y, max(r, 1)), sides, rotation=15 * motif, fill=fill)

    if motif < 0:  # a preset the service does not know: its prompt says "undefined"
        for _ in range(12):
            d.text((rng.randrange(w), rng.randrange(h)), "?", fill=accent, font=_font(max(w, h) // 8))
    elif layout == 0:  # a grid
        for y in range(step // 2, h, step):
            for x in range(step // 2, w, step):
                shape(x, y, step / 3)
    elif layout == 1:  # concentric, around one point
        cx, cy = rng.randrange(w), rng.randrange(h)
        for i, r in enumerate(range(max(w, h), 0, -step // 2)):
            shape(cx, cy, r, accent if i % 2 else dark)
    elif layout == 2:  # scattered
        for _ in range(40):
            shape(rng.randrange(w), rng.randrange(h), rng.randrange(10, step))
    else:  # bands of shapes
        for y in range(0, h, 2 * step):
            for x in range(0, w, step // 2):
                shape(x, y + step / 2, step / 4)
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
