"""What the agent faces get from the core's calls module, apart from sending."""

from __future__ import annotations

import pytest

from milady_integrations import AsyncMiladyClient
from milady_integrations.calls import image_parts, models_now, models_reply
from milady_integrations.local import LocalServer
from milady_integrations.results import GeneratedImage, ImageGenerationResult


def test_an_inline_image_is_a_block_even_when_its_base64_is_damaged() -> None:
    # The images were paid for: a reply block is built from the data URL's header, never by decoding it.
    result = ImageGenerationResult(images=[GeneratedImage(data_url="data:image/webp;base64,not*base64")], requested=1)
    assert image_parts(result) == [{"base64": "not*base64", "mime_type": "image/webp"}]


@pytest.mark.parametrize("down", ["pricing", "models"])
async def test_the_model_list_keeps_what_the_service_said_when_its_other_route_is_down(
    server: LocalServer, down: str
) -> None:
    server.faults.update(down=down, down_status=503)
    async with AsyncMiladyClient(server.api_key, base_url=server.base_url, max_retries=0) as client:
        models, prices = await models_now(client)
    available = {m["id"]: m["available"] for m in models}
    if down == "pricing":
        assert prices is None
        assert available["bfl/flux-kontext-max"] is False and available["google/gemini-2.5-flash-image"] is True
    else:
        assert prices is not None and prices.max > prices.min > 0
        assert set(available.values()) == {None}  # not known, rather than "available"


async def test_an_agent_reads_status_unknown_when_the_service_does_not_say(server: LocalServer) -> None:
    server.faults.update(down="models", down_status=503)
    async with AsyncMiladyClient(server.api_key, base_url=server.base_url, max_retries=0) as client:
        text, _ = await models_reply(client)
    assert all(line.endswith("(status unknown)") for line in text.splitlines()[:-1])
