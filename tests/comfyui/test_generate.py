"""The node against the local server over loopback: what an artist gets out of each run."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import torch

from milady_integrations.local import IMAGE_SIZES, LocalServer


def _check_images(images: Any, count: int, size: tuple[int, int]) -> None:
    width, height = size
    assert isinstance(images, torch.Tensor)
    assert images.shape == (count, height, width, 3)
    assert images.dtype == torch.float32
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    assert float(images.std()) > 0.01  # a picture, not a flat placeholder


async def test_text_to_image(node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any) -> None:
    images, text, urls, mask = await node_class().generate(**inputs(style_preset="cinematic"))
    _check_images(images, 1, IMAGE_SIZES["1:1"])
    assert text == ""  # the model's own text: none here; the prompt the service built:
    assert milady_env.requests[0]["enhancedPrompt"] == (
        "Generate an image: a lighthouse at dusk in a cinematic style with dramatic lighting and composition, "
        "square composition"
    )
    assert urls.startswith(milady_env.base_url) and len(urls.splitlines()) == 1
    assert mask.shape == images.shape[:3] and float(mask.max()) == 0.0


@pytest.mark.parametrize("aspect_ratio", ["16:9", "9:21"])
async def test_aspect_ratio_decides_the_tensor_size(
    node_class: type, inputs: Any, milady_env: LocalServer, aspect_ratio: str
) -> None:
    images, *_ = await node_class().generate(**inputs(aspect_ratio=aspect_ratio))
    _check_images(images, 1, IMAGE_SIZES[aspect_ratio])  # type: ignore[index]


async def test_four_images_in_one_batch_with_progress(
    node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    before = milady_env.stats.generate_requests
    images, _text, urls, mask = await node_class().generate(**inputs(num_images=4))
    _check_images(images, 4, IMAGE_SIZES["1:1"])
    assert milady_env.stats.generate_requests - before == 1
    assert len(set(urls.splitlines())) == 4
    assert not torch.equal(images[0], images[1])
    assert mask.shape == (4, *images.shape[1:3])
    # The bar advances once per image, on this node.
    assert [u[:2] for u in comfy.bar_updates] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert {u[2] for u in comfy.bar_updates} == {"7"}
    assert comfy.text_lines[0].startswith("Milady: Generating 4 images with google/gemini-2.5-flash-image: 0 s")
    assert comfy.text_lines[-1].startswith("Milady: 4 images in ")
    assert {node_id for _, node_id in comfy.texts} == {"7"}


async def test_progress_text_shows_elapsed_time_while_waiting(
    node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    milady_env.faults.update(latency=2.5)
    await node_class().generate(**inputs())
    waiting = [t for t in comfy.text_lines if t.startswith("Milady: Generating")]
    assert [t.rsplit(": ", 1)[1] for t in waiting][:3] == ["0 s", "1 s", "2 s"]


async def test_image_to_image_sends_the_source(node_class: type, inputs: Any, milady_env: LocalServer) -> None:
    source = torch.rand(1, 96, 128, 3)
    images, _text, _urls, _mask = await node_class().generate(**inputs(source_image=source))
    _check_images(images, 1, IMAGE_SIZES["1:1"])
    # The service words an image-to-image prompt differently: proof the source arrived.
    assert milady_env.requests[0]["enhancedPrompt"] == (
        "Using the provided image as a reference, generate a new image: a lighthouse at dusk, square composition"
    )


async def test_rgba_and_single_image_sources_are_accepted(
    node_class: type, inputs: Any, milady_env: LocalServer
) -> None:
    for source in (torch.rand(1, 32, 32, 4), torch.rand(32, 32, 3)):
        images, *_ = await node_class().generate(**inputs(source_image=source))
        assert images.shape[0] == 1
        assert milady_env.requests[0]["enhancedPrompt"].startswith("Using the provided image")


async def test_a_batch_of_sources_sends_one_request_per_image(
    node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    before = milady_env.stats.generate_requests
    sources = torch.rand(3, 40, 40, 3)
    images, _text, urls, _mask = await node_class().generate(**inputs(source_image=sources, num_images=2))
    assert milady_env.stats.generate_requests - before == 3
    _check_images(images, 6, IMAGE_SIZES["1:1"])
    assert len(urls.splitlines()) == 6
    assert comfy.bar_updates[-1][:2] == (6, 6)


async def test_an_image_the_service_sent_inline_has_no_url(
    node_class: type, inputs: Any, milady_env: LocalServer
) -> None:
    milady_env.faults.update(storage_failure=True)
    images, _text, urls, _mask = await node_class().generate(**inputs(num_images=2))
    _check_images(images, 2, IMAGE_SIZES["1:1"])
    assert urls == ""


async def test_partial_success_returns_what_came_back_and_says_so(
    node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    milady_env.faults.update(fail_images=1)
    images, *_ = await node_class().generate(**inputs(num_images=3))
    assert images.shape[0] == 2
    assert "Asked for 3 images, the service returned 2" in comfy.text_lines[-1]


async def test_a_refunded_500_is_retried(node_class: type, inputs: Any, milady_env: LocalServer) -> None:
    milady_env.faults.force_status(500, count=1)  # "No images were generated": refunded, safe to repeat
    before = milady_env.stats.generate_requests
    images, *_ = await node_class().generate(**inputs())
    assert images.shape[0] == 1
    assert milady_env.stats.generate_requests == before + 2


async def test_cancel_stops_a_slow_request(node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any) -> None:
    latency = 20.0
    milady_env.faults.update(latency=latency)
    before = milady_env.stats.generate_requests
    task = asyncio.create_task(node_class().generate(**inputs()))
    # Wait until the request has reached the service (its counters live in another thread).
    while milady_env.stats.generate_requests == before:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    started = time.monotonic()
    comfy.interrupt()  # what ComfyUI's Cancel button does
    interrupt_exception = comfy.modules["comfy.model_management"].InterruptProcessingException
    with pytest.raises(interrupt_exception):
        await task
    assert time.monotonic() - started < latency  # it did not wait for the answer
    assert comfy.processing_interrupted() is False  # ComfyUI's flag is cleared, as its own nodes do
    assert not any(t.startswith("Milady: 1 image") for t in comfy.text_lines)


async def test_cancel_before_sending_raises_the_interrupt(
    node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    before = milady_env.stats.generate_requests
    comfy.interrupt()
    with pytest.raises(comfy.modules["comfy.model_management"].InterruptProcessingException):
        await node_class().generate(**inputs())
    assert milady_env.stats.generate_requests == before
