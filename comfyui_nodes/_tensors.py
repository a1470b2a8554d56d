"""ComfyUI IMAGE tensors <-> pictures: source images out, generated images in.

ComfyUI's IMAGE is a float32 tensor [B, H, W, C] in 0..1; MASK is [B, H, W] with
1 where the image is transparent (as LoadImage makes it). numpy, torch and
torchvision are imported here, when a node runs, never when the pack loads.

Generated images come in as bytes: ``decode_and_stack`` decodes them on all cores
(libwebp, libpng, libjpeg and Pillow release the GIL) straight into one batch
allocated once. torchvision's decoders (ComfyUI always ships torchvision) are used
when they load; Pillow otherwise, and for what torchvision would read differently.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from milady_integrations import ImageDownloadError

__all__ = ["decode_and_stack", "has_transparency", "source_data_urls", "stack_pictures", "torchvision_decodes"]

Decoder = Literal["torchvision", "pil"]
#: What torchvision decodes exactly as Pillow does (8-bit colour, with or without alpha).
_TORCHVISION_FORMATS = frozenset({"WEBP", "PNG", "JPEG"})
_TORCHVISION_MODES = {"RGB": 3, "RGBA": 4}


def _frame_to_pil(frame: Any) -> PILImage.Image:
    from PIL import Image

    # Round, not truncate: 0.5/255 steps must survive a round trip.
    pixels = (frame.detach().float().clamp(0.0, 1.0) * 255.0).round().to("cpu").numpy().astype("uint8")
    channels = pixels.shape[-1] if pixels.ndim == 3 else 1
    if channels == 1:
        return Image.fromarray(pixels.reshape(pixels.shape[0], pixels.shape[1]), mode="L")
    if channels == 4:
        return Image.fromarray(pixels, mode="RGBA")
    return Image.fromarray(pixels[..., :3], mode="RGB")


def source_data_urls(images: Any) -> list[str]:
    """One PNG data URL per image of a [B, H, W, C] (or [H, W, C]) tensor.

    An image whose data URL would exceed the service's limit is downscaled
    (aspect ratio kept) until it fits, as ``to_source_data_url(..., downscale=True)`` does.
    """
    from milady_integrations.images import to_source_data_url

    frames = images if images.ndim == 4 else images.unsqueeze(0)
    return [to_source_data_url(_frame_to_pil(frame), downscale=True) for frame in frames]


def has_transparency(picture: PILImage.Image) -> bool:
    if picture.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return True
    return picture.mode == "P" and "transparency" in picture.info


def _letterbox(picture: PILImage.Image, size: tuple[int, int]) -> PILImage.Image:
    """Fit inside ``size`` keeping the aspect ratio, centred; the border is transparent black."""
    from PIL import Image

    if picture.size == size:
        return picture
    width, height = size
    scale = min(width / picture.width, height / picture.height)
    fitted = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    canvas.paste(
        picture.resize(fitted, Image.Resampling.LANCZOS),
        ((width - fitted[0]) // 2, (height - fitted[1]) // 2),
    )
    return canvas


# ---------------------------------------------------------------- one slot of the batch
# Every path ends here, so both decoders give the same numbers. numpy, not torch: one
# thread per image already runs on each core, and numpy converts uint8 to float32 in a
# single pass without the GIL, where torch would hand each op to its own thread pool
# (two images' conversions then queue on the same two threads).

_SCALE = 1 / 255


def _new_batch(count: int, height: int, width: int) -> tuple[Any, Any]:
    """(IMAGE, MASK) to fill. The mask starts as zeros from calloc: the pages of opaque
    images are never touched, which spares the kernel zeroing them up front."""
    import numpy as np
    import torch

    images = torch.empty((count, height, width, 3), dtype=torch.float32)
    masks = torch.from_numpy(np.zeros((count, height, width), dtype=np.float32))
    return images, masks


def _fill(image: Any, mask: Any, pixels: Any) -> None:
    """Write uint8 pixels [H, W, 3 or 4] (numpy, or a CPU tensor) into one IMAGE slot and
    its MASK slot (left at zero, as allocated, for an opaque picture)."""
    import numpy as np

    source = pixels if isinstance(pixels, np.ndarray) else pixels.numpy()
    scale = np.float32(_SCALE)
    np.multiply(source[..., :3], scale, out=image.numpy(), dtype=np.float32)
    if source.shape[-1] == 4:
        alpha = mask.numpy()
        np.subtract(np.float32(255), source[..., 3], out=alpha, dtype=np.float32)
        np.multiply(alpha, scale, out=alpha)


def _fill_from_picture(image: Any, mask: Any, picture: PILImage.Image) -> None:
    import numpy as np

    height, width = image.shape[0], image.shape[1]
    if picture.size == (width, height) and not has_transparency(picture):
        _fill(image, mask, np.asarray(picture if picture.mode == "RGB" else picture.convert("RGB")))
    else:
        _fill(image, mask, np.asarray(_letterbox(picture.convert("RGBA"), (width, height))))


def stack_pictures(pictures: Sequence[PILImage.Image]) -> tuple[Any, Any]:
    """(IMAGE [B, H, W, 3] float32 0..1 RGB, MASK [B, H, W]) at the first picture's size.

    Pictures of another size are letterboxed into it: scaled to fit, centred,
    never stretched or cropped; the border is black in IMAGE and 1 in MASK.
    Transparency goes to MASK (1 = transparent), the colours stay in IMAGE.
    """
    if not pictures:
        raise ValueError("no pictures to stack")
    width, height = pictures[0].size
    images, masks = _new_batch(len(pictures), height, width)
    for index, picture in enumerate(pictures):
        _fill_from_picture(images[index], masks[index], picture)
    return images, masks


# ---------------------------------------------------------------- bytes -> batch


@lru_cache(maxsize=1)
def torchvision_decodes() -> bool:
    """Whether torchvision's image decoders load and work here (checked once, on a tiny PNG).

    A torchvision built for another torch imports with a warning and fails on first use:
    that counts as absent.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch
            from torchvision.io import ImageReadMode, decode_image
        from PIL import Image

        # torchvision 0.29 warns on every decode that TorchCodec will take these decoders over;
        # they are still there and still the fastest way into a tensor. Only that message is muted.
        warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision")

        buffer = io.BytesIO()
        Image.new("RGBA", (2, 1), (10, 20, 30, 40)).save(buffer, "PNG")
        probe = decode_image(torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8), ImageReadMode.UNCHANGED)
        return bool(probe.permute(1, 2, 0)[0, 1].tolist() == [10, 20, 30, 40])
    except Exception:
        return False


def _torchvision_pixels(data: bytes, channels: int) -> Any:
    """uint8 [H, W, C] decoded by torchvision, or None where Pillow must decide."""
    import torch
    from torchvision.io import ImageReadMode, decode_image

    try:
        decoded = decode_image(torch.frombuffer(bytearray(data), dtype=torch.uint8), ImageReadMode.UNCHANGED)
    except Exception:  # a variant torchvision does not read: Pillow decides (and names the error)
        return None
    if decoded.dtype != torch.uint8 or decoded.shape[0] != channels:
        return None  # 16-bit, or a transparency colour key Pillow does not turn into alpha
    # torchvision's CHW is usually a view of HWC memory (the permute is then contiguous); numpy reads either in place.
    return decoded.permute(1, 2, 0)


class _Header:
    """What the first bytes say: size, mode, format (Pillow reads no pixels yet)."""

    def __init__(self, data: bytes) -> None:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as picture:
            self.size: tuple[int, int] = picture.size
            self.mode: str = picture.mode
            self.format: str = picture.format or ""


def _header(data: bytes, label: str) -> _Header:
    from PIL import UnidentifiedImageError

    from milady_integrations.images import decode_image

    try:
        return _Header(data)
    except (UnidentifiedImageError, OSError, ValueError):
        decode_image(data, what=label)  # raises ImageDownloadError with the core's wording
        raise  # pragma: no cover - decode_image cannot succeed where the header failed


def decode_and_stack(
    datas: Sequence[bytes],
    *,
    failures: list[ImageDownloadError] | None = None,
    decoder: Decoder | None = None,
) -> tuple[Any, Any]:
    """Decode image bytes into (IMAGE [B, H, W, 3] float32 0..1 RGB, MASK [B, H, W]).

    The batch takes the first readable image's size; the others are letterboxed as
    ``stack_pictures`` does. Images are decoded in parallel, each straight into its
    slot of the batch. ``decoder`` forces one path ("torchvision" needs it to work
    here); by default torchvision when it works, Pillow otherwise.

    An image that does not decode raises ``ImageDownloadError`` ("image 2 ...").
    With ``failures`` given, such images are left out and their errors appended
    instead, so the images that did decode are kept; nothing at all raises anyway.
    """
    import torch

    from milady_integrations import ImageDownloadError

    if not datas:
        raise ValueError("no images to stack")
    use_torchvision = torchvision_decodes() if decoder is None else decoder == "torchvision"
    if use_torchvision and not torchvision_decodes():
        raise RuntimeError("torchvision's image decoders are not available here")

    errors: dict[int, ImageDownloadError] = {}
    headers: dict[int, _Header] = {}
    for index, data in enumerate(datas):
        try:
            headers[index] = _header(data, f"image {index + 1}")
        except ImageDownloadError as exc:
            errors[index] = exc
    if not headers:
        raise errors[0]
    if errors and failures is None:
        raise errors[min(errors)]

    order = sorted(headers)
    width, height = headers[order[0]].size
    images, masks = _new_batch(len(order), height, width)

    def fill(slot: int) -> None:
        index = order[slot]
        data, header = datas[index], headers[index]
        channels = _TORCHVISION_MODES.get(header.mode)
        if (
            use_torchvision
            and channels is not None
            and header.format in _TORCHVISION_FORMATS
            and header.size == (width, height)
        ):
            pixels = _torchvision_pixels(data, channels)
            if pixels is not None:
                _fill(images[slot], masks[slot], pixels)
                return
        from milady_integrations.images import decode_image

        _fill_from_picture(images[slot], masks[slot], decode_image(data, what=f"image {index + 1}"))

    def fill_or_fail(slot: int) -> ImageDownloadError | None:
        try:
            fill(slot)
        except ImageDownloadError as exc:
            return exc
        return None

    workers = min(len(order), os.cpu_count() or 1)
    if workers == 1:
        late = [fill_or_fail(slot) for slot in range(len(order))]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="milady-decode") as pool:
            late = list(pool.map(fill_or_fail, range(len(order))))

    # Bytes whose header read but whose pixels did not (truncated): rare, so compacted after.
    broken = [slot for slot, error in enumerate(late) if error is not None]
    for slot in broken:
        errors[order[slot]] = late[slot]  # type: ignore[assignment]
    if len(broken) == len(order):
        raise errors[min(errors)]
    if errors and failures is None:
        raise errors[min(errors)]
    if broken:
        keep = torch.tensor([slot for slot in range(len(order)) if slot not in broken])
        images, masks = images.index_select(0, keep), masks.index_select(0, keep)
    if failures is not None:
        failures.extend(errors[index] for index in sorted(errors))
    return images, masks
