"""ComfyUI IMAGE tensors <-> pictures: source images out, generated images in.

ComfyUI's IMAGE is a float32 tensor [B, H, W, C] in 0..1; MASK is [B, H, W] with
1 where the image is transparent (as LoadImage makes it). numpy and torch are
imported here, when a node runs, never when the pack loads.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["has_transparency", "source_data_urls", "stack_pictures"]


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


def _as_tensor(pixels: Any) -> Any:
    import torch

    # PIL's arrays are read-only; we only read them (copy_ into the batch), so torch's
    # warning about writing to them does not apply.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(pixels)


def stack_pictures(pictures: list[PILImage.Image]) -> tuple[Any, Any]:
    """(IMAGE [B, H, W, 3] float32 0..1 RGB, MASK [B, H, W]) at the first picture's size.

    Pictures of another size are letterboxed into it: scaled to fit, centred,
    never stretched or cropped; the border is black in IMAGE and 1 in MASK.
    Transparency goes to MASK (1 = transparent), the colours stay in IMAGE.

    The batch is allocated once and filled in place: uint8 pixels are converted
    straight into it on torch's threads, with no float copy per picture.
    """
    import numpy as np
    import torch

    if not pictures:
        raise ValueError("no pictures to stack")
    width, height = pictures[0].size
    images = torch.empty((len(pictures), height, width, 3), dtype=torch.float32)
    masks = torch.zeros((len(pictures), height, width), dtype=torch.float32)
    for index, picture in enumerate(pictures):
        if picture.size == (width, height) and not has_transparency(picture):
            rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
            images[index].copy_(_as_tensor(np.asarray(rgb)))
            continue
        rgba = _as_tensor(np.asarray(_letterbox(picture.convert("RGBA"), (width, height))))
        images[index].copy_(rgba[..., :3])
        masks[index].copy_(rgba[..., 3]).mul_(-1.0).add_(255.0)
    # One scaling pass over the whole batch (multi-threaded), instead of one per picture.
    images.mul_(1 / 255)
    masks.mul_(1 / 255)
    return images, masks
