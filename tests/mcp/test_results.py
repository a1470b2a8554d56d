"""What a host receives: offline images, the size limit, URL-only results, source images, may-have-run."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters, stdio_client
from PIL import Image

from milady_integrations.local import LocalServer

from .conftest import MILADY, OPERATOR_KEY, HttpServer, Logs, service_env, stdio_mcp

pytestmark = pytest.mark.timeout(180)


async def test_offline_mode_says_so_everywhere_and_returns_the_images(logs: Logs) -> None:
    async with stdio_mcp({}, logs) as client:  # no key, no service URL
        tools = (await client.list_tools()).tools
        assert all("drawn locally" in tool.description for tool in tools)
        result = await client.call_tool("generate_image", {"prompt": "a lighthouse", "num_images": 2})
    assert not result.is_error
    text = result.content[0].text
    assert "not by a model" in text and "temporary" in text
    assert len([b for b in result.content if b.type == "image"]) == 2
    assert result.structured_content["offline"] is True
    assert "images are drawn locally" in logs.text()  # the operator's banner, on stderr


async def test_images_are_shrunk_under_the_stated_limit(server: LocalServer, logs: Logs) -> None:
    async with stdio_mcp(service_env(server), logs, "--max-image-chars", "40000") as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "generate_image")
        assert "40,000 base64 characters" in tool.description
        result = await client.call_tool("generate_image", {"prompt": "a city", "num_images": 2, "aspect_ratio": "16:9"})
    shown = [b for b in result.content if b.type == "image"]
    assert len(shown) == 2
    assert sum(len(b.data) for b in shown) <= 40000
    picture = Image.open(io.BytesIO(base64.b64decode(shown[0].data)))
    assert shown[0].mime_type == "image/jpeg" and picture.width > picture.height  # the shape is kept


async def test_an_image_that_cannot_be_shrunk_is_left_out_and_the_paid_result_still_comes_back(
    server: LocalServer, logs: Logs
) -> None:
    billed = server.stats.images_billed
    server.faults.update(image_url="truncated")  # half of each picture: over the limit and not decodable
    async with stdio_mcp(service_env(server), logs, "--max-image-chars", "20000") as client:
        result = await client.call_tool("generate_image", {"prompt": "a harbour", "num_images": 2})
    assert not result.is_error
    assert [b.type for b in result.content] == ["text"]
    assert len(result.structured_content["urls"]) == 2 and server.stats.images_billed == billed + 2


async def test_urls_only_results_carry_no_image_content(server: LocalServer, logs: Logs) -> None:
    async with stdio_mcp(service_env(server), logs, "--urls-only") as client:
        result = await client.call_tool("generate_image", {"prompt": "a boat"})
    assert [b.type for b in result.content] == ["text"]
    assert result.structured_content["urls"][0] in result.content[0].text


async def test_a_local_file_is_a_source_over_stdio_but_never_over_http(
    server: LocalServer, http_mcp: Callable[..., HttpServer], logs: Logs, tmp_path: Path
) -> None:
    picture = tmp_path / "source.png"
    Image.new("RGB", (64, 48), "blue").save(picture)
    async with stdio_mcp(service_env(server), logs) as client:
        local = await client.call_tool("generate_image", {"prompt": "make it red", "source_image": str(picture)})
    assert not local.is_error, local.content[0].text
    requests = server.stats.generate_requests
    async with http_mcp(service_env(server)).connect(OPERATOR_KEY) as client:
        remote = await client.call_tool("generate_image", {"prompt": "make it red", "source_image": str(picture)})
        tool = next(t for t in (await client.list_tools()).tools if t.name == "generate_image")
    assert remote.is_error and "cannot be a file path here" in remote.content[0].text
    assert "path" not in tool.input_schema["properties"]["source_image"]["description"]
    assert server.stats.generate_requests == requests  # refused before anything was sent


async def test_a_call_that_may_have_run_is_recovered_or_tells_the_agent_not_to_resend(
    server: LocalServer, logs: Logs
) -> None:
    async with stdio_mcp(service_env(server), logs, "--recover-for", "1") as client:
        server.faults.update(drop="before-response")  # generated, billed, then the answer is lost
        recovered = await client.call_tool("generate_image", {"prompt": "a fox found again"})
        server.faults.clear()
        server.faults.force_status(502)  # a proxy page; nothing to find in the gallery
        sent = server.stats.generate_requests
        broken = await client.call_tool("generate_image", {"prompt": "a fox lost"})
        again = await client.call_tool("list_models", {})
    assert not recovered.is_error
    assert "found 1 image it made in your gallery (already billed)" in recovered.content[0].text
    assert broken.is_error and server.stats.generate_requests == sent + 1  # never sent twice
    assert "Do not send this request again" in broken.content[0].text
    assert broken.structured_content["may_have_run"] is True
    assert not again.is_error


async def test_models_say_what_works_now_and_the_gallery_lists_past_images(server: LocalServer, logs: Logs) -> None:
    async with stdio_mcp(service_env(server), logs) as client:
        models = await client.call_tool("list_models", {})
        made = await client.call_tool("generate_image", {"prompt": "a gallery owl"})
        gallery = await client.call_tool("gallery", {"limit": 3})
    assert "bfl/flux-kontext-max" in models.content[0].text and "unavailable now" in models.content[0].text
    bfl = next(m for m in models.structured_content["models"] if m["id"] == "bfl/flux-kontext-max")
    assert bfl["available"] is False and models.structured_content["price_range"]["max"] > 0
    assert not made.is_error and not gallery.is_error
    newest = gallery.structured_content["items"][0]
    assert newest["prompt"] == "a gallery owl" and newest["url"] in made.structured_content["urls"]


async def test_the_readme_configuration_starts_the_server(server: LocalServer, logs: Logs) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## MCP", 1)[1].split("\n## ", 1)[0]
    config = json.loads(section.split("```json", 1)[1].split("```", 1)[0])["mcpServers"]["milady"]
    assert config["command"] == "/path/to/clone/.venv/bin/milady"
    env = {**config["env"], "MILADY_BASE_URL": server.base_url}
    params = StdioServerParameters(command=MILADY, args=config["args"], env=env)
    with logs.err.open("a") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:  # type: ignore[arg-type]
            result = await client.call_tool("list_models", {})
    assert not result.is_error
