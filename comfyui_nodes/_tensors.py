"""ComfyUI IMAGE tensors <-> pictures. IMAGE is float32 [B, H, W, 3] in 0..1; MASK is [B, H, W],
1 where transparent (as LoadImage makes them). numpy, torch, torchvision load when a node runs."""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from milady_integrations import ImageDownloadError, MiladyError

__all__ = ["decode_and_stack", "source_data_urls", "torchvision_decodes"]

Decoder = Literal["torchvision", "pil"]
#: What torchvision decodes exactly as Pillow does: 8-bit colour, with or without alpha.
_TORCHVISION_READS = {(fmt, mode) for fmt in ("PNG", "JPEG") for mode in ("RGB", "RGBA")}
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def source_data_urls(images: Any) -> list[str]:
    """One PNG data URL per image of a [B, H, W, C] (or [H, W, C]) tensor, downscaled to fit the service's limit."""
    from PIL import Image

    from milady_integrations.images import to_source_data_url

    urls = []
    for frame in images if images.ndim == 4 else images.unsqueeze(0):
        # Round, not truncate: 0.5/255 steps must survive a round trip.
        pixels = (frame.detach().float().clamp(0.0, 1.0) * 255.0).round().to("cpu").numpy().astype("uint8")
        channels = pixels.shape[-1]
        picture = Image.fromarray(pixels[..., 0] if channels == 1 else pixels[..., : 4 if channels == 4 else 3])
        urls.append(to_source_data_url(picture, downscale=True))
    return urls


@lru_cache(maxsize=1)
def torchvision_decodes() -> bool:
    """Whether torchvision's decoders work here (one built for another torch imports, then fails)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torchvision.io import ImageReadMode, decode_image  # noqa: F401
        # torchvision 0.29 warns on every decode that TorchCodec will take these decoders over;
        # they are still there and still the fastest way into a tensor. Only that message is muted.
        warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision")
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGBA", (2, 1), (10, 20, 30, 40)).save(buffer, "PNG")
        return bool(_torchvision_pixels(buffer.getvalue())[0, 1].tolist() == [10, 20, 30, 40])
    except Exception:
        return False


def _torchvision_pixels(data: bytes) -> Any:
    """uint8 [H, W, 3 or 4] decoded by torchvision, or None where Pillow must decide."""
    import torch
    from PIL import Image
    from torchvision.io import ImageReadMode, decode_image

    channels: tuple[int, ...] = (3, 4)  # WebP: libwebp tells both decoders alike whether there is alpha
    try:
        if data[8:12] != b"WEBP":  # (Pillow's header is cheap but for WebP)
            with Image.open(io.BytesIO(data)) as header:  # reads no pixels
                if (header.format, header.mode) not in _TORCHVISION_READS:
                    return None
                channels = (len(header.mode),)  # an RGB PNG's colour key is no alpha to Pillow
        decoded = decode_image(torch.frombuffer(bytearray(data), dtype=torch.uint8), ImageReadMode.UNCHANGED)
    except Exception:  # a variant torchvision does not read: Pillow decides (and names the error)
        return None
    if decoded.dtype != torch.uint8 or decoded.shape[0] not in channels:
        return None
    return decoded.permute(1, 2, 0).numpy()  # CHW is a view of HWC memory here: no copy


def _pixels(data: bytes, label: str, size: tuple[int, int], use_torchvision: bool) -> Any:
    """uint8 [H, W, 3 or 4] of one image fitted to ``size``: RGB when opaque, RGBA otherwise."""
    import numpy as np
    from PIL import Image, ImageOps

    from milady_integrations.images import decode_image

    pixels = _torchvision_pixels(data) if use_torchvision else None
    if pixels is None:
        picture = decode_image(data, what=label)
        # Transparent as LoadImage sees it: an alpha band, or a palette with a transparent colour.
        transparent = picture.mode in _ALPHA_MODES or (picture.mode == "P" and "transparency" in picture.info)
        mode = "RGBA" if transparent else "RGB"
        pixels = np.asarray(picture if picture.mode == mode else picture.convert(mode))
    if pixels.shape[1::-1] == size:
        return pixels
    # Letterboxed: scaled to fit, centred; the border is transparent black.
    picture = Image.fromarray(pixels).convert("RGBA")
    return np.asarray(ImageOps.pad(picture, size, Image.Resampling.LANCZOS, (0, 0, 0, 0)))


def _header_size(data: bytes) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as header:  # reads no pixels
            return header.size
    except Exception:
        return None


def decode_and_stack(
    datas: Sequence[bytes],
    *,
    failures: list[MiladyError] | None = None,
    decoder: Decoder | None = None,
) -> tuple[Any, Any]:
    """Decode image bytes into (IMAGE [B, H, W, 3] float32 0..1 RGB, MASK [B, H, W]).

    The batch takes the first readable image's size; the others are letterboxed into it
    (scaled to fit, centred; the border black in IMAGE and 1 in MASK). The images are
    decoded on all cores, each converted straight into its slot of the batch. ``decoder``
    forces a path; by default torchvision when it works, Pillow otherwise.

    An image that does not decode raises ``ImageDownloadError`` ("image 2 ..."); with
    ``failures`` given, it is left out and its error appended, unless none decodes.
    """
    import numpy as np
    import torch

    from milady_integrations import ImageDownloadError

    if not datas:
        raise ValueError("no images to stack")
    use_torchvision = torchvision_decodes() if decoder is None else decoder == "torchvision"
    if use_torchvision and not torchvision_decodes():
        raise RuntimeError("torchvision's image decoders are not available here")

    # The first image that reads sets the size; if none does, each fails below in the core's words.
    size = next(filter(None, map(_header_size, datas)), (1, 1))
    # numpy asks for huge pages where torch.empty does not: first touching a fresh 48 MiB
    # batch then costs 3 ms of page faults instead of 14 (they are dear on this kind of VM).
    images = np.empty((len(datas), size[1], size[0], 3), dtype=np.float32)
    masks = np.zeros((len(datas), size[1], size[0]), dtype=np.float32)
    scale = np.float32(1 / 255)
    errors: dict[int, ImageDownloadError] = {}

    slots = iter(range(len(datas)))  # next() on it is atomic: each image is taken once

    def fill() -> None:  # uint8 -> float32 in one pass, straight into the batch
        for slot in slots:
            try:
                pixels = _pixels(datas[slot], f"image {slot + 1}", size, use_torchvision)
            except ImageDownloadError as exc:
                errors[slot] = exc
                continue
            except Exception as exc:  # e.g. Pillow's decompression-bomb guard: this image only
                errors[slot] = ImageDownloadError(f"image {slot + 1} could not be decoded: {exc}", hint="")
                continue
            np.multiply(pixels[..., :3], scale, out=images[slot], dtype=np.float32)
            if pixels.shape[-1] == 4:  # else the mask stays as allocated: zero pages, never touched
                np.subtract(np.float32(255), pixels[..., 3], out=masks[slot], dtype=np.float32)
                masks[slot] *= scale

    # One helper per other core; this thread works too, so on a busy machine, where the
    # helpers wait to be scheduled, it does the work alone instead of waiting for them.
    helpers = [_helpers().submit(fill) for _ in range(min(len(datas), os.cpu_count() or 1) - 1)]
    try:
        fill()
    finally:  # never return while a helper still writes into the batch
        for helper in helpers:
            helper.result()
    if errors:
        if failures is None or len(errors) == len(datas):
            raise errors[min(errors)]
        failures.extend(errors[index] for index in sorted(errors))
        keep = [slot for slot in range(len(datas)) if slot not in errors]
        images, masks = images[keep], masks[keep]  # copies, but only when an image is left out
    return torch.from_numpy(images), torch.from_numpy(masks)


@lru_cache(maxsize=1)
def _helpers() -> ThreadPoolExecutor:  # kept: starting threads per run costs more than they save
    return ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1) - 1), thread_name_prefix="milady-decode")
