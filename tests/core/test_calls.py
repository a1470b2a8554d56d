"""What the agent faces get from the core's calls module, apart from sending."""

from __future__ import annotations

from milady_integrations.calls import image_parts
from milady_integrations.results import GeneratedImage, ImageGenerationResult


def test_an_inline_image_is_a_block_even_when_its_base64_is_damaged() -> None:
    # The images were paid for: a reply block is built from the data URL's header, never by decoding it.
    result = ImageGenerationResult(images=[GeneratedImage(data_url="data:image/webp;base64,not*base64")], requested=1)
    assert image_parts(result) == [{"base64": "not*base64", "mime_type": "image/webp"}]
