"""Every failure as the agent sees it: an error ToolMessage with the core's own line, never a crash."""

from __future__ import annotations

import re
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import ToolException

from langchain_tool import MiladyImageGenerationTool, to_tool_exception
from milady_integrations import InsufficientCreditsError, MiladyClient, MiladyError, RateLimitError
from milady_integrations.local import LocalServer
from milady_integrations.schema import ASPECT_RATIOS, MODELS, NUM_IMAGES_MAX, NUM_IMAGES_MIN, STYLE_PRESETS

from .conftest import tool_call

# status -> what a model must be able to act on
STATUSES = {
    400: "Prompt is required",
    401: "Authentication required",
    402: "Insufficient credits: 0.02 required. Add credits to your account.",
    403: "Set MILADY_API_KEY",
    429: "Rate limited: retry in 30 s",
    500: "Image generation failed (HTTP 500)",
    502: "The service answered HTTP 502: 502 Bad Gateway. It came from a gateway in front of the service",
    503: "The image service is unavailable (HTTP 503): Image generation service is not configured; nothing was charged",
    504: "The service answered HTTP 504: 504 Gateway Timeout. It came from a gateway in front of the service",
}


def without_request_id(text: str) -> str:
    return re.sub(r" \(request id [^)]*\)", "", text)


async def call(tool: Any, kind: str, args: dict[str, Any]) -> ToolMessage:
    message = tool.invoke(tool_call(args)) if kind == "sync" else await tool.ainvoke(tool_call(args))
    assert isinstance(message, ToolMessage)
    return message


def test_to_tool_exception_keeps_the_core_line_exactly() -> None:
    err = InsufficientCreditsError("Insufficient credits: 0.04 required", required=0.04)
    exc = to_tool_exception(err)
    assert isinstance(exc, ToolException)
    assert str(exc) == str(err) == "Insufficient credits: 0.04 required. Add credits to your account."
    limited = RateLimitError("Rate limited: retry in 12 s", retry_after=12, request_id="req_1")
    assert str(to_tool_exception(limited)) == str(limited)


@pytest.mark.parametrize("status", list(STATUSES))
async def test_each_status_reaches_the_agent_as_the_core_line(
    status: int, kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    with MiladyClient(api_key=server.api_key, base_url=server.base_url, max_retries=0) as client:
        server.faults.force_status(status)
        with pytest.raises(MiladyError) as caught:
            client.generate_image("a red fox")
    tool = make_tool(max_retries=0, client_kwargs={"recover_for": 1.0})  # a short look in the gallery
    server.faults.force_status(status)
    message = await call(tool, kind_sync_async, {"prompt": "a red fox"})
    assert message.status == "error"
    assert message.artifact is None
    assert STATUSES[status] in message.text
    assert without_request_id(message.text) == without_request_id(str(caught.value))
    assert re.search(r"\(request id req_\w+\)$", message.text)


async def test_without_handling_the_tool_raises_tool_exception_from_the_core_error(
    kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    tool = make_tool(max_retries=0, handle_tool_error=False)
    server.faults.force_status(402)
    with pytest.raises(ToolException) as caught:
        await call(tool, kind_sync_async, {"prompt": "a red fox"})
    assert isinstance(caught.value.__cause__, InsufficientCreditsError)
    assert str(caught.value) == str(caught.value.__cause__)


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        ({"drop": "before-response"}, "it was not retried because the service may have run it"),
        ({"body": "truncated"}, "body that is not JSON"),
        ({"body": "zero-images"}, "returned no images"),
    ],
)
async def test_broken_answers_reach_the_agent(
    faults: dict[str, Any], expected: str, kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    server.faults.update(**faults)
    # Recovery off: what reaches the agent when nothing is found (recovery has its own tests).
    tool = make_tool(max_retries=0, client_kwargs={"recover_for": 0})
    message = await call(tool, kind_sync_async, {"prompt": "a red fox"})
    assert message.status == "error"
    assert expected in message.text


async def test_a_missing_key_is_reported_before_sending(
    kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    before = server.stats.total_requests
    message = await call(make_tool(api_key=""), kind_sync_async, {"prompt": "a red fox"})
    assert message.status == "error"
    assert message.text.startswith("No API key: set the MILADY_API_KEY environment variable")
    assert server.stats.total_requests == before


@pytest.mark.parametrize(
    ("args", "field", "allowed"),
    [
        ({"prompt": "x", "style_preset": "watercolor"}, "style_preset='watercolor'", STYLE_PRESETS),
        ({"prompt": "x", "aspect_ratio": "2:1"}, "aspect_ratio='2:1'", ASPECT_RATIOS),
        ({"prompt": "x", "model": "acme/painter"}, "model='acme/painter'", MODELS),
        ({"prompt": "x", "num_images": NUM_IMAGES_MAX + 1}, f"num_images={NUM_IMAGES_MAX + 1}", ()),
        ({"prompt": "x", "num_images": NUM_IMAGES_MIN - 1}, f"num_images={NUM_IMAGES_MIN - 1}", ()),
        ({"style_preset": "cinematic"}, "prompt is required", ()),
        ({"prompt": ""}, "prompt is empty", ()),
        ({"prompt": "x" * 4001}, "prompt has 4001 characters", ()),
    ],
)
async def test_bad_arguments_name_the_field_and_what_it_allows(
    args: dict[str, Any],
    field: str,
    allowed: tuple[str, ...],
    kind_sync_async: str,
    server: LocalServer,
    make_tool: Any,
) -> None:
    before = server.stats.total_requests
    message = await call(make_tool(), kind_sync_async, args)
    assert message.status == "error"
    assert message.text.startswith("Invalid arguments: ")
    assert field in message.text
    assert all(choice in message.text for choice in allowed)
    if "num_images" in field:
        assert f"from {NUM_IMAGES_MIN} to {NUM_IMAGES_MAX}" in message.text
    assert server.stats.total_requests == before  # nothing sent, nothing billed


async def test_several_bad_arguments_are_named_together(kind_sync_async: str, make_tool: Any) -> None:
    args = {"prompt": "x", "style_preset": "watercolor", "num_images": 9}
    message = await call(make_tool(), kind_sync_async, args)
    assert "style_preset='watercolor'" in message.text
    assert "num_images=9" in message.text


async def test_a_blank_prompt_gets_the_core_message(kind_sync_async: str, make_tool: Any) -> None:
    message = await call(make_tool(), kind_sync_async, {"prompt": "   "})
    assert message.status == "error"
    assert message.text == (
        "prompt is empty: describe the image in 1 to 4000 characters (not only spaces)"
    )


def test_tools_handle_errors_by_default() -> None:
    tool = MiladyImageGenerationTool(api_key="k", base_url="http://127.0.0.1:9")
    assert tool.handle_tool_error is True
    assert callable(tool.handle_validation_error)
