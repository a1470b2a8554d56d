"""Deterministic pictures drawn from the enhanced prompt, so nobody mistakes them for a model's.

Colours come from a hash of the enhanced prompt (what the service would send
its model), the layout from a hash of model, prompt and image index, and each
style preset draws its own motif. Same request, same bytes.
"""

from __future__ import annotations

import base64
import binascii
import colorsys
import hashlib
import io
import math
import random
from collections.abc import Callable
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ..schema import AspectRatio

#: Pixel size drawn for each aspect ratio (width, height).
IMAGE_SIZES: dict[AspectRatio, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "4:3": (1184, 864),
    "3:4": (864, 1184),
    "21:9": (1536, 672),
    "9:21": (672, 1536),
}
#: The service accepts any aspectRatio string; unknown ones are drawn square.
FALLBACK_SIZE = IMAGE_SIZES["1:1"]

CAPTION = "drawn locally, not by a model"

RGB = tuple[int, int, int]
Motif = Callable[[ImageDraw.ImageDraw, int, int, random.Random, "Palette"], None]


class Palette:
    """Three colours picked from the prompt's hash: two for the sky, one accent."""

    def __init__(self, digest: bytes) -> None:
        hue = digest[0] / 255
        self.light = _hsv(hue, 0.45 + digest[1] / 1000, 0.95)
        self.dark = _hsv(hue + 0.08 + digest[2] / 2550, 0.75, 0.45)
        self.accent = _hsv(hue + 0.5, 0.85, 0.95)
        self.ink: RGB = (20, 20, 28)


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (round(r * 255), round(g * 255), round(b * 255))


def _point(rng: random.Random, w: int, h: int) -> tuple[int, int]:
    return rng.randrange(w), rng.randrange(h)


# ---------------------------------------------------------------- motifs, one per preset


def _rings(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    cx, cy = _point(rng, w, h)
    for r in range(max(w, h), 0, -rng.randrange(40, 90)):
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=p.accent, width=6)


def _horizon(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    line = int(h * rng.uniform(0.55, 0.75))
    r = min(w, h) // rng.randrange(6, 10)
    sx = rng.randrange(r, w - r)
    d.ellipse((sx - r, line - r * 2, sx + r, line), fill=p.accent)
    d.rectangle((0, line, w, h), fill=p.dark)
    for _ in range(6):
        x = rng.randrange(w)
        d.polygon([(x - w // 5, line), (x, line - rng.randrange(h // 10, h // 4)), (x + w // 5, line)], fill=p.dark)


def _stripes(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    step = rng.randrange(60, 120)
    for x in range(-h, w, step):
        d.polygon([(x, 0), (x + step // 2, 0), (x + step // 2 + h, h), (x + h, h)], fill=p.accent)


def _halftone(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    step = 32
    cx, cy = _point(rng, w, h)
    reach = math.hypot(w, h)
    for y in range(0, h, step):
        for x in range(0, w, step):
            r = 13 * (1 - math.hypot(x - cx, y - cy) / reach)
            d.ellipse((x - r, y - r, x + r, y + r), fill=p.ink)
    x0, y0 = _point(rng, w // 2, h // 2)
    d.rectangle((x0, y0, x0 + w // 2, y0 + h // 3), fill=p.accent, outline=p.ink, width=12)


def _sparkles(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    for _ in range(40):
        x, y = _point(rng, w, h)
        s = rng.randrange(6, 30)
        d.polygon([(x, y - 3 * s), (x + s // 2, y), (x, y + 3 * s), (x - s // 2, y)], fill=p.accent)
        d.polygon([(x - 3 * s, y), (x, y + s // 2), (x + 3 * s, y), (x, y - s // 2)], fill=p.accent)


def _film(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    band = max(w, h) // 14
    vertical = h > w
    length = h if vertical else w
    d.rectangle((0, 0, band, h) if vertical else (0, 0, w, band), fill=p.ink)
    d.rectangle((w - band, 0, w, h) if vertical else (0, h - band, w, h), fill=p.ink)
    hole = band // 3
    offset = rng.randrange(hole * 3)
    for t in range(offset, length, hole * 3):
        for edge in (band // 3, (w if vertical else h) - band // 3 * 2):
            box = (edge, t, edge + hole, t + hole) if vertical else (t, edge, t + hole, edge + hole)
            d.rectangle(box, fill=p.light)


def _neon_grid(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    d.rectangle((0, h // 2, w, h), fill=p.ink)
    vx = rng.randrange(w // 4, 3 * w // 4)
    for i in range(-12, 13):
        d.line((vx, h // 2, vx + i * w // 6, h), fill=p.accent, width=4)
    y, gap = h // 2, 8
    while y < h:
        d.line((0, y, w, y), fill=p.accent, width=3)
        y, gap = y + gap, int(gap * 1.35) + 1


def _cubes(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    s = rng.randrange(50, 90)
    dy = s // 2
    for row in range(-1, h // dy + 2):
        for col in range(-1, w // (2 * s) + 2):
            if rng.random() < 0.45:
                continue
            x = col * 2 * s + (s if row % 2 else 0)
            y = row * dy
            d.polygon([(x, y), (x + s, y - dy), (x + 2 * s, y), (x + s, y + dy)], fill=p.light)
            d.polygon([(x, y), (x + s, y + dy), (x + s, y + 3 * dy), (x, y + 2 * dy)], fill=p.dark)
            d.polygon([(x + s, y + dy), (x + 2 * s, y), (x + 2 * s, y + 2 * dy), (x + s, y + 3 * dy)], fill=p.accent)


def _facets(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    step = rng.randrange(110, 170)
    grid = [
        [
            (x + rng.randrange(-step // 3, step // 3), y + rng.randrange(-step // 3, step // 3))
            for x in range(-step, w + 2 * step, step)
        ]
        for y in range(-step, h + 2 * step, step)
    ]
    colours = (p.light, p.dark, p.accent)
    for r in range(len(grid) - 1):
        for c in range(len(grid[r]) - 1):
            a, b, e, f = grid[r][c], grid[r][c + 1], grid[r + 1][c], grid[r + 1][c + 1]
            d.polygon([a, b, e], fill=colours[rng.randrange(3)])
            d.polygon([b, f, e], fill=colours[rng.randrange(3)])


def _folds(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    cx, cy = w // 2 + rng.randrange(-w // 8, w // 8), h // 2 + rng.randrange(-h // 8, h // 8)
    s = min(w, h) // 3
    points = [(cx, cy - s), (cx + s, cy), (cx, cy + s), (cx - s, cy)]
    for i, colour in enumerate((p.light, p.accent, p.dark, p.accent)):
        d.polygon([(cx, cy), points[i], points[(i + 1) % 4]], fill=colour, outline=p.ink)
    d.line((cx - s, cy, cx + s, cy), fill=p.ink, width=3)
    d.line((cx, cy - s, cx, cy + s), fill=p.ink, width=3)


def _spiral(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    d.rectangle((0, 0, w, h), fill=(248, 246, 240))
    cx, cy = _point(rng, w, h)
    turns = rng.uniform(6, 10)
    pts = [
        (cx + t * 9 * math.cos(t * 0.25), cy + t * 9 * math.sin(t * 0.25))
        for t in range(int(turns * 2 * math.pi / 0.25))
    ]
    d.line(pts, fill=p.ink, width=3)


def _letterbox(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    cx = rng.randrange(w // 4, 3 * w // 4)
    d.polygon([(cx - 30, 0), (cx + 30, 0), (cx + w // 3, h), (cx - w // 3, h)], fill=p.light)
    bar = h // 8
    d.rectangle((0, 0, w, bar), fill=(0, 0, 0))
    d.rectangle((0, h - bar, w, h), fill=(0, 0, 0))


def _undefined(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random, p: Palette) -> None:
    # A preset the service does not know: its prompt says "undefined".
    for _ in range(12):
        x, y = _point(rng, w, h)
        d.text((x, y), "?", fill=p.accent, font=_font(max(w, h) // 8))


def _sphere(image: Image.Image, rng: random.Random, p: Palette) -> None:
    w, h = image.size
    r = min(w, h) // 3
    cx, cy = w // 2 + rng.randrange(-r // 2, r // 2 + 1), h // 2 + rng.randrange(-r // 2, r // 2 + 1)
    shade = Image.radial_gradient("L").resize((4 * r, 4 * r)).crop((r // 2, r // 2, r // 2 + 2 * r, r // 2 + 2 * r))
    ball = Image.composite(Image.new("RGB", shade.size, p.dark), Image.new("RGB", shade.size, p.accent), shade)
    mask = Image.new("L", shade.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, 2 * r - 1, 2 * r - 1), fill=255)
    image.paste(ball, (cx - r, cy - r), mask)


MOTIFS: dict[str, Motif] = {
    "none": _rings,
    "photographic": _horizon,
    "digital-art": _stripes,
    "comic-book": _halftone,
    "fantasy-art": _sparkles,
    "analog-film": _film,
    "neon-punk": _neon_grid,
    "isometric": _cubes,
    "low-poly": _facets,
    "origami": _folds,
    "line-art": _spiral,
    "cinematic": _letterbox,
}


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _caption(image: Image.Image, prompt: str, model: str) -> None:
    w, h = image.size
    band = max(34, h // 16)
    d = ImageDraw.Draw(image)
    d.rectangle((0, h - band, w, h), fill=(0, 0, 0))
    start = " ".join(prompt.split())
    start = start if len(start) <= 70 else start[:67] + "..."
    text = f"{CAPTION} | {model} | {start}"
    font = _font(band * 9 // 20)
    try:
        d.text((band // 3, h - band * 3 // 4), text, fill=(255, 255, 255), font=font)
    except UnicodeEncodeError:  # a bitmap font without the prompt's characters
        safe = text.encode("ascii", "replace").decode()
        d.text((band // 3, h - band * 3 // 4), safe, fill=(255, 255, 255), font=font)


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()


def draw_picture(
    *,
    enhanced: str,
    prompt: str,
    model: str,
    preset: str,
    aspect_ratio: str,
    index: int,
    source: Image.Image | None = None,
) -> Image.Image:
    """The picture for one image of a request; ``source`` makes it derive from that image."""
    w, h = IMAGE_SIZES.get(aspect_ratio, FALLBACK_SIZE)  # type: ignore[call-overload]
    palette = Palette(_digest(enhanced))
    rng = random.Random(_digest(model, enhanced, index))
    grad = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize((w, h))
    image = Image.composite(Image.new("RGB", (w, h), palette.dark), Image.new("RGB", (w, h), palette.light), grad)
    if preset == "3d-model":
        _sphere(image, rng, palette)
    else:
        MOTIFS.get(preset or "none", _undefined)(ImageDraw.Draw(image), w, h, rng, palette)
    if preset == "analog-film":
        grain = Image.effect_noise((w, h), 48).convert("RGB")
        image = Image.blend(image, grain, 0.18)
    if source is not None:
        # Mostly the source, the motif over it: visibly derived, visibly local.
        image = Image.blend(ImageOps.fit(source, (w, h)), image, 0.35)
    _caption(image, prompt, model)
    return image


def decode_source(source: str) -> Image.Image:
    """The image in a ``sourceImage``: a data URL, or bare base64 as the service also accepts.

    Raises ValueError when it is not an image (the model would fail on it too).
    """
    data = source.split(",", 1)[1] if source.startswith("data:") and "," in source else source
    try:
        raw = base64.b64decode(data, validate=False)
        with Image.open(io.BytesIO(raw)) as opened:
            return opened.convert("RGB")
    except (binascii.Error, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise ValueError(f"sourceImage is not a readable image: {exc}") from exc


def encode_webp(image: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    # method=0 is libwebp's fastest setting: tens of ms per image instead of hundreds.
    image.save(out, "WEBP", quality=quality, method=0)
    return out.getvalue()


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()
