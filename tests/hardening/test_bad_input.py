"""Bad input at every entry point: refused before anything is sent, naming the field and what it allows.

Entry points: the clients' arguments, `milady generate` flags, the ComfyUI node
(VALIDATE_INPUTS and the node function), the LangChain tool as an LLM calls it
(JSON-ish dicts), the Gradio block's validator and handler, and raw bodies sent
to the local server. Valid unusual input (unicode, emoji, control characters,
the exact limits) must pass everywhere.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from milady_integrations import AsyncMiladyClient, InvalidRequestError, MiladyClient
from milady_integrations.cli import main as cli_main
from milady_integrations.local import LocalServer
from milady_integrations.schema import ASPECT_RATIOS, MODELS, SOURCE_IMAGE_MAX_CHARS, STYLE_PRESETS

from .conftest import Ledger, call, default_node_inputs, tool_call

TEXT_AS_PNG = "data:image/png;base64," + base64.b64encode(b"hello, not an image").decode()
MODEL_CHOICES = ", ".join(MODELS)
RATIO_CHOICES = ", ".join(ASPECT_RATIOS)
PRESET_CHOICES = ", ".join(STYLE_PRESETS)


def huge_data_url() -> str:
    """A real image whose data URL is just over the service's limit."""
    buffer = io.BytesIO()
    Image.new("RGB", (2100, 1700), (10, 20, 30)).save(buffer, format="BMP")
    url = "data:image/bmp;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert len(url) > SOURCE_IMAGE_MAX_CHARS
    return url


# (field, value, words the message must hold: the field and what it allows)
BAD: list[tuple[str, Any, tuple[str, ...]]] = [
    ("prompt", "", ("prompt is empty", "1 to 4000 characters")),
    ("prompt", "   \t\n  ", ("prompt is empty", "not only spaces")),
    ("prompt", "\ufeff \u3000", ("prompt is empty",)),  # JavaScript's trim removes these too
    ("prompt", "x" * 4001, ("prompt has 4001 characters: the most allowed is 4000",)),  # no word of emoji
    ("prompt", "🦊" * 2001, ("prompt has 4002 characters", "an emoji counts 2", "most allowed is 4000")),
    ("prompt", 42, ("prompt must be a string", "1 to 4000 characters")),
    ("prompt", None, ("prompt must be a string",)),
    ("num_images", 0, ("num_images=0 is not allowed", "from 1 to 4")),
    ("num_images", 5, ("num_images=5 is not allowed", "from 1 to 4")),
    ("num_images", True, ("num_images=True is not allowed", "from 1 to 4")),
    ("num_images", "2", ("num_images='2' is not allowed", "from 1 to 4")),
    ("num_images", 2.5, ("num_images=2.5 is not allowed", "from 1 to 4")),
    ("num_images", None, ("num_images=None is not allowed", "from 1 to 4")),
    ("model", "acme/imagine-9", ("model='acme/imagine-9' is not a known model", MODEL_CHOICES)),
    ("model", "", ("model=''", MODEL_CHOICES)),
    ("model", 7, ("model=7", MODEL_CHOICES)),
    ("aspect_ratio", "2:1", ("aspect_ratio='2:1' is not allowed", RATIO_CHOICES)),
    ("aspect_ratio", 1.5, ("aspect_ratio=1.5", RATIO_CHOICES)),
    ("style_preset", "anime", ("style_preset='anime' is not allowed", PRESET_CHOICES)),
    ("style_preset", None, ("style_preset=None", PRESET_CHOICES)),
    ("source_image", "data:image/png;base64,!!!not base64", ("source_image is a malformed data URL",)),
    ("source_image", "data:image/png,rawbytes", ("source_image is a malformed data URL",)),
    ("source_image", TEXT_AS_PNG, ("source_image is not an image",)),
    ("source_image", "data:text/plain;base64,aGVsbG8=", ("source_image has MIME type 'text/plain'",)),
    ("source_image", "file:///etc/passwd", ("source_image names no readable file",)),
    ("source_image", 123, ("source_image has unsupported type int",)),
]
IDS = [f"{field}={value!r}"[:50] for field, value, _ in BAD]

GOOD_PROMPTS = {
    "unicode": "Füchse im Schnee — 雪の中の狐, «ünïcödé»",
    "emoji": "a 🦊 under 🌨️ with a 🏮, 👩🏽‍🎨 painting it",
    "control characters": "a fox\tin the\nsnow\x07 \x00 \x1b[31m red",
    "right-to-left": "\u202eoof a \u05e9\u05dc\u05d5\u05dd",
    "exactly 4000 characters": "y" * 4000,
    "2000 emoji (4000 as the service counts)": "🦊" * 2000,
}


def assert_words(text: str, words: tuple[str, ...]) -> None:
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


# ---------------------------------------------------------------- clients


@pytest.mark.parametrize(("field", "value", "words"), BAD, ids=IDS)
async def test_client_refuses_before_sending(
    field: str, value: Any, words: tuple[str, ...], kind_sync_async: str, server: LocalServer, clients: Any
) -> None:
    ledger = Ledger(server)
    client = clients(kind_sync_async)
    arguments: dict[str, Any] = {"prompt": "a fox", field: value}
    with pytest.raises(InvalidRequestError) as caught:
        await call(client.generate_image(arguments.pop("prompt"), **arguments))
    assert caught.value.field == field
    assert_words(str(caught.value), words)
    assert ledger.seen().total == 0


async def test_a_source_image_over_the_limit_is_refused_before_sending(
    kind_sync_async: str, server: LocalServer, clients: Any
) -> None:
    ledger = Ledger(server)
    with pytest.raises(InvalidRequestError) as caught:
        await call(clients(kind_sync_async).generate_image("a fox", source_image=huge_data_url()))
    assert caught.value.field == "source_image"
    assert_words(str(caught.value), ("the most allowed is 14,000,000", "downscale=True"))
    assert ledger.seen().total == 0


async def test_a_web_url_as_source_is_refused_by_the_client(server: LocalServer, clients: Any) -> None:
    ledger = Ledger(server)
    with pytest.raises(InvalidRequestError, match="source_image is a web URL"):
        clients("sync").build_request("a fox", source_image="https://example.com/cat.png")
    assert ledger.seen().total == 0


@pytest.mark.parametrize("prompt", GOOD_PROMPTS.values(), ids=GOOD_PROMPTS.keys())
async def test_valid_unusual_prompts_are_accepted_and_reach_the_service_intact(
    prompt: str, kind_sync_async: str, clients: Any, server: LocalServer
) -> None:
    result = await call(clients(kind_sync_async).generate_image(prompt))
    assert result.returned == 1
    assert any(r["enhancedPrompt"].startswith(f"Generate an image: {prompt}") for r in server.requests)


def test_client_options_are_checked_at_construction() -> None:
    with pytest.raises(ValueError, match="base_url='ftp://x' must start with http:// or https://"):
        MiladyClient(api_key="k", base_url="ftp://x")
    with pytest.raises(ValueError, match="max_retries=-1 must be 0 or more"):
        AsyncMiladyClient(api_key="k", max_retries=-1)


# ---------------------------------------------------------------- CLI


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(["generate", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, server: LocalServer) -> LocalServer:
    monkeypatch.setenv("MILADY_API_KEY", server.api_key)
    monkeypatch.setenv("MILADY_BASE_URL", server.base_url)
    return server


CLI_BAD: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "empty prompt": ([""], ("prompt is empty",)),
    "blank prompt": (["  \t "], ("prompt is empty",)),
    "4001 characters": (["x" * 4001], ("prompt has 4001 characters", "most allowed is 4000")),
    "-n 0": (["a fox", "-n", "0"], ("-n 0 is not allowed", "from 1 to 4")),
    "-n 5": (["a fox", "-n", "5"], ("-n 5 is not allowed", "from 1 to 4")),
    "-n 2.5": (["a fox", "-n", "2.5"], ("-n '2.5' is not allowed", "whole number from 1 to 4")),
    "-n true": (["a fox", "-n", "true"], ("-n 'true' is not allowed", "whole number from 1 to 4")),
    "--model": (
        ["a fox", "--model", "acme/x"],
        ("--model 'acme/x' is not a known model", MODEL_CHOICES, "add --allow-unlisted-model"),
    ),
    "--aspect-ratio": (["a fox", "--aspect-ratio", "2:1"], ("--aspect-ratio '2:1' is not allowed", RATIO_CHOICES)),
    "--style": (["a fox", "--style", "anime"], ("--style 'anime' is not allowed", PRESET_CHOICES)),
    "--source missing": (["a fox", "--source", "/nonexistent/cat.png"], ("--source names no readable file",)),
    "no prompt": ([], ("the following arguments are required: prompt",)),
    "unknown flag": (["a fox", "--colour", "red"], ("unrecognized arguments: --colour red",)),
}


@pytest.mark.parametrize("argv", [v[0] for v in CLI_BAD.values()], ids=CLI_BAD.keys())
def test_cli_refuses_bad_flags_with_exit_code_2(argv: list[str], cli_env: LocalServer, tmp_path: Path) -> None:
    words = next(w for a, w in CLI_BAD.values() if a == argv)
    ledger = Ledger(cli_env)
    code, out, err = run_cli(*argv, "-o", str(tmp_path))
    assert code == 2
    assert out == ""
    assert_words(err, words)
    assert ledger.seen().total == 0
    assert not any(tmp_path.iterdir())


def test_cli_refuses_a_source_file_that_is_not_an_image(cli_env: LocalServer, tmp_path: Path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("shopping list")
    ledger = Ledger(cli_env)
    code, _, err = run_cli("a fox", "--source", str(notes), "-o", str(tmp_path / "out"))
    assert code == 2 and "--source is not an image (notes.png" in err
    assert ledger.seen().total == 0


def test_cli_accepts_emoji_and_unicode(cli_env: LocalServer, tmp_path: Path) -> None:
    code, out, _ = run_cli(GOOD_PROMPTS["emoji"] + " " + GOOD_PROMPTS["unicode"], "-o", str(tmp_path))
    assert code == 0
    saved = [Path(line) for line in out.splitlines()]
    assert len(saved) == 1 and Image.open(saved[0]).format == "WEBP"


# ---------------------------------------------------------------- ComfyUI node


NODE_PROMPTS = [case for case in BAD if case[0] == "prompt" and isinstance(case[1], str)]


@pytest.mark.parametrize(("field", "value", "words"), NODE_PROMPTS, ids=[c[1][:20] for c in NODE_PROMPTS])
def test_node_validate_inputs_refuses_bad_prompts(field: str, value: Any, words: tuple[str, ...], comfy: Any) -> None:
    from comfyui_nodes import MiladyGenerateImage

    message = MiladyGenerateImage.VALIDATE_INPUTS(prompt=value)
    assert isinstance(message, str)
    assert_words(message, words)


@pytest.mark.parametrize("prompt", GOOD_PROMPTS.values(), ids=GOOD_PROMPTS.keys())
def test_node_validate_inputs_accepts_valid_unusual_prompts(prompt: str, comfy: Any) -> None:
    from comfyui_nodes import MiladyGenerateImage

    assert MiladyGenerateImage.VALIDATE_INPUTS(prompt=prompt) is True


NODE_BAD = [case for case in BAD if case[0] != "source_image"]


@pytest.mark.parametrize(("field", "value", "words"), NODE_BAD, ids=[IDS[BAD.index(c)] for c in NODE_BAD])
async def test_node_refuses_bad_inputs_before_sending(
    field: str, value: Any, words: tuple[str, ...], node: Any, server: LocalServer
) -> None:
    """Inputs wired from other nodes skip ComfyUI's own checks: the node checks them again."""
    from comfyui_nodes.errors import MiladyNodeError

    ledger = Ledger(server)
    with pytest.raises(MiladyNodeError) as caught:
        await node.generate(**default_node_inputs(**{field: value}))
    assert_words(str(caught.value), words)
    assert ledger.seen().total == 0


async def test_node_accepts_emoji_and_control_characters(node: Any, server: LocalServer) -> None:
    images, *_ = await node.generate(**default_node_inputs(prompt=GOOD_PROMPTS["control characters"]))
    assert images.shape[0] == 1 and server.requests[0]["prompt"] == GOOD_PROMPTS["control characters"]


# ---------------------------------------------------------------- LangChain tool

# As a model sends arguments: JSON values, sometimes strings for numbers.
TOOL_BAD: list[tuple[dict[str, Any], tuple[str, ...]]] = [
    ({}, ("prompt is required", "1 to 4000 characters")),
    ({"prompt": ""}, ("prompt is empty",)),
    ({"prompt": "   "}, ("prompt is empty",)),
    ({"prompt": "x" * 4001}, ("prompt has 4001 characters",)),
    ({"prompt": "🦊" * 2001}, ("prompt has 4002 characters",)),
    ({"prompt": 42}, ("prompt must be a string",)),
    ({"prompt": "a fox", "num_images": 0}, ("num_images=0 is not allowed", "from 1 to 4")),
    ({"prompt": "a fox", "num_images": 5}, ("num_images=5 is not allowed", "from 1 to 4")),
    ({"prompt": "a fox", "num_images": True}, ("num_images=True is not allowed", "from 1 to 4")),
    ({"prompt": "a fox", "num_images": 2.5}, ("num_images=2.5 is not allowed", "from 1 to 4")),
    ({"prompt": "a fox", "num_images": "two"}, ("num_images='two' is not allowed", "from 1 to 4")),
    ({"prompt": "a fox", "num_images": "2"}, ("num_images='2' is not allowed", "from 1 to 4")),
    ({"prompt": "a fox", "num_images": 2.0}, ("num_images=2.0 is not allowed", "from 1 to 4")),
    ({"prompt": "a fox", "num_images": None}, ("num_images=None is not allowed",)),
    (
        {"prompt": "a fox", "model": "acme/x"},
        ("model='acme/x' is not a known model", MODEL_CHOICES, "allow_unlisted_models=True"),
    ),
    ({"prompt": "a fox", "aspect_ratio": "2:1"}, ("aspect_ratio='2:1' is not allowed", RATIO_CHOICES)),
    ({"prompt": "a fox", "style_preset": "anime"}, ("style_preset='anime' is not allowed", PRESET_CHOICES)),
    ({"prompt": "a fox", "source_image": "data:image/png;base64,!!!"}, ("source_image is a malformed data URL",)),
    ({"prompt": "a fox", "source_image": TEXT_AS_PNG}, ("source_image is not an image",)),
    ({"prompt": "a fox", "source_image": "file:///etc/passwd"}, ("source_image",)),
    ({"prompt": "a fox", "source_image": 7}, ("source_image",)),
    ({"prompt": "a fox", "colour": "red", "num_images": 9}, ("num_images=9 is not allowed",)),
]


@pytest.mark.parametrize(("args", "words"), TOOL_BAD, ids=[json.dumps(a)[:40] for a, _ in TOOL_BAD])
async def test_tool_refuses_bad_arguments_as_an_error_message(
    args: dict[str, Any], words: tuple[str, ...], tool: Any, server: LocalServer
) -> None:
    ledger = Ledger(server)
    message = await tool.ainvoke(tool_call(args))
    assert message.status == "error"
    assert_words(str(message.content), words)
    assert ledger.seen().total == 0


def test_tool_sync_path_refuses_the_same_way(tool: Any, server: LocalServer) -> None:
    ledger = Ledger(server)
    message = tool.invoke(tool_call({"prompt": "a fox", "num_images": 5}))
    assert message.status == "error" and "num_images=5 is not allowed" in str(message.content)
    assert ledger.seen().total == 0


@pytest.mark.parametrize(
    "args",
    [
        {"prompt": "a fox", "num_images": 2},
        {"prompt": GOOD_PROMPTS["emoji"]},
        {"prompt": GOOD_PROMPTS["control characters"]},
        {"prompt": "🦊" * 2000},
    ],
    ids=["2", "emoji", "control characters", "2000 emoji"],
)
async def test_tool_accepts_what_a_model_reasonably_sends(args: dict[str, Any], tool: Any) -> None:
    message = await tool.ainvoke(tool_call(args))
    assert message.status != "error", message.content
    assert message.artifact["returned"] == args.get("num_images", 1)


# ---------------------------------------------------------------- Gradio block


GRADIO_WORDS = {
    ("source_image", "file:///etc/passwd"): (
        "source_image='file:///etc/passwd' is not allowed",
        "upload the image",
        "files already on the server cannot be named",
    )
}
GRADIO_BAD = [case for case in BAD if not (case[0] == "source_image" and case[1] == 123)]


@pytest.mark.parametrize(("field", "value", "words"), GRADIO_BAD, ids=[IDS[BAD.index(c)] for c in GRADIO_BAD])
async def test_gradio_refuses_bad_inputs_in_the_validator_and_the_handler(
    field: str, value: Any, words: tuple[str, ...], block: Any, server: LocalServer
) -> None:
    import gradio as gr

    ledger = Ledger(server)
    # Gradio runs on a server: a path there is refused with its own reason (never read).
    words = GRADIO_WORDS.get((field, value), words)
    invalid = block.invalid(**{field: value})
    assert list(invalid) == [field]
    assert_words(invalid[field], words)
    with pytest.raises(gr.Error) as caught:
        await block.run(**{field: value})
    assert_words(caught.value.message, words)
    assert ledger.seen().total == 0


async def test_gradio_shrinks_a_source_image_over_the_limit_instead_of_refusing(block: Any) -> None:
    assert block.invalid(source_image=huge_data_url()) == {}


async def test_the_tool_shrinks_a_source_image_over_the_limit_instead_of_refusing(
    tool: Any, server: LocalServer
) -> None:
    message = await tool.ainvoke(tool_call({"prompt": "a fox", "source_image": huge_data_url()}))
    assert message.status != "error", message.content
    assert server.requests[0]["imageToImage"] is True  # sent, shrunk to fit: the service accepted it


@pytest.mark.parametrize("prompt", GOOD_PROMPTS.values(), ids=GOOD_PROMPTS.keys())
async def test_gradio_accepts_valid_unusual_prompts(prompt: str, block: Any) -> None:
    assert block.invalid(prompt=prompt) == {}


async def test_gradio_runs_an_emoji_prompt(block: Any, server: LocalServer) -> None:
    paths, _ = await block.run(prompt=GOOD_PROMPTS["emoji"], num_images=2.0)
    assert len(paths) == 2 and server.requests[0]["prompt"] == GOOD_PROMPTS["emoji"]


# ---------------------------------------------------------------- raw bodies to the local server

PROMPT_REQUIRED = "Prompt is required and must be a non-empty string"
NUM_INVALID = "numImages must be an integer between 1 and 4"

RAW_BAD: list[tuple[object, str]] = [
    ({}, PROMPT_REQUIRED),
    ({"prompt": ""}, PROMPT_REQUIRED),
    ({"prompt": " \t\n"}, PROMPT_REQUIRED),
    ({"prompt": "\ufeff"}, PROMPT_REQUIRED),
    ({"prompt": 42}, PROMPT_REQUIRED),
    ({"prompt": ["a"]}, PROMPT_REQUIRED),
    ({"prompt": "x" * 4001}, "Prompt must be 4000 characters or fewer"),
    ({"prompt": "🦊" * 2001}, "Prompt must be 4000 characters or fewer"),
    ({"prompt": "a", "numImages": 0}, NUM_INVALID),
    ({"prompt": "a", "numImages": 5}, NUM_INVALID),
    ({"prompt": "a", "numImages": True}, NUM_INVALID),
    ({"prompt": "a", "numImages": "2"}, NUM_INVALID),
    ({"prompt": "a", "numImages": 2.5}, NUM_INVALID),
    ({"prompt": "a", "numImages": None}, NUM_INVALID),
    ({"prompt": "a", "sourceImage": 5}, "sourceImage must be a base64 data URL string"),
    ({"prompt": "a", "sourceImage": "x" * (SOURCE_IMAGE_MAX_CHARS + 1)}, "sourceImage exceeds maximum allowed size"),
    ([], PROMPT_REQUIRED),
    ("a fox", PROMPT_REQUIRED),
]


@pytest.fixture
def raw(server: LocalServer) -> Any:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:

        def post(body: object) -> httpx.Response:
            return http.post(
                "/api/v1/generate-image",
                content=json.dumps(body),
                headers={"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"},
            )

        yield post


@pytest.mark.parametrize(("body", "error"), RAW_BAD, ids=[json.dumps(b)[:40] for b, _ in RAW_BAD])
def test_server_refuses_bad_bodies_with_the_services_400(
    body: object, error: str, raw: Any, server: LocalServer
) -> None:
    ledger = Ledger(server)
    answer = raw(body)
    assert answer.status_code == 400 and answer.json() == {"error": error}
    assert ledger.seen().billed == 0


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": GOOD_PROMPTS["control characters"]},
        {"prompt": "🦊" * 2000},
        {"prompt": "a", "numImages": 2.0},  # JavaScript has one number type
        {"prompt": "a", "aspectRatio": "2:1", "stylePreset": "anime", "model": "acme/x"},  # not checked there
    ],
    ids=["control characters", "2000 emoji", "2.0", "unchecked fields"],
)
def test_server_accepts_what_the_service_accepts(body: dict[str, Any], raw: Any) -> None:
    answer = raw(body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["numImages"] == int(body.get("numImages", 1))


def test_server_answers_a_body_that_is_not_json_with_the_parsers_500(server: LocalServer) -> None:
    ledger = Ledger(server)
    answer = httpx.post(
        f"{server.base_url}/api/v1/generate-image",
        content=b"{prompt: 'a fox'",
        headers={"X-API-Key": server.api_key},
    )
    assert answer.status_code == 500 and answer.json()["error"] == "Expected property name or '}' in JSON at position 1"
    assert ledger.seen().billed == 0
