"""`milady mcp` seen from an MCP host: tools, schemas, images, errors, cancel, keys."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from PIL import Image

from milady_integrations.catalogue import DEFAULT_MODEL
from milady_integrations.local import LocalServer
from milady_integrations.schema import (
    ASPECT_RATIOS,
    FIELD_DESCRIPTIONS,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    STYLE_PRESETS,
)

from .conftest import MODES, OPERATOR_KEY, HttpServer, Logs, dump, established_to, service_env, stdio_mcp

pytestmark = pytest.mark.timeout(180)


def check_tool_listing(tools: list[Any]) -> None:
    by_name = {tool.name: tool for tool in tools}
    assert set(by_name) == {"generate_image", "credits_balance", "list_models", "gallery"}
    tool = by_name["generate_image"]
    props = tool.input_schema["properties"]
    assert props["model"]["enum"] == list(MODELS)
    assert props["aspect_ratio"]["enum"] == list(ASPECT_RATIOS)
    assert props["style_preset"]["enum"] == list(STYLE_PRESETS)
    assert (props["num_images"]["minimum"], props["num_images"]["maximum"]) == (NUM_IMAGES_MIN, NUM_IMAGES_MAX)
    assert props["prompt"]["maxLength"] == PROMPT_MAX_CHARS
    for name in ("prompt", "aspect_ratio", "style_preset", "num_images"):
        assert props[name]["description"] == FIELD_DESCRIPTIONS[name]
    assert tool.input_schema["required"] == ["prompt"]
    assert "$defs" not in tool.input_schema and "$ref" not in json.dumps(tool.input_schema)
    # A call spends money: hosts should ask first.
    hints = tool.annotations
    assert (hints.read_only_hint, hints.idempotent_hint, hints.open_world_hint) == (False, False, True)
    assert by_name["credits_balance"].annotations.read_only_hint is True


def image_blocks(result: Any) -> list[Any]:
    return [block for block in result.content if block.type == "image"]


async def generate_two(client: Any, server: LocalServer, key: str) -> Any:
    before = server.credits(key)
    result = await client.call_tool("generate_image", {"prompt": "a red fox in snow", "num_images": 2})
    assert not result.is_error, result.content[0].text
    text = result.content[0].text
    assert text.startswith("Generated 2 of 2 requested images")
    urls = result.structured_content["urls"]
    assert len(urls) == 2 and all(url in text and url.startswith(server.base_url) for url in urls)
    shown = image_blocks(result)
    assert len(shown) == 2
    for block in shown:
        Image.open(io.BytesIO(base64.b64decode(block.data))).verify()  # a real picture
    assert server.credits(key) < before  # billed to this key
    return result


@pytest.mark.parametrize("mode", MODES)
async def test_stdio_lists_tools_generates_and_survives_a_402(server: LocalServer, logs: Logs, mode: str) -> None:
    received: list[str] = []
    progress: list[tuple[float, str | None]] = []
    async with stdio_mcp(service_env(server), logs, mode=mode) as client:
        listing = await client.list_tools()
        check_tool_listing(listing.tools)
        received.append(dump(listing))

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append((done, message))

        server.faults.update(latency=1.6)
        slow = await client.call_tool("generate_image", {"prompt": "a fox"}, progress_callback=on_progress)
        server.faults.clear()
        assert not slow.is_error
        # The core's words, as every face shows them: then the time waited and the estimated cost.
        assert progress and progress[0][1] == f"Generating 1 image with {DEFAULT_MODEL}: 0 s"
        assert any(f"Generating 1 image with {DEFAULT_MODEL}: 1 s" in (m or "") for _, m in progress)
        assert any(" · estimated " in (m or "") for _, m in progress)
        values = [done for done, _ in progress]
        assert values == sorted(set(values))  # progress only grows

        received.append(dump(await generate_two(client, server, OPERATOR_KEY)))
        billed = server.stats.images_billed
        server.faults.force_status(402)
        refused = await client.call_tool("generate_image", {"prompt": "a fox"})
        assert refused.is_error
        assert refused.content[0].text.startswith("Insufficient credits: 0.02 required. Add credits to your account.")
        assert server.stats.images_billed == billed
        # Still serving after the tool's failure.
        received.append(dump(await generate_two(client, server, OPERATOR_KEY)))
        received.append(dump(await client.call_tool("credits_balance", {})))
    assert OPERATOR_KEY not in "".join(received)
    assert OPERATOR_KEY not in logs.text()


@pytest.mark.parametrize("mode", MODES)
async def test_http_generates_with_the_callers_own_key(
    server: LocalServer, http_mcp: Callable[..., HttpServer], logs: Logs, mode: str
) -> None:
    mcp = http_mcp(service_env(server))
    alice, bob = "mk-alice-SECRET-0123456789", "mk-bob-SECRET-9876543210"
    operator_before = server.credits(OPERATOR_KEY)
    received: list[str] = []
    async with mcp.connect(alice, mode=mode) as client_a, mcp.connect(bob, mode=mode) as client_b:
        check_tool_listing((await client_a.list_tools()).tools)
        received.append(dump(await generate_two(client_a, server, alice)))
        bob_before = server.credits(bob)
        result = await generate_two(client_b, server, bob)
        assert result.structured_content["billed_to"] == "caller"
        received.append(dump(result))
        assert server.credits(bob) == pytest.approx(bob_before - 0.04)
        server.faults.force_status(402)
        refused = await client_a.call_tool("generate_image", {"prompt": "a fox"})
        assert refused.is_error and "Insufficient credits" in refused.content[0].text
        received.append(dump(refused))
        received.append(dump(await client_b.call_tool("list_models", {})))
    assert server.credits(OPERATOR_KEY) == operator_before  # never touched
    everything = "".join(received) + logs.text()
    for key in (alice, bob, OPERATOR_KEY):
        assert key not in everything


async def test_http_caller_without_a_key_is_refused_unless_the_operator_lends_it(
    server: LocalServer, http_mcp: Callable[..., HttpServer], logs: Logs
) -> None:
    closed = http_mcp(service_env(server))
    requests = server.stats.generate_requests
    async with closed.connect(None) as client:
        refused = await client.call_tool("generate_image", {"prompt": "a fox"})
    assert refused.is_error
    assert "X-API-Key" in refused.content[0].text and "MILADY_API_KEY" not in refused.content[0].text
    assert server.stats.generate_requests == requests  # nothing sent

    lending = http_mcp(service_env(server), "--serve-without-key", "--caller-images-per-hour", "3")
    operator_before = server.credits(OPERATOR_KEY)
    async with lending.connect(None) as client:
        result = await generate_two(client, server, OPERATOR_KEY)
        assert result.structured_content["billed_to"] == "operator"
        over = await client.call_tool("generate_image", {"prompt": "a fox", "num_images": 2})
        assert over.is_error
        assert "limit of 3 images per hour for each caller" in over.content[0].text
        assert "retry in 59 min" in over.content[0].text or "retry in 60 min" in over.content[0].text
        assert server.stats.generate_requests == requests + 1  # the refused call sent nothing
        received = dump(result) + dump(over)
    assert server.credits(OPERATOR_KEY) == pytest.approx(operator_before - 0.04)
    assert OPERATOR_KEY not in received + logs.text()


async def test_on_a_space_each_forwarded_caller_has_a_limit_of_its_own(
    server: LocalServer, http_mcp: Callable[..., HttpServer], logs: Logs
) -> None:
    # Behind a Space's proxy every connection comes from the proxy: X-Forwarded-For tells callers apart.
    lending = http_mcp({**service_env(server), "SPACE_ID": "someone/demo"}, "--serve-without-key",
                       "--caller-images-per-hour", "1")
    ask = {"prompt": "a fox", "num_images": 1}
    async with lending.connect(None, headers={"X-Forwarded-For": "203.0.113.1, 10.0.0.1"}) as first:
        assert not (await first.call_tool("generate_image", ask)).is_error
        assert "for each caller" in (await first.call_tool("generate_image", ask)).content[0].text
    async with lending.connect(None, headers={"X-Forwarded-For": "203.0.113.2, 10.0.0.1"}) as second:
        assert not (await second.call_tool("generate_image", ask)).is_error


async def test_a_bad_caller_key_reads_as_the_services_401_with_the_header_hint(
    http_mcp: Callable[..., HttpServer], logs: Logs
) -> None:
    from milady_integrations.local import ServerConfig

    with LocalServer(ServerConfig(api_keys={OPERATOR_KEY})) as strict:
        mcp = http_mcp(service_env(strict))
        async with mcp.connect("mk-wrong-SECRET-0000000000") as client:
            result = await client.call_tool("credits_balance", {})
    assert result.is_error
    text = result.content[0].text
    assert "X-API-Key" in text and "MILADY_API_KEY" not in text
    assert "mk-wrong-SECRET-0000000000" not in dump(result) + logs.text()


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_cancel_stops_waiting_and_closes_the_connection(
    http_mcp: Callable[..., HttpServer], logs: Logs, transport: str
) -> None:
    # A server of its own: the abandoned request still completes (and bills) after the test.
    async with LocalServer() as server:
        await cancel_and_check(server, http_mcp, logs, transport)
    assert "may still be billed" in logs.text()


async def cancel_and_check(
    server: LocalServer, http_mcp: Callable[..., HttpServer], logs: Logs, transport: str
) -> None:
    server.faults.update(latency=60)
    requests = server.stats.generate_requests
    if transport == "http":
        connect = http_mcp(service_env(server)).connect(OPERATOR_KEY)
    else:
        connect = stdio_mcp(service_env(server), logs)
    async with connect as client:
        messages: list[str] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            messages.append(message or "")

        with anyio.move_on_after(30) as waited:
            call = asyncio.ensure_future(
                client.call_tool("generate_image", {"prompt": "a slow fox"}, progress_callback=on_progress)
            )

            # Another process's state: polled, there is nothing to wait on. Once the cost estimate
            # is shown, its look-up is over and its connection idle in the pool: only the wait is left.
            def started() -> bool:
                return server.stats.generate_requests > requests and established_to(server.port) > 0

            while not (started() and any(" · estimated " in m for m in messages)):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            open_while_waiting = established_to(server.port)
            call.cancel()  # what a host does when the user presses Stop
            with pytest.raises(asyncio.CancelledError):
                await call
        assert not waited.cancelled_caught, "the request never reached the local server"
        # The server stopped waiting: its connection to the service is closed...
        with anyio.fail_after(30):
            while established_to(server.port) >= open_while_waiting:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        # ...and it keeps serving.
        server.faults.clear()
        listed = await client.call_tool("list_models", {})
        assert not listed.is_error
