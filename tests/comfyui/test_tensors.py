"""Tensor conversions: sources out as PNG data URLs, results in as one stackable RGB batch."""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from milady_integrations import AsyncMiladyClient
from milady_integrations.images import decode_data_url, decode_image
from milady_integrations.local import IMAGE_SIZES, LocalServer

# The pack mutes this notice once per process; pytest resets warning filters for every test.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The image decoding and encoding capabilities of TorchVision:DeprecationWarning"
)


@pytest.fixture
def tensors(pack: Any) -> Any:
    from comfyui_nodes import _tensors

    return _tensors


def test_sources_become_png_data_urls_without_losing_pixels(tensors: Any) -> None:
    source = torch.rand(2, 5, 7, 3)
    urls = tensors.source_data_urls(source)
    assert len(urls) == 2
    mime, data = decode_data_url(urls[1])
    assert mime == "image/png"
    back = torch.from_numpy(np.asarray(decode_image(data), dtype=np.float32) / 255)
    assert torch.allclose(back, source[1], atol=0.5 / 255 + 1e-6)


def test_a_source_over_the_limit_is_downscaled_to_fit(tensors: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from milady_integrations import images

    limit = 60_000
    monkeypatch.setattr(images, "SOURCE_IMAGE_MAX_CHARS", limit)
    (url,) = tensors.source_data_urls(torch.rand(1, 200, 300, 3))  # noise: about 240 kB as PNG
    assert len(url) <= limit
    picture = decode_image(decode_data_url(url)[1])
    assert picture.width < 300 and abs(picture.width / picture.height - 1.5) < 0.02


def test_half_precision_and_out_of_range_values_are_clamped(tensors: Any) -> None:
    source = (torch.rand(1, 4, 4, 3) * 3 - 1).half()
    (url,) = tensors.source_data_urls(source)
    assert decode_image(decode_data_url(url)[1]).size == (4, 4)


# ---------------------------------------------------------------- bytes -> (IMAGE, MASK)

DECODERS = ["pil", "torchvision"]


@pytest.fixture(params=DECODERS)
def decoder(request: pytest.FixtureRequest, tensors: Any) -> str:
    """Each decoding path; torchvision's must run in CI (its pair of torch and torchvision is installed there)."""
    if request.param == "torchvision" and not tensors.torchvision_decodes():
        if os.environ.get("CI"):
            pytest.fail("torchvision's decoders do not load in CI: the torch/torchvision pair is not installed")
        pytest.skip("torchvision's decoders do not load here (install torch==2.14.1 torchvision==0.29.1)")
    return str(request.param)


async def _served_bytes(server: LocalServer, aspect_ratio: str, prompt: str = "a tower") -> bytes:
    async with AsyncMiladyClient(server.api_key, base_url=server.base_url) as client:
        result = await client.generate_image(prompt, aspect_ratio=aspect_ratio)
        return await client.read_image(result.images[0])


def _encoded(picture: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def _transparent_picture(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """Colours everywhere, alpha from opaque to clear, and a fully clear corner with a colour of its own."""
    rgba = np.zeros((size[1], size[0], 4), dtype=np.uint8)
    rgba[..., 0] = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :]
    rgba[..., 1] = np.linspace(255, 0, size[1], dtype=np.uint8)[:, None]
    rgba[..., 2] = 90
    rgba[..., 3] = np.linspace(255, 0, size[0], dtype=np.uint8)[None, :]
    rgba[:8, :8] = (200, 40, 10, 0)
    return Image.fromarray(rgba, mode="RGBA")


def _pil_reference(datas: list[bytes]) -> tuple[torch.Tensor, torch.Tensor]:
    """What LoadImage-style stacking of Pillow's decoding gives: RGBA, letterboxed into the first size."""
    pictures = [decode_image(data) for data in datas]
    size = pictures[0].size
    rgba = np.stack(
        [
            np.asarray(ImageOps.pad(p.convert("RGBA"), size, Image.Resampling.LANCZOS, (0, 0, 0, 0)), dtype=np.float32)
            for p in pictures
        ]
    )
    return torch.from_numpy(rgba[..., :3] / 255), torch.from_numpy(1 - rgba[..., 3] / 255)


def _assert_same_as_pil(images: torch.Tensor, masks: torch.Tensor, datas: list[bytes]) -> None:
    """Within 1/255 per channel of decoding the same bytes with Pillow."""
    expected_images, expected_masks = _pil_reference(datas)
    assert images.shape == expected_images.shape and masks.shape == expected_masks.shape
    assert images.dtype == masks.dtype == torch.float32
    assert float((images - expected_images).abs().max()) <= 1 / 255
    assert float((masks - expected_masks).abs().max()) <= 1 / 255


async def test_served_webp_images_decode_as_pillow_decodes_them(
    tensors: Any, server: LocalServer, decoder: str
) -> None:
    datas = [await _served_bytes(server, "1:1", f"a tower {i}") for i in range(3)]
    images, masks = tensors.decode_and_stack(datas, decoder=decoder)
    assert images.shape == (3, *IMAGE_SIZES["1:1"][::-1], 3)
    assert float(masks.max()) == 0.0
    _assert_same_as_pil(images, masks, datas)


async def test_mixed_sizes_are_letterboxed_into_the_first_whatever_the_decoder(
    tensors: Any, server: LocalServer, decoder: str
) -> None:
    datas = [await _served_bytes(server, ratio) for ratio in ("16:9", "9:16", "16:9")]
    images, masks = tensors.decode_and_stack(datas, decoder=decoder)
    width, height = IMAGE_SIZES["16:9"]
    assert images.shape == (3, height, width, 3)
    assert float(masks[1, :, :10].min()) == 1.0 and float(masks[1, :, width // 2].max()) == 0.0
    assert float(masks[2].max()) == 0.0
    _assert_same_as_pil(images, masks, datas)


async def test_a_wider_picture_gets_bars_above_and_below(tensors: Any, server: LocalServer, decoder: str) -> None:
    datas = [await _served_bytes(server, "1:1"), await _served_bytes(server, "16:9")]
    images, masks = tensors.decode_and_stack(datas, decoder=decoder)
    width, height = IMAGE_SIZES["1:1"]
    assert images.shape == (2, height, width, 3) and images.dtype == torch.float32
    # The wide picture fits the width; bars above and below are black and marked in the mask.
    band = round(IMAGE_SIZES["16:9"][1] * width / IMAGE_SIZES["16:9"][0])
    top = (height - band) // 2
    assert float(images[1, : top - 1].max()) == 0.0 and float(masks[1, : top - 1].min()) == 1.0
    assert float(masks[1, top + 2 : top + band - 2].max()) == 0.0
    assert float(images[1, height // 2].std()) > 0.0
    assert float(masks[0].max()) == 0.0  # the first image is untouched
    _assert_same_as_pil(images, masks, datas)


def test_a_clear_pixel_keeps_its_colour_and_is_1_in_the_mask(tensors: Any, decoder: str) -> None:
    picture = Image.new("RGBA", (8, 4), (255, 0, 0, 255))
    picture.putpixel((0, 0), (0, 255, 0, 0))
    images, masks = tensors.decode_and_stack([_encoded(picture, "PNG")], decoder=decoder)
    assert images.shape == (1, 4, 8, 3)
    assert images[0, 0, 0].tolist() == [0.0, 1.0, 0.0] and images[0, 1, 1].tolist() == [1.0, 0.0, 0.0]
    assert float(masks[0, 0, 0]) == 1.0 and float(masks[0, 1, 1]) == 0.0


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("WEBP", {"lossless": True, "exact": True}), ("WEBP", {"quality": 80}), ("PNG", {})],
)
def test_transparency_goes_to_the_mask_with_either_decoder(
    tensors: Any, decoder: str, fmt: str, options: dict[str, Any]
) -> None:
    picture = _transparent_picture()
    data = _encoded(picture, fmt, **options)
    images, masks = tensors.decode_and_stack([data, data], decoder=decoder)
    assert images.shape == (2, 48, 64, 3) and masks.shape == (2, 48, 64)
    # Clear pixels are 1 in the mask and keep their colour (where the file keeps it); opaque ones are 0.
    assert float(masks[0, 0, 0]) == 1.0 and float(masks[1, 20, 9]) < 0.15 and float(masks[1, 20, 60]) > 0.9
    if fmt == "PNG" or options.get("exact"):
        assert images[0, 0, 0].tolist() == pytest.approx([200 / 255, 40 / 255, 10 / 255], abs=2 / 255)
    _assert_same_as_pil(images, masks, [data, data])


def test_jpeg_and_png_and_a_palette_picture_decode_as_pillow_decodes_them(tensors: Any, decoder: str) -> None:
    base = _transparent_picture((64, 48))
    datas = [
        _encoded(base.convert("RGB"), "JPEG", quality=90),
        _encoded(base.convert("RGB"), "PNG"),
        _encoded(base.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE), "PNG", transparency=0),
        _encoded(base.convert("L"), "PNG"),
    ]
    images, masks = tensors.decode_and_stack(datas, decoder=decoder)
    assert images.shape == (4, 48, 64, 3)
    _assert_same_as_pil(images, masks, datas)


async def test_an_unreadable_image_is_named_or_set_aside(tensors: Any, server: LocalServer, decoder: str) -> None:
    from milady_integrations import ImageDownloadError

    good = await _served_bytes(server, "1:1")
    truncated = good[: len(good) // 2]
    for bad in (b"<html>not an image</html>", truncated):
        with pytest.raises(ImageDownloadError, match="image 2"):
            tensors.decode_and_stack([good, bad, good], decoder=decoder)
        failures: list[ImageDownloadError] = []
        images, masks = tensors.decode_and_stack([bad, good, good], failures=failures, decoder=decoder)
        # The paid-for images that did decode are kept; the other is reported.
        assert images.shape[0] == 2 and masks.shape[0] == 2
        assert len(failures) == 1 and "image 1" in str(failures[0])
        _assert_same_as_pil(images, masks, [good, good])
    with pytest.raises(ImageDownloadError, match="image 1"):
        tensors.decode_and_stack([b"nothing"], failures=[], decoder=decoder)


def test_an_image_over_pillow_s_pixel_guard_is_set_aside_and_the_others_kept(
    tensors: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    from milady_integrations import ImageDownloadError

    small = _encoded(Image.new("RGB", (16, 16), (10, 200, 30)), "PNG")
    large = _encoded(Image.new("RGB", (64, 64), (200, 10, 30)), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64x64 is over twice that: Pillow refuses it
    failures: list[ImageDownloadError] = []
    images, _masks = tensors.decode_and_stack([small, large, small], failures=failures, decoder="pil")
    assert images.shape == (2, 16, 16, 3)
    assert len(failures) == 1 and "image 2" in str(failures[0])
