"""The node against the local server over loopback: what an artist gets out of each run."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
import torch

from milady_integrations.local import IMAGE_SIZES, LocalServer, ServerConfig

from .conftest import is_v3


async def _waiting_lines(run: Any, node_class: type, inputs: dict[str, Any], comfy: Any) -> list[str]:
    """Run the node; the lines under it while the service worked."""
    comfy.texts.clear()
    await run(node_class, inputs)
    return [t for t in comfy.text_lines if t.startswith("Milady: Generating")]


def _check_images(images: Any, count: int, size: tuple[int, int]) -> None:
    width, height = size
    assert isinstance(images, torch.Tensor)
    assert images.shape == (count, height, width, 3)
    assert images.dtype == torch.float32
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    assert float(images.std()) > 0.01  # a picture, not a flat placeholder


async def test_text_to_image(run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any) -> None:
    images, text, urls, mask = await run(node_class, inputs(style_preset="cinematic"))
    _check_images(images, 1, IMAGE_SIZES["1:1"])
    assert text == ""  # the model's own text: none here; the prompt the service built:
    assert milady_env.requests[0]["enhancedPrompt"] == (
        "Generate an image: a lighthouse at dusk in a cinematic style with dramatic lighting and composition, "
        "square composition"
    )
    assert urls.startswith(milady_env.base_url) and len(urls.splitlines()) == 1
    assert mask.shape == images.shape[:3] and float(mask.max()) == 0.0


async def test_a_comfyui_without_progress_text_still_runs_the_node(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(comfy.modules["server"].PromptServer, "send_progress_text")
    images, _text, urls, _mask = await run(node_class, inputs(num_images=2))
    _check_images(images, 2, IMAGE_SIZES["1:1"])
    assert len(urls.splitlines()) == 2


@pytest.mark.parametrize("aspect_ratio", ["16:9", "9:21"])
async def test_aspect_ratio_decides_the_tensor_size(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, aspect_ratio: str
) -> None:
    images, *_ = await run(node_class, inputs(aspect_ratio=aspect_ratio))
    _check_images(images, 1, IMAGE_SIZES[aspect_ratio])  # type: ignore[index]


async def test_four_images_in_one_batch_with_progress(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    before = milady_env.stats.generate_requests
    images, _text, urls, mask = await run(node_class, inputs(num_images=4))
    _check_images(images, 4, IMAGE_SIZES["1:1"])
    assert milady_env.stats.generate_requests - before == 1
    assert len(set(urls.splitlines())) == 4
    assert not torch.equal(images[0], images[1])
    assert mask.shape == (4, *images.shape[1:3])
    # The bar climbs while waiting, then once per image read, to full, on this node. Each image shows
    # on the bar as it arrives, except on the V3 node: it shows all its images on itself, and ComfyUI's
    # page would show the last bar picture instead of them.
    values = [u[0] for u in comfy.bar_updates]
    assert values == sorted(values) and values[-4:] == [92, 95, 97, 100]
    assert {u[1:] for u in comfy.bar_updates} == {(100, "7")}
    if is_v3(node_class):
        assert comfy.previews == []
    else:
        assert len(comfy.previews) == 4 and {p[0] for p in comfy.previews} == {"JPEG"}
        assert {p[1].size for p in comfy.previews} == {(512, 512)} and comfy.previews[0][2] == 512
    assert comfy.text_lines[0].startswith("Milady: Generating 4 images with google/gemini-2.5-flash-image: 0 s")
    assert comfy.text_lines[-1].startswith("Milady: 4 images in ")
    assert {node_id for _, node_id in comfy.texts} == {"7"}


async def test_progress_text_shows_elapsed_time_while_waiting(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    milady_env.faults.update(latency=2.5)
    waiting = await _waiting_lines(run, node_class, inputs(), comfy)
    seconds = [int(t.split(" · ")[0].rsplit(": ", 1)[1].removesuffix(" s")) for t in waiting]
    assert seconds == sorted(seconds) and sorted(set(seconds))[:3] == [0, 1, 2]


async def test_image_to_image_sends_the_source(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer
) -> None:
    source = torch.rand(1, 96, 128, 3)
    images, _text, _urls, _mask = await run(node_class, inputs(source_image=source))
    _check_images(images, 1, IMAGE_SIZES["1:1"])
    # The service words an image-to-image prompt differently: proof the source arrived.
    assert milady_env.requests[0]["enhancedPrompt"] == (
        "Using the provided image as a reference, generate a new image: a lighthouse at dusk, square composition"
    )


async def test_rgba_and_single_image_sources_are_accepted(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer
) -> None:
    for source in (torch.rand(1, 32, 32, 4), torch.rand(32, 32, 3)):
        images, *_ = await run(node_class, inputs(source_image=source))
        assert images.shape[0] == 1
        assert milady_env.requests[0]["enhancedPrompt"].startswith("Using the provided image")


async def test_a_batch_of_sources_sends_one_request_per_image(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    before = milady_env.stats.generate_requests
    sources = torch.rand(3, 40, 40, 3)
    images, _text, urls, _mask = await run(node_class, inputs(source_image=sources, num_images=2))
    assert milady_env.stats.generate_requests - before == 3
    _check_images(images, 6, IMAGE_SIZES["1:1"])
    assert len(urls.splitlines()) == 6
    assert comfy.bar_updates[-1][:2] == (100, 100) and len(comfy.previews) == (0 if is_v3(node_class) else 6)


async def test_an_image_the_service_sent_inline_has_no_url(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer
) -> None:
    milady_env.faults.update(storage_failure=True)
    images, _text, urls, _mask = await run(node_class, inputs(num_images=2))
    _check_images(images, 2, IMAGE_SIZES["1:1"])
    assert urls == ""


async def test_partial_success_returns_what_came_back_and_says_so(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    milady_env.faults.update(fail_images=1)
    images, *_ = await run(node_class, inputs(num_images=3))
    assert images.shape[0] == 2
    assert "Asked for 3 images, the service returned 2" in comfy.text_lines[-1]
    current, total, _node = comfy.bar_updates[-1]
    assert current == total  # the bar ends full for the images that came


async def test_a_refunded_500_is_retried(run: Any, node_class: type, inputs: Any, milady_env: LocalServer) -> None:
    milady_env.faults.force_status(500, count=1)  # "No images were generated": refunded, safe to repeat
    before = milady_env.stats.generate_requests
    images, *_ = await run(node_class, inputs())
    assert images.shape[0] == 1
    assert milady_env.stats.generate_requests == before + 2


async def test_cancel_stops_a_slow_request(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    latency = 20.0
    milady_env.faults.update(latency=latency)
    before = milady_env.stats.generate_requests
    task = asyncio.create_task(run(node_class, inputs()))
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
    # The line under the node must not go on saying "Generating".
    # ... and it says that a request already sent may still be billed, and where it would then be.
    assert re.fullmatch(r"Milady: cancelled after \d+ s; .*may still be generated and billed.*Milady Gallery.*",
                        comfy.text_lines[-1])


async def test_cancel_while_the_images_download_stops_the_download(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    milady_env.faults.update(image_url="hang")  # the image URLs never answer
    task = asyncio.create_task(run(node_class, inputs()))
    while not any(t.startswith("Milady: reading") for t in comfy.text_lines):  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    comfy.interrupt()
    with pytest.raises(comfy.modules["comfy.model_management"].InterruptProcessingException):
        await task
    assert comfy.processing_interrupted() is False
    assert re.fullmatch(r"Milady: cancelled after \d+ s; the images were billed and are in your gallery "
                        r"\(Milady Gallery loads them\)", comfy.text_lines[-1])


async def test_cancel_before_sending_raises_the_interrupt(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    before = milady_env.stats.generate_requests
    comfy.interrupt()
    with pytest.raises(comfy.modules["comfy.model_management"].InterruptProcessingException):
        await run(node_class, inputs())
    assert milady_env.stats.generate_requests == before
    assert re.fullmatch(r"Milady: cancelled after \d+ s", comfy.text_lines[-1])  # nothing sent, nothing billed


# ---------------------------------------------------------------- waiting that informs


async def test_a_model_that_ran_before_says_how_long_is_left(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    # Long enough that a stalled, busy machine still shows two whole seconds counting down.
    milady_env.faults.update(latency=3.2)
    first = await _waiting_lines(run, node_class, inputs(), comfy)
    assert first and not [t for t in first if "left)" in t]  # no estimate before the model's first run
    comfy.bar_updates.clear()
    waiting = await _waiting_lines(run, node_class, inputs(), comfy)
    model = "google/gemini-2.5-flash-image"
    pattern = re.compile(rf"Milady: Generating 1 image with {re.escape(model)}: (\d+) s \(~(\d+) s left\)")
    seen = [pattern.fullmatch(t.split(" · ")[0]) for t in waiting]
    assert seen[0] is not None and seen[0].group(1) == "0"
    left = [int(m.group(2)) for m in seen if m is not None]
    assert len(left) >= 2 and left == sorted(left, reverse=True) and left[0] > left[-1]
    # The bar climbs toward the estimate while waiting (most of it), then fills as the image is read.
    values = [u[0] for u in comfy.bar_updates]
    assert values == sorted(values) and values[-1] == 100
    assert any(40 <= v <= 90 for v in values[:-1])


async def test_the_billed_amount_shows_after_the_run_when_the_service_says(
    run: Any, node_class: type, inputs: Any, comfy: Any, monkeypatch: pytest.MonkeyPatch, no_config_file: Any
) -> None:
    # The service's other answer variant carries the amount billed ("cost").
    with LocalServer(ServerConfig(response_shape="success")) as billing:
        monkeypatch.setenv("MILADY_API_KEY", billing.api_key)
        monkeypatch.setenv("MILADY_BASE_URL", billing.base_url)
        before = billing.credits(billing.api_key)
        await run(node_class, inputs(num_images=2))
        billed = round(before - billing.credits(billing.api_key), 6)
    assert billed > 0
    assert comfy.text_lines[-1].startswith("Milady: 2 images in ")
    assert comfy.text_lines[-1].endswith(f"; billed {billed:g} credits")


async def test_the_estimated_cost_shows_while_waiting(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    milady_env.faults.update(latency=1.5)
    waiting = await _waiting_lines(run, node_class, inputs(num_images=2), comfy)
    assert any(" · estimated " in t and t.endswith(" credits") for t in waiting)


async def test_match_source_sends_the_nearest_ratio(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer
) -> None:
    # 160x90 is 16:9; 100x210 is nearest to 9:21.
    for (height, width), ratio in (((90, 160), "16:9"), ((210, 100), "9:21")):
        images, *_ = await run(
            node_class, inputs(aspect_ratio="match source", source_image=torch.rand(1, height, width, 3))
        )
        _check_images(images, 1, IMAGE_SIZES[ratio])  # type: ignore[index]


async def test_match_source_without_a_source_is_refused_before_sending(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer
) -> None:
    before = milady_env.stats.total_requests
    with pytest.raises(Exception) as caught:
        await run(node_class, inputs(aspect_ratio="match source"))
    assert str(caught.value).startswith("aspect_ratio='match source' needs a source image")
    assert "16:9" in str(caught.value)
    assert milady_env.stats.total_requests == before
