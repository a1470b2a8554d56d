"""What an agent builder gets from the tools: content for the model, the artifact, configuration."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import warnings
from typing import Any

import httpx
import pytest
from langchain_core.load import dumpd, dumps
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from pydantic import SecretStr

from langchain_tool import MiladyCreditsTool, MiladyImageGenerationTool, MiladyToolkit
from milady_integrations import AsyncMiladyClient, MiladyClient
from milady_integrations.images import encode_data_url, sniff_mime
from milady_integrations.local import LocalServer

from .conftest import tool_call

SECRET = "sk-milady-test-secret-7f3a"


async def call(tool: Any, kind: str, args: dict[str, Any], name: str = "generate_image") -> ToolMessage:
    payload = tool_call(args, name)
    message = tool.invoke(payload) if kind == "sync" else await tool.ainvoke(payload)
    assert isinstance(message, ToolMessage)
    return message


def fetch(url: str) -> bytes:
    response = httpx.get(url)
    response.raise_for_status()
    return response.content


async def test_content_is_short_text_and_the_artifact_holds_the_images(
    kind_sync_async: str, make_tool: Any, server: LocalServer
) -> None:
    server.faults.update(text="a caption from the model")
    args = {"prompt": "a red fox", "style_preset": "photographic", "aspect_ratio": "16:9", "num_images": 2}
    message = await call(make_tool(), kind_sync_async, args)
    assert message.status == "success"
    assert isinstance(message.content, str)
    artifact = message.artifact
    assert (artifact["requested"], artifact["returned"], artifact["partial"]) == (2, 2, False)
    assert message.content.startswith(
        "Generated 2 of 2 requested images (google/gemini-2.5-flash-image, style photographic, "
        "aspect ratio 16:9)."
    )
    assert len(artifact["urls"]) == 2
    for number, (url, image) in enumerate(zip(artifact["urls"], artifact["images"], strict=True), start=1):
        assert f"Image {number}: {url}" in message.content
        data = fetch(url)
        assert sniff_mime(data) == image["mime_type"] == "image/webp"
        assert image["file_size"] == len(data)
        assert image["data_url"] is None
    assert "in a photographic style" in server.requests[0]["enhancedPrompt"]
    assert artifact["text"] == "a caption from the model"
    assert f"Service text: {artifact['text']}" in message.content
    assert artifact["request_ids"] and all(r.startswith("req_") for r in artifact["request_ids"])
    assert (artifact["prompt"], artifact["style_preset"], artifact["aspect_ratio"]) == (
        "a red fox",
        "photographic",
        "16:9",
    )
    json.dumps(artifact)  # plain data: checkpointers and logs can store it


async def test_partial_success_says_how_many_of_how_many(
    kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    server.faults.update(fail_images=1)
    message = await call(make_tool(), kind_sync_async, {"prompt": "a red fox", "num_images": 3})
    assert message.status == "success"
    assert message.content.startswith("Generated 2 of 3 requested images")
    assert "billed only for those" in message.text
    assert message.artifact["partial"] is True
    assert (message.artifact["requested"], message.artifact["returned"]) == (3, 2)


async def test_fallback_images_stay_out_of_the_model_context(
    kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    server.faults.update(storage_failure=True)
    message = await call(make_tool(), kind_sync_async, {"prompt": "a red fox"})
    image = message.artifact["images"][0]
    assert image["url"] is None and image["data_url"].startswith("data:image/")
    assert "Image 1: inline image 1 (not a URL)" in message.text
    assert "base64" not in message.text and len(message.text) < 600
    payload = image["data_url"].partition(",")[2]
    assert sniff_mime(base64.b64decode(payload)) is not None


async def test_image_blocks_are_opt_in_standard_blocks(kind_sync_async: str, make_tool: Any) -> None:
    message = await call(make_tool(include_image_blocks=True), kind_sync_async, {"prompt": "a fox", "num_images": 2})
    assert isinstance(message.content, list)
    text, *images = message.content
    assert text["type"] == "text" and text["text"].startswith("Generated 2 of 2")
    assert images == [
        {"type": "image", "url": url, "mime_type": "image/webp"} for url in message.artifact["urls"]
    ]
    blocks = message.content_blocks
    assert [b["type"] for b in blocks] == ["text", "image", "image"]


async def test_image_blocks_carry_fallback_images_as_base64(
    kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    server.faults.update(storage_failure=True)
    message = await call(make_tool(include_image_blocks=True), kind_sync_async, {"prompt": "a fox"})
    text, image = message.content
    assert isinstance(text, dict) and isinstance(image, dict)
    assert "inline image 1 (not a URL)" in text["text"] and "base64" not in text["text"]
    data_url = message.artifact["images"][0]["data_url"]
    assert image == {"type": "image", "base64": data_url.partition(",")[2], "mime_type": image["mime_type"]}
    assert data_url.startswith(f"data:{image['mime_type']};base64,")


async def test_a_source_image_url_is_downloaded_and_sent(
    kind_sync_async: str, make_tool: Any, server: LocalServer
) -> None:
    tool = make_tool()
    first = await call(tool, kind_sync_async, {"prompt": "a red fox"})
    url = first.artifact["urls"][0]
    second = await call(tool, kind_sync_async, {"prompt": "the same fox in winter", "source_image": url})
    assert second.status == "success"
    assert server.requests[0]["enhancedPrompt"].startswith("Using the provided image as a reference")


async def test_a_source_image_data_url_is_sent(kind_sync_async: str, server: LocalServer, make_tool: Any) -> None:
    with MiladyClient(api_key=server.api_key, base_url=server.base_url) as client:
        result = client.generate_image("a small red square")
        data_url = encode_data_url(client.read_images(result)[0])
    message = await call(make_tool(), kind_sync_async, {"prompt": "make it blue", "source_image": data_url})
    assert message.status == "success"
    assert server.requests[0]["enhancedPrompt"].startswith("Using the provided image as a reference")


async def test_an_empty_source_image_means_none_sync_and_async(
    kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    message = await call(make_tool(), kind_sync_async, {"prompt": "a plain fox", "source_image": ""})
    assert message.status == "success"
    assert server.requests[0]["imageToImage"] is False


async def test_an_unreadable_source_url_names_source_image(
    kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    before = server.stats.generate_requests
    missing = f"{server.base_url}/images/no-such-image.webp"
    message = await call(make_tool(), kind_sync_async, {"prompt": "x", "source_image": missing})
    assert message.status == "error"
    assert message.text.startswith(f"source_image could not be read from {missing}: ")
    assert "HTTP 404" in message.text
    assert server.stats.generate_requests == before


async def test_a_source_url_on_a_private_address_is_refused_for_a_remote_service(
    kind_sync_async: str, make_tool: Any
) -> None:
    # Nothing is sent anywhere: the address check comes first.
    tool = make_tool(base_url="https://cloud.milady.ai")
    args = {"prompt": "x", "source_image": "http://169.254.169.254/latest/meta-data/"}
    message = await call(tool, kind_sync_async, args)
    assert message.status == "error"
    assert "Refusing to download an image from local address '169.254.169.254'" in message.text


async def test_a_file_path_is_never_read_from_this_machine(
    kind_sync_async: str, server: LocalServer, make_tool: Any, tmp_path: Any
) -> None:
    from PIL import Image

    private = tmp_path / "private.png"
    Image.new("RGB", (8, 8)).save(private)
    before = server.stats.total_requests
    message = await call(make_tool(), kind_sync_async, {"prompt": "x", "source_image": str(private)})
    assert message.status == "error"
    assert "source_image cannot be a file path here: it must be an http(s) URL of an image" in message.text
    assert server.stats.total_requests == before


async def test_a_garbage_data_url_is_refused_before_sending(
    kind_sync_async: str, server: LocalServer, make_tool: Any
) -> None:
    before = server.stats.total_requests
    message = await call(make_tool(), kind_sync_async, {"prompt": "x", "source_image": "data:image/png;base64,AAAA"})
    assert message.status == "error"
    assert message.text.startswith("source_image ")
    assert server.stats.total_requests == before


def test_the_key_never_shows(server: LocalServer) -> None:
    tool = MiladyImageGenerationTool(api_key=SECRET, base_url=server.base_url)
    try:
        message = tool.invoke(tool_call({"prompt": "a fox"}))
        server.faults.force_status(401)
        failed = tool.invoke(tool_call({"prompt": "a fox"}))
        views = [
            repr(tool),
            str(tool),
            str(tool.model_dump()),
            json.dumps(tool.model_dump(exclude={"args_schema", "handle_validation_error"}), default=str),
            json.dumps(dumpd(tool)),
            dumps(message),
            dumps(failed),
            repr(message),
            repr(failed),
            repr(tool.clients.sync()),
        ]
    finally:
        tool.close()
    assert failed.status == "error"
    for view in views:
        assert SECRET not in view
    assert isinstance(tool.api_key, SecretStr) and tool.api_key.get_secret_value() == SECRET
    assert tool.lc_secrets == {"api_key": "MILADY_API_KEY"}


def test_configuration_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MILADY_API_KEY", SECRET)
    monkeypatch.setenv("MILADY_BASE_URL", "http://127.0.0.1:9")
    tool = MiladyImageGenerationTool()
    assert tool.api_key is not None and tool.api_key.get_secret_value() == SECRET
    assert tool.base_url == "http://127.0.0.1:9"
    monkeypatch.delenv("MILADY_API_KEY")
    assert MiladyImageGenerationTool().api_key is None


async def test_clients_are_made_on_first_use_with_the_tool_settings(server: LocalServer) -> None:
    tool = MiladyImageGenerationTool(api_key=server.api_key, base_url=server.base_url, max_retries=0, timeout=30)
    assert tool._pool is None  # constructing a tool opens nothing
    client = tool.clients.sync()
    assert (client.base_url, client.max_retries, client.has_api_key) == (server.base_url, 0, True)
    assert tool.clients.sync() is client
    await tool.aclose()


async def test_ready_clients_are_used_as_given(kind_sync_async: str, server: LocalServer) -> None:
    sync = MiladyClient(api_key=server.api_key, base_url=server.base_url)
    async_ = AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url)
    tool = MiladyImageGenerationTool(client=sync, async_client=async_, api_key=None, base_url=None)
    try:
        message = await call(tool, kind_sync_async, {"prompt": "a fox"})
        assert message.status == "success"
        assert tool.clients.sync() is sync and tool.clients.async_() is async_
        assert "client" not in tool.model_dump() and "async_client" not in tool.model_dump()
    finally:
        await tool.aclose()
        sync.close()
        await async_.aclose()


async def test_a_sync_client_alone_also_serves_ainvoke(server: LocalServer) -> None:
    with MiladyClient(api_key=server.api_key, base_url=server.base_url) as sync:
        tool = MiladyImageGenerationTool(client=sync)
        message = await tool.ainvoke(tool_call({"prompt": "a fox"}))
    assert message.status == "success"


async def test_an_async_client_alone_asks_for_ainvoke(server: LocalServer) -> None:
    async with AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url) as async_:
        tool = MiladyImageGenerationTool(async_client=async_)
        with pytest.raises(RuntimeError, match="call it with ainvoke, or pass client= too"):
            tool.invoke(tool_call({"prompt": "a fox"}))
        assert (await tool.ainvoke(tool_call({"prompt": "a fox"}))).status == "success"


def test_one_tool_serves_several_event_loops(server: LocalServer) -> None:
    tool = MiladyImageGenerationTool(api_key=server.api_key, base_url=server.base_url)

    async def once() -> ToolMessage:
        message = await tool.ainvoke(tool_call({"prompt": "a fox"}))
        assert isinstance(message, ToolMessage)
        return message

    before = server.stats.generate_requests
    assert asyncio.run(once()).status == "success"
    with warnings.catch_warnings():
        # The first loop's connections died with it and cannot be closed any more.
        warnings.simplefilter("ignore", ResourceWarning)
        assert asyncio.run(once()).status == "success"  # a new loop: the client opens a new pool
        asyncio.run(tool.aclose())
        gc.collect()
    assert server.stats.generate_requests == before + 2


async def test_unlisted_models_reach_the_service_when_allowed(kind_sync_async: str, make_tool: Any) -> None:
    refused = await call(make_tool(), kind_sync_async, {"prompt": "x", "model": "acme/painter-9"})
    assert refused.status == "error"
    tool = make_tool(allow_unlisted_models=True)
    allowed = await call(tool, kind_sync_async, {"prompt": "x", "model": "acme/painter-9"})
    assert allowed.status == "success"


async def test_credits_tool_reads_the_balance(kind_sync_async: str, server: LocalServer, make_tool: Any) -> None:
    server.set_credits("credits-reader", 12.5)
    tool = make_tool(MiladyCreditsTool, api_key="credits-reader")
    message = await call(tool, kind_sync_async, {}, "milady_credits_balance")
    assert message.status == "success"
    assert message.content == "Milady Cloud credit balance: 12.5 credits."
    assert message.artifact == {"balance": 12.5}


async def test_credits_tool_errors_reach_the_agent(kind_sync_async: str, make_tool: Any) -> None:
    message = await call(make_tool(MiladyCreditsTool, api_key=""), kind_sync_async, {}, "milady_credits_balance")
    assert message.status == "error"
    assert message.text.startswith("No API key")


async def test_toolkit_gives_both_tools_one_configuration(kind_sync_async: str, server: LocalServer) -> None:
    key = "toolkit-key-5d1c9e"  # the local server takes any key; this one is long enough to be looked for
    toolkit = MiladyToolkit(api_key=key, base_url=server.base_url, include_image_blocks=True)
    tools = toolkit.get_tools()
    try:
        assert [t.name for t in tools] == ["generate_image", "milady_credits_balance"]
        assert all(isinstance(t, BaseTool) for t in tools)
        image, credits = tools
        assert isinstance(image, MiladyImageGenerationTool) and image.include_image_blocks
        assert image.clients is credits.clients is toolkit.clients
        assert (await call(image, kind_sync_async, {"prompt": "a fox"})).status == "success"
        assert (await call(credits, kind_sync_async, {}, "milady_credits_balance")).status == "success"
        assert key not in repr(toolkit) and key not in repr(tools)
    finally:
        await toolkit.aclose()


async def test_an_unavailable_model_is_named_to_the_agent(kind_sync_async: str, make_tool: Any) -> None:
    message = await call(make_tool(), kind_sync_async, {"prompt": "a fox", "model": "bfl/flux-kontext-max"})
    assert "The service reports model bfl/flux-kontext-max as unavailable" in message.text


async def test_a_call_that_may_have_run_comes_back_with_its_images_not_an_error(
    kind_sync_async: str, make_tool: Any, server: LocalServer
) -> None:
    server.faults.update(drop="before-response")  # generated and billed, then the answer is lost
    sent = server.stats.generate_requests
    message = await call(make_tool(client_kwargs={"recover_for": 1.0}), kind_sync_async, {"prompt": "a lost kite"})
    assert message.status == "success" and message.artifact["returned"] == 1
    assert "found 1 image it made in your gallery (already billed)" in message.text
    assert server.stats.generate_requests == sent + 1
