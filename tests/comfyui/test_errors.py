"""Failures reach ComfyUI's error dialog with the shared message; never a placeholder image."""

from __future__ import annotations

import re
from typing import Any

import pytest

import milady_integrations as mi
from milady_integrations import (
    AsyncMiladyClient,
    GenerationFailedError,
    ImageDownloadError,
    InsufficientCreditsError,
    InvalidRequestError,
    MiladyError,
)
from milady_integrations.local import LocalServer

from .conftest import run_node, validate

STATUS_ERRORS: dict[int, type[MiladyError]] = {
    400: mi.InvalidRequestError,
    401: mi.AuthenticationError,
    402: mi.InsufficientCreditsError,
    403: mi.AuthenticationError,
    404: mi.MiladyAPIError,
    429: mi.RateLimitError,
    500: mi.GenerationFailedError,
    502: mi.OutcomeUnknownError,
    503: mi.ServiceUnavailableError,
    504: mi.OutcomeUnknownError,
}


def _without_request_id(text: str) -> str:
    return re.sub(r" \(request id [^)]*\)$", "", text)


async def _node_failure(node_class: type, **inputs: Any) -> Exception:
    with pytest.raises(Exception) as caught:
        await run_node(node_class, inputs)
    return caught.value


def test_to_comfy_error_keeps_the_shared_text(pack: Any) -> None:
    from comfyui_nodes.errors import to_comfy_error

    err = InsufficientCreditsError("Insufficient credits: 0.08 required", required=0.08, request_id="r1")
    converted = to_comfy_error(err)
    expected = "Insufficient credits: 0.08 required. Add credits to your account. (request id r1)"
    assert str(converted) == str(err) == expected
    assert converted.__cause__ is err
    assert not isinstance(converted, MiladyError)  # ComfyUI shows it as a plain failure of the node


@pytest.mark.parametrize("status", sorted(STATUS_ERRORS))
async def test_every_error_status_reads_as_the_core_says(
    status: int, node_class: type, inputs: Any, milady_env: LocalServer, no_retries: None
) -> None:
    milady_env.faults.force_status(status)
    failure = await _node_failure(node_class, **inputs())
    cause = failure.__cause__
    assert isinstance(cause, STATUS_ERRORS[status]) and cause.status_code == status
    assert str(failure) == str(cause)
    # The same failure through the client alone reads the same (request ids differ per request).
    milady_env.faults.force_status(status)
    async with AsyncMiladyClient(milady_env.api_key, base_url=milady_env.base_url, max_retries=0) as client:
        with pytest.raises(MiladyError) as direct:
            await client.generate_image("a lighthouse at dusk")
    assert _without_request_id(str(failure)) == _without_request_id(str(direct.value))


async def test_402_names_the_credits_needed_and_the_hint(
    node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any
) -> None:
    milady_env.faults.force_status(402)
    text = str(await _node_failure(node_class, **inputs(num_images=4)))
    assert re.match(r"Insufficient credits: [0-9.]+ required\. Add credits to your account\.", text)
    # The line under the node says so too, instead of going on saying "Generating".
    assert re.fullmatch(r"Milady: failed after \d+ s: " + re.escape(text), comfy.text_lines[-1])


async def test_429_says_when_to_retry(node_class: type, inputs: Any, milady_env: LocalServer, no_retries: None) -> None:
    milady_env.faults.force_status(429, retry_after=7)
    assert str(await _node_failure(node_class, **inputs())).startswith("Rate limited: retry in 7 s")


async def test_a_prompt_wired_from_another_node_is_checked_before_sending(
    node_class: type, inputs: Any, milady_env: LocalServer
) -> None:
    before = milady_env.stats.total_requests
    failure = await _node_failure(node_class, **inputs(prompt="  "))
    assert isinstance(failure.__cause__, InvalidRequestError)
    assert str(failure) == validate(node_class, prompt="  ")
    assert milady_env.stats.total_requests == before


async def test_zero_images_is_an_error_not_an_empty_batch(
    node_class: type, inputs: Any, milady_env: LocalServer
) -> None:
    milady_env.faults.update(body="zero-images")
    failure = await _node_failure(node_class, **inputs())
    assert isinstance(failure.__cause__, GenerationFailedError)
    assert "returned no images" in str(failure)


async def test_unreadable_images_fail_the_node(node_class: type, inputs: Any, milady_env: LocalServer) -> None:
    milady_env.faults.update(image_url="404")
    failure = await _node_failure(node_class, **inputs())
    assert isinstance(failure.__cause__, ImageDownloadError)
    assert str(failure) == str(failure.__cause__)


async def test_one_failed_source_keeps_the_others(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, comfy: Any, no_retries: None
) -> None:
    import torch

    milady_env.faults.force_status(500)
    images, *_ = await run(node_class, inputs(source_image=torch.rand(2, 16, 16, 3)))
    assert images.shape[0] == 1  # the paid image of the other source is not thrown away
    assert "a request failed: Image generation failed (HTTP 500)" in comfy.text_lines[-1]


async def test_all_sources_failing_raises(
    node_class: type, inputs: Any, milady_env: LocalServer, no_retries: None
) -> None:
    import torch

    milady_env.faults.force_status(402, count=2)
    failure = await _node_failure(node_class, **inputs(source_image=torch.rand(2, 16, 16, 3)))
    assert isinstance(failure.__cause__, InsufficientCreditsError)
