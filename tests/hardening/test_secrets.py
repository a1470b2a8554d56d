"""A known key through every face with DEBUG logging: it shows up nowhere a person or a file could see it.

Searched: every log record (all loggers at DEBUG), reprs, exception texts, what the
node returns and shows, PNG files saved the way ComfyUI's SaveImage saves them (with
the workflow in their metadata), the shipped workflows, LangChain messages, artifacts,
callbacks and the tool's serialisation, and the Gradio page, /config, the API info
and API answers (success and error).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("gradio", reason="the Gradio face needs the 'gradio' extra")
pytest.importorskip("langchain_core", reason="the LangChain face needs the 'langchain' extra")
pytest.importorskip("torch", reason="the ComfyUI face needs torch (ComfyUI brings its own)")

from milady_integrations import AsyncMiladyClient, InsufficientCreditsError, MiladyClient
from milady_integrations.local import LocalServer, ServerConfig

from .conftest import default_node_inputs, tool_call

SECRET = "sk-milady-live-7f3a9c2e1b5d4a60"
#: A fragment is enough to count as a leak (a truncated or partly masked key).
FRAGMENTS = (SECRET, SECRET[-12:], SECRET[:14])
REPO = Path(__file__).resolve().parents[2]


class Haystack:
    """Everything collected during the run, searched at the end."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def add(self, where: str, value: object) -> None:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        self.texts[f"{where} #{len(self.texts)}"] = value if isinstance(value, str) else repr(value)

    def leaks(self) -> list[str]:
        return [where for where, text in self.texts.items() if any(f in text for f in FRAGMENTS)]


@pytest.fixture
def keyed_server() -> Iterator[LocalServer]:
    with LocalServer(ServerConfig(api_keys={SECRET}, rate_limit=10**6)) as running:
        yield running


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    for name in ("", "milady_integrations", "comfyui_nodes", "langchain_tool", "gradio_app", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    with caplog.at_level(logging.DEBUG):
        yield caplog


async def test_the_key_never_leaks_from_any_face(
    keyed_server: LocalServer,
    debug_logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    comfy: Any,
) -> None:
    hay = Haystack()
    monkeypatch.setenv("MILADY_API_KEY", SECRET)
    monkeypatch.setenv("MILADY_BASE_URL", keyed_server.base_url)

    # -- the clients
    with MiladyClient() as client:
        hay.add("client repr", repr(client))
        result = client.generate_image("a fox")
        hay.add("result", repr(result))
        hay.add("result json", json.dumps(result.to_dict()))
        keyed_server.faults.force_status(402)
        with pytest.raises(InsufficientCreditsError) as caught:
            client.generate_image("a fox")
        hay.add("error", str(caught.value))
        hay.add("error repr", repr(caught.value))
        hay.add("error body", caught.value.body)
    async with AsyncMiladyClient() as aclient:
        hay.add("async client repr", repr(aclient))
        hay.add("options repr", repr(aclient.with_options(timeout=3)))

    # -- the ComfyUI node: outputs, progress texts, and a PNG saved as SaveImage saves it
    await _node(hay, tmp_path, comfy, keyed_server)

    # -- the LangChain tool: messages, artifact, callbacks, serialisation
    await _tool(hay, keyed_server)

    # -- the Gradio demo: page, config, API info, answers
    await _gradio(hay, tmp_path)

    for record in debug_logs.records:
        hay.add(f"log {record.name}", record.getMessage())
        hay.add(f"log args {record.name}", repr(record.args))
    assert any("authorization" in r.getMessage().lower() for r in debug_logs.records)  # headers were logged...
    assert len(hay.texts) > 30
    assert hay.leaks() == []  # ...with the key redacted everywhere


async def _node(hay: Haystack, tmp_path: Path, comfy: Any, server: LocalServer) -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from comfyui_nodes import MiladyGenerateImage
    from comfyui_nodes.errors import MiladyNodeError

    node = MiladyGenerateImage()
    hay.add("node INPUT_TYPES", json.dumps(MiladyGenerateImage.INPUT_TYPES(), default=str))
    inputs = default_node_inputs(num_images=2)
    images, text, urls, _mask = await node.generate(**inputs)
    hay.add("node outputs", (text, urls))
    server.faults.force_status(401)
    with pytest.raises(MiladyNodeError) as caught:
        await node.generate(**inputs)
    hay.add("node error", str(caught.value))
    hay.add("node error repr", repr(caught.value))
    hay.add("node texts", comfy.text_lines)

    # ComfyUI's SaveImage writes the prompt (every node's inputs) and the workflow into each PNG.
    workflow = json.loads((REPO / "example_workflows" / "milady_text_to_image.json").read_text())
    prompt = {
        "7": {"class_type": "MiladyGenerateImage", "inputs": {k: v for k, v in inputs.items() if k != "unique_id"}}
    }
    for index, frame in enumerate(images):
        metadata = PngInfo()
        metadata.add_text("prompt", json.dumps(prompt))
        metadata.add_text("workflow", json.dumps(workflow))
        path = tmp_path / f"ComfyUI_{index:05}_.png"
        Image.fromarray((frame.numpy() * 255).astype("uint8")).save(path, pnginfo=metadata)
        saved = Image.open(path)
        hay.add("saved PNG metadata", json.dumps(saved.info, default=str))
        hay.add("saved PNG bytes", path.read_bytes())
    for shipped in sorted((REPO / "example_workflows").rglob("*.json")):
        hay.add(f"shipped {shipped.name}", shipped.read_text())


async def _tool(hay: Haystack, server: LocalServer) -> None:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.load import dumpd, dumps

    from langchain_tool import MiladyImageGenerationTool, MiladyToolkit

    class Recorder(BaseCallbackHandler):
        def on_tool_start(self, serialized: dict[str, Any], input_str: str, **kwargs: Any) -> None:
            hay.add("callback start", (serialized, input_str, kwargs.get("inputs")))

        def on_tool_end(self, output: Any, **kwargs: Any) -> None:
            hay.add("callback end", output)

        def on_tool_error(self, error: BaseException, **kwargs: Any) -> None:
            hay.add("callback error", error)

    tool = MiladyImageGenerationTool()  # key from MILADY_API_KEY, as users configure it
    try:
        config = {"callbacks": [Recorder()]}
        message = await tool.ainvoke(tool_call({"prompt": "a fox", "num_images": 2}), config=config)
        hay.add("tool message", message.model_dump_json())
        server.faults.force_status(402)
        failed = await tool.ainvoke(tool_call({"prompt": "a fox"}, "call_2"), config=config)
        assert failed.status == "error"
        hay.add("tool error message", failed.model_dump_json())
        hay.add("sync tool message", tool.invoke(tool_call({"prompt": "a hen"}, "call_3")).model_dump_json())
        hay.add("tool repr", repr(tool))
        hay.add("tool str", str(tool))
        hay.add("tool model_dump", tool.model_dump())
        hay.add("tool dumpd", json.dumps(dumpd(tool), default=str))
        hay.add("tool dumps", dumps(tool))
        hay.add("tool schema", json.dumps(tool.tool_call_schema.model_json_schema()))
        toolkit = MiladyToolkit()
        hay.add("toolkit", (repr(toolkit), [repr(t) for t in toolkit.get_tools()], toolkit.model_dump()))
    finally:
        await tool.aclose()


async def _gradio(hay: Haystack, tmp_path: Path) -> None:
    from gradio_client import Client

    from gradio_app import close_demo, create_demo

    demo = create_demo()  # key from MILADY_API_KEY, base URL from MILADY_BASE_URL
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        url = str(demo.local_url).rstrip("/")
        async with httpx.AsyncClient(timeout=30) as http:
            for path in ("/", "/config", "/gradio_api/info", "/gradio_api/openapi.json", "/manifest.json"):
                answer = await http.get(url + path)
                hay.add(f"gradio GET {path}", answer.text)
        client = Client(url, analytics_enabled=False, verbose=False, download_files=str(tmp_path / "downloads"))
        hay.add("gradio view_api", client.view_api(print_info=False, return_format="dict"))
        answer = client.predict("a fox", "google/gemini-2.5-flash-image", "1:1", "none", 1, None, api_name="/generate")
        hay.add("gradio answer", answer)
        with pytest.raises(Exception) as caught:
            client.predict("", "google/gemini-2.5-flash-image", "1:1", "none", 1, None, api_name="/generate")
        hay.add("gradio error", str(caught.value))
        client.close()
    finally:
        close_demo(demo)
