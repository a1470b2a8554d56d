"""The fault matrix through each face: the ComfyUI node, the LangChain tool, the Gradio block.

For every fault the plain client runs first; then each face runs under the same fault.
Each must end the same way (the same error text, or the same number of images), cost
the same generate requests and billed images as the client (never more), and hang none.
The tool never downloads the images (it hands URLs to the agent), so a broken image URL
is a success there and an error in the node and the block, which fetch the pixels.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("gradio", reason="the Gradio face needs the 'gradio' extra")
pytest.importorskip("langchain_core", reason="the LangChain face needs the 'langchain' extra")
pytest.importorskip("torch", reason="the ComfyUI face needs torch (ComfyUI brings its own)")

import gradio as gr

from comfyui_nodes.errors import MiladyNodeError
from milady_integrations import AsyncMiladyClient, MiladyError
from milady_integrations.local import LocalServer

from .conftest import FACE_RETRIES as RETRIES
from .conftest import FACE_TIMEOUT, BlockHandler, Ledger, eventually, face_client, run_node, tool_call


@dataclass(frozen=True)
class Outcome:
    """How a run ended, as a user sees it: an error line, or how many images came back."""

    error: str | None = None
    images: int = 0
    generate: int = 0
    billed: int = 0


def normalise(text: str) -> str:
    """Remove what differs between two runs of one failure (request ids, image ids, timings)."""
    text = re.sub(r" \(request id [^)]+\)", "", text)
    text = re.sub(r"http://127\.0\.0\.1:\d+/images/\S+?(?=[ :,]|$)", "<image url>", text)
    return re.sub(r"after \d+(\.\d+)? s", "after <t> s", text)


# name: (fault settings, force_status(status, count, body, retry_after), num_images)
FAULTS: dict[str, tuple[dict[str, Any], tuple[int, int, str | None, int | None] | None, int]] = {
    "latency past the timeout": ({"latency": 3 * FACE_TIMEOUT}, None, 1),  # well past: a stalled loop cannot blur it
    # Retry-After: 0 still takes the "honour the header" path, without the wait (timed in the client tests).
    "429 with Retry-After": ({}, (429, 1, None, 0), 1),
    "429 without Retry-After": ({}, (429, 1, None, None), 1),
    "429 over the cap": ({}, (429, 1, None, 90), 1),
    "500 then success": ({}, (500, 1, None, None), 1),
    "502 HTML": ({}, (502, 5, "html", None), 1),
    "503 HTML": ({}, (503, 5, "html", None), 1),
    "504 HTML": ({}, (504, 5, "html", None), 1),
    "402": ({}, (402, 1, None, None), 2),
    "dropped before the response": ({"drop": "before-response"}, None, 1),
    "dropped mid-body": ({"drop": "mid-body"}, None, 1),
    "truncated JSON": ({"body": "truncated"}, None, 1),
    "invalid JSON": ({"body": "invalid-json"}, None, 1),
    "JSON missing fields": ({"body": "empty-object"}, None, 1),
    "items without url": ({"body": "no-url"}, None, 1),
    "zero images": ({"body": "zero-images"}, None, 1),
    "partial success": ({"fail_images": 1}, None, 3),
    "storage failure": ({"storage_failure": True}, None, 2),
    "image URL 404": ({"image_url": "404"}, None, 1),
    "image URL hangs": ({"image_url": "hang"}, None, 1),
    "image URL not an image": ({"image_url": "not-image"}, None, 1),
    "image over the cap": ({"image_url": "oversize"}, None, 1),
    "wrong MIME label": ({"wrong_mime": True}, None, 1),
}
#: Faults in the image URLs: the tool returns the URLs without fetching them.
URL_FAULTS = {"image URL 404", "image URL hangs", "image URL not an image", "image over the cap"}


def arm(server: LocalServer, name: str) -> int:
    settings, force, num_images = FAULTS[name]
    server.faults.clear()
    if settings:
        server.faults.update(**settings)
    if force is not None:
        status, count, body, retry_after = force
        server.faults.force_status(status, count, body=body, retry_after=retry_after)  # type: ignore[arg-type]
    return num_images


PROMPT = "a fox in the snow"


async def measured(server: LocalServer, name: str, run: Callable[[int], Awaitable[Outcome]]) -> Outcome:
    num_images = arm(server, name)
    ledger = Ledger(server)
    outcome = await run(num_images)
    if name == "latency past the timeout":  # the server bills after the client gave up
        assert eventually(lambda: ledger.seen().billed >= 1)
    seen = ledger.seen()
    server.faults.clear()
    return Outcome(outcome.error, outcome.images, seen.generate, seen.billed)


@pytest.fixture
async def reference_client(server: LocalServer) -> Any:
    async with face_client(server) as client:
        yield client


@pytest.fixture
def faces(node: Any, tool: Any, block: BlockHandler) -> dict[str, Any]:
    """Each face set up as in conftest.py: RETRIES retries, FACE_TIMEOUT timeouts, a 5 MB download cap."""
    return {"node": node, "tool": tool, "block": block}


async def via_client(client: AsyncMiladyClient, num_images: int, prompt: str = PROMPT) -> Outcome:
    try:
        result = await client.generate_image(prompt, num_images=num_images)
        datas = await client.read_images(result)
    except MiladyError as err:
        return Outcome(error=normalise(str(err)))
    return Outcome(images=len(datas))


async def via_node(node: Any, num_images: int, prompt: str = PROMPT) -> Outcome:
    try:
        images, *_ = await run_node(node, prompt=prompt, num_images=num_images)
    except MiladyNodeError as err:
        assert isinstance(err.__cause__, MiladyError)  # ComfyUI shows str(err); details stay on the cause
        return Outcome(error=normalise(str(err)))
    return Outcome(images=int(images.shape[0]))


async def via_tool(tool: Any, num_images: int, prompt: str = PROMPT) -> Outcome:
    message = await tool.ainvoke(tool_call({"prompt": prompt, "num_images": num_images}))
    if message.status == "error":
        return Outcome(error=normalise(str(message.content)))
    assert "base64" not in str(message.content)  # no image bytes in the model's context
    return Outcome(images=int(message.artifact["returned"]))


async def via_block(block: BlockHandler, num_images: int, prompt: str = PROMPT) -> Outcome:
    try:
        paths, _text = await block.run(prompt=prompt, num_images=num_images)
    except gr.Error as err:
        assert isinstance(err.__cause__, MiladyError)
        return Outcome(error=normalise(err.message))
    return Outcome(images=len(paths))


@pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a page
@pytest.mark.parametrize("name", FAULTS)
async def test_each_face_ends_like_the_client(
    name: str, server: LocalServer, reference_client: AsyncMiladyClient, faces: dict[str, Any]
) -> None:
    # A prompt of this case only: recovery looks in the gallery by prompt, and must not find what
    # another test's request made there (as it would for a real user sending the same prompt twice).
    prompt = f"{PROMPT} ({name})"
    expected = await measured(server, name, lambda n: via_client(reference_client, n, prompt))
    outcomes = {
        "node": await measured(server, name, lambda n: via_node(faces["node"], n, prompt)),
        "tool": await measured(server, name, lambda n: via_tool(faces["tool"], n, prompt)),
        "block": await measured(server, name, lambda n: via_block(faces["block"], n, prompt)),
    }
    for face, outcome in outcomes.items():
        if face == "tool" and name in URL_FAULTS:
            assert outcome.error is None and outcome.images == 1, outcome
            assert (outcome.generate, outcome.billed) == (expected.generate, expected.billed)
            continue
        assert outcome == expected, f"{face}: {outcome} != client {expected}"


async def test_connection_refused_reads_the_same_in_every_face(
    closed_port: int, faces: dict[str, Any], monkeypatch: pytest.MonkeyPatch, server: LocalServer
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    async with AsyncMiladyClient(api_key=server.api_key, base_url=url, max_retries=RETRIES) as client:
        expected = await via_client(client, 1)
    assert expected.error and f"Could not connect to 127.0.0.1:{closed_port}" in expected.error

    monkeypatch.setenv("MILADY_BASE_URL", url)
    faces["tool"].base_url = url  # not used yet: its client is made on the first call
    async with AsyncMiladyClient(api_key=server.api_key, base_url=url, max_retries=RETRIES) as block_client:
        from gradio_app import milady_image_block

        with gr.Blocks() as demo:
            made = milady_image_block(block_client)
        fn = next(f for f in demo.fns.values() if f.api_name == made.api_name)
        block = BlockHandler(fn=fn.fn, validator=fn.validator)  # type: ignore[arg-type]
        before = server.stats.total_requests
        for outcome in (
            await via_node(faces["node"], 1),
            await via_tool(faces["tool"], 1),
            await via_block(block, 1),
        ):
            assert outcome.error == expected.error
        assert server.stats.total_requests == before
