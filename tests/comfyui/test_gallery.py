"""The "Milady Gallery" node: a recent generation loaded again as an IMAGE, without paying."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import torch

from milady_integrations.local import LocalServer


@pytest.fixture
def own_gallery(milady_env: LocalServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A key of its own (the local server takes any key): its gallery holds only this test's generations."""
    key = f"gallery-{uuid.uuid4().hex}"
    monkeypatch.setenv("MILADY_API_KEY", key)
    return key


def test_the_gallery_node_is_declared_like_the_generate_node(pack: Any) -> None:
    gallery = pack.NODE_CLASS_MAPPINGS["MiladyGallery"]
    declared = gallery.INPUT_TYPES()
    kind, config = declared["required"]["index"]
    assert kind == "INT" and (config["min"], config["default"]) == (0, 0)
    assert declared["optional"]["account"][1]["default"] == "default"
    assert gallery.RETURN_TYPES == ("IMAGE", "STRING", "STRING")
    assert gallery.RETURN_NAMES == ("image", "prompt", "url")


async def test_loads_the_newest_generation_without_paying(
    pack: Any, inputs: Any, milady_env: LocalServer, own_gallery: str, run: Any, comfy: Any
) -> None:
    generate = pack.NODE_CLASS_MAPPINGS["MiladyGenerateImage"]
    gallery = pack.NODE_CLASS_MAPPINGS["MiladyGallery"]
    await run(generate, inputs(prompt="an older picture of a boat"))
    made, _text, urls, _mask = await run(generate, inputs(prompt="the newest picture of a fox"))
    requests, credits = milady_env.stats.generate_requests, milady_env.credits(own_gallery)
    image, prompt, url = await run(gallery, {"index": 0, "unique_id": "9"})
    assert prompt == "the newest picture of a fox" and url == urls
    assert image.shape == made.shape and torch.equal(image, made)
    older, older_prompt, _url = await run(gallery, {"index": 1, "unique_id": "9"})
    assert older_prompt == "an older picture of a boat" and not torch.equal(older, made)
    assert milady_env.stats.generate_requests == requests
    assert milady_env.credits(own_gallery) == credits
    assert comfy.text_lines[-1].startswith("Milady: generation 1 from your gallery")


async def test_an_index_past_the_gallery_says_so(pack: Any, inputs: Any, own_gallery: str, run: Any) -> None:
    await run(pack.NODE_CLASS_MAPPINGS["MiladyGenerateImage"], inputs())
    with pytest.raises(Exception) as caught:
        await run(pack.NODE_CLASS_MAPPINGS["MiladyGallery"], {"index": 1, "unique_id": "9"})
    assert str(caught.value).startswith("index=1: your gallery has no generation there")
