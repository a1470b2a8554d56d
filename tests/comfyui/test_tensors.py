"""Tensor conversions: sources out as PNG data URLs, results in as one stackable RGB batch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from milady_integrations import AsyncMiladyClient
from milady_integrations.images import decode_data_url, decode_image
from milady_integrations.local import IMAGE_SIZES, LocalServer


@pytest.fixture
def tensors(pack: Any) -> Any:
    from comfyui_nodes import _tensors

    return _tensors


async def _served(server: LocalServer, aspect_ratio: str) -> Image.Image:
    async with AsyncMiladyClient(server.api_key, base_url=server.base_url) as client:
        result = await client.generate_image("a tower", aspect_ratio=aspect_ratio)
        return decode_image(await client.read_image(result.images[0]))


async def test_images_of_different_sizes_are_letterboxed_into_the_first(tensors: Any, server: LocalServer) -> None:
    square, wide = await _served(server, "1:1"), await _served(server, "16:9")
    images, masks = tensors.stack_pictures([square, wide])
    width, height = IMAGE_SIZES["1:1"]
    assert images.shape == (2, height, width, 3) and images.dtype == torch.float32
    # The wide picture fits the width; bars above and below are black and marked in the mask.
    band = round(IMAGE_SIZES["16:9"][1] * width / IMAGE_SIZES["16:9"][0])
    top = (height - band) // 2
    assert float(images[1, : top - 1].max()) == 0.0 and float(masks[1, : top - 1].min()) == 1.0
    assert float(masks[1, top + 2 : top + band - 2].max()) == 0.0
    assert float(images[1, height // 2].std()) > 0.0
    assert float(masks[0].max()) == 0.0  # the first image is untouched
    assert torch.allclose(images[0], torch.from_numpy(np.asarray(square.convert("RGB"), dtype=np.float32) / 255))


async def test_a_taller_picture_gets_side_bars(tensors: Any, server: LocalServer) -> None:
    wide, tall = await _served(server, "16:9"), await _served(server, "9:16")
    images, masks = tensors.stack_pictures([wide, tall])
    width, height = IMAGE_SIZES["16:9"]
    assert images.shape == (2, height, width, 3)
    assert float(masks[1, :, :10].min()) == 1.0 and float(masks[1, :, width // 2].max()) == 0.0


def test_transparency_goes_to_the_mask_and_colours_stay(tensors: Any) -> None:
    picture = Image.new("RGBA", (8, 4), (255, 0, 0, 255))
    picture.putpixel((0, 0), (0, 255, 0, 0))
    images, masks = tensors.stack_pictures([picture])
    assert images.shape == (1, 4, 8, 3)
    assert images[0, 0, 0].tolist() == [0.0, 1.0, 0.0]
    assert float(masks[0, 0, 0]) == 1.0 and float(masks[0, 1, 1]) == 0.0
    assert tensors.has_transparency(picture) and not tensors.has_transparency(picture.convert("RGB"))


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
