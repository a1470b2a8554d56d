"""The Generate handler and its validator, called as Gradio calls them, on the local server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio.utils import get_upload_folder
from PIL import Image

from gradio_app import milady_image_block
from milady_integrations import AsyncMiladyClient, GenerateImageRequest, InvalidRequestError
from milady_integrations.local import IMAGE_SIZES, Faults, LocalServer, ServerConfig

FIELDS = ("prompt", "model", "aspect_ratio", "style_preset", "num_images", "source_image")
DEFAULTS: dict[str, Any] = {
    "model": "google/gemini-2.5-flash-image",
    "aspect_ratio": "1:1",
    "style_preset": "none",
    "num_images": 1,
    "source_image": None,
}


class Progress:
    """Records what the progress bar was told."""

    def __init__(self) -> None:
        self.updates: list[tuple[float | None, str | None]] = []

    def __call__(self, fraction: float | None, desc: str | None = None, **_: Any) -> None:
        self.updates.append((fraction, desc))


def _event_functions(client: AsyncMiladyClient) -> tuple[Callable[..., Any], Callable[..., Any], gr.Gallery]:
    with gr.Blocks() as demo:
        block = milady_image_block(client)
    fn = next(f for f in demo.fns.values() if f.api_name == block.api_name)
    assert fn.validator is not None
    return fn.fn, fn.validator, block.gallery  # type: ignore[return-value]


def _args(**values: Any) -> list[Any]:
    merged = {**DEFAULTS, **values}
    return [merged[field] for field in FIELDS]


def _invalid(validation: list[dict[str, Any]]) -> dict[str, str]:
    return {field: v["message"] for field, v in zip(FIELDS, validation, strict=True) if not v["is_valid"]}


def _core_message(**values: Any) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        GenerateImageRequest.create(**{**DEFAULTS, "prompt": "x", **values})
    return str(caught.value)


# ---------------------------------------------------------------- validator


def test_valid_input_passes_the_validator(async_client: AsyncMiladyClient) -> None:
    _, validate, _ = _event_functions(async_client)

    assert _invalid(validate(*_args(prompt="a fox", num_images=4, style_preset="origami"))) == {}


def test_slider_floats_count_as_whole_numbers(async_client: AsyncMiladyClient) -> None:
    _, validate, _ = _event_functions(async_client)

    assert _invalid(validate(*_args(prompt="a fox", num_images=3.0))) == {}
    assert "num_images" in _invalid(validate(*_args(prompt="a fox", num_images=2.5)))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prompt", ""),
        ("prompt", "   "),
        ("prompt", "x" * 4001),
        ("model", "acme/unknown-model"),
        ("aspect_ratio", "2:1"),
        ("style_preset", "watercolour"),
        ("num_images", 0),
        ("num_images", 5),
    ],
)
def test_invalid_input_is_stopped_with_the_core_message(
    async_client: AsyncMiladyClient, field: str, value: Any
) -> None:
    _, validate, _ = _event_functions(async_client)
    values = {"prompt": "a fox", field: value}

    assert _invalid(validate(*_args(**values))) == {field: _core_message(**values)}


def test_every_invalid_field_is_marked_at_once(async_client: AsyncMiladyClient) -> None:
    _, validate, _ = _event_functions(async_client)

    invalid = _invalid(validate(*_args(prompt="", num_images=7, aspect_ratio="wide")))

    assert set(invalid) == {"prompt", "num_images", "aspect_ratio"}
    assert "num_images=7" in invalid["num_images"] and "1 to 4" in invalid["num_images"]
    assert "'wide'" in invalid["aspect_ratio"] and "16:9" in invalid["aspect_ratio"]


def _uploaded(name: str) -> Path:
    """A file where Gradio puts uploads, as if a browser had sent it."""
    folder = Path(get_upload_folder()) / "milady-tests" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder / name


def test_a_file_that_is_no_image_is_refused_as_source(async_client: AsyncMiladyClient) -> None:
    _, validate, _ = _event_functions(async_client)
    text_file = _uploaded("notes.png")
    text_file.write_text("not an image")

    invalid = _invalid(validate(*_args(prompt="a fox", source_image={"path": str(text_file)})))

    assert list(invalid) == ["source_image"]
    assert "notes.png" in invalid["source_image"]


@pytest.mark.parametrize("as_dict", [True, False], ids=["file payload", "plain path"])
async def test_files_on_the_server_cannot_be_named_as_source(
    async_client: AsyncMiladyClient, tmp_path: Path, server: LocalServer, as_dict: bool
) -> None:
    generate, validate, _ = _event_functions(async_client)
    private = tmp_path / "private.png"
    Image.new("RGB", (32, 32), (1, 2, 3)).save(private)
    payload: Any = {"path": str(private)} if as_dict else str(private)
    before = server.stats.generate_requests

    invalid = _invalid(validate(*_args(prompt="a fox", source_image=payload)))
    with pytest.raises(gr.Error, match="upload the image"):
        await generate(*_args(prompt="a fox", source_image=payload), progress=Progress())

    assert list(invalid) == ["source_image"] and "upload the image" in invalid["source_image"]
    assert server.stats.generate_requests == before


def test_the_validator_sends_nothing(async_client: AsyncMiladyClient, server: LocalServer) -> None:
    _, validate, _ = _event_functions(async_client)
    before = server.stats.total_requests

    validate(*_args(prompt="a fox"))
    validate(*_args(prompt=""))

    assert server.stats.total_requests == before


# ---------------------------------------------------------------- generation


async def test_generates_the_images_as_files_gradio_serves(
    async_client: AsyncMiladyClient, server: LocalServer
) -> None:
    generate, _, gallery = _event_functions(async_client)
    progress = Progress()

    paths, _text = await generate(
        *_args(prompt="a lighthouse", style_preset="origami", num_images=3, aspect_ratio="16:9"),
        progress=progress,
    )

    assert len(paths) == 3
    assert len(set(paths)) == 3  # three different pictures
    for path in paths:
        assert Path(path).is_relative_to(gallery.GRADIO_CACHE)
        with Image.open(path) as image:
            assert image.size == IMAGE_SIZES["16:9"]
    assert "in an origami paper-folding style" in server.requests[0]["enhancedPrompt"]


async def test_the_progress_bar_moves_forward_and_finishes(
    async_client: AsyncMiladyClient, server: LocalServer
) -> None:
    generate, _, _ = _event_functions(async_client)
    progress = Progress()
    server.faults.update(latency=1.2)

    await generate(*_args(prompt="a lighthouse", num_images=2), progress=progress)

    fractions = [fraction for fraction, _ in progress.updates if fraction is not None]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert len(fractions) >= 4  # it moved while the service was still working
    assert any("Generating 2 images" in (desc or "") for _, desc in progress.updates)


async def test_images_the_service_sent_inline_are_shown_too(
    async_client: AsyncMiladyClient, server: LocalServer
) -> None:
    generate, _, _ = _event_functions(async_client)
    server.faults.update(storage_failure=True)  # items carry data URLs, no permanent URL

    paths, _ = await generate(*_args(prompt="a fox", num_images=2), progress=Progress())

    assert len(paths) == 2
    for path in paths:
        with Image.open(path) as image:
            image.verify()


async def test_a_source_image_makes_it_image_to_image(async_client: AsyncMiladyClient, server: LocalServer) -> None:
    generate, _, _ = _event_functions(async_client)
    source = _uploaded("sketch.png")
    Image.new("RGB", (64, 48), (200, 40, 40)).save(source)

    paths, _ = await generate(*_args(prompt="make it blue", source_image={"path": str(source)}), progress=Progress())

    assert len(paths) == 1
    assert server.requests[0]["enhancedPrompt"].startswith("Using the provided image as a reference")


async def test_a_partial_result_warns_how_many_came_back(
    async_client: AsyncMiladyClient, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate, _, _ = _event_functions(async_client)
    warnings: list[str] = []
    monkeypatch.setattr(gr, "Warning", lambda message, *a, **k: warnings.append(message))
    server.faults.update(fail_images=1)

    paths, _ = await generate(*_args(prompt="a fox", num_images=3), progress=Progress())

    assert len(paths) == 2
    assert warnings and "Asked for 3 images" in warnings[0] and "returned 2" in warnings[0]


async def test_a_service_error_reaches_the_page_with_its_whole_text(
    async_client: AsyncMiladyClient, server: LocalServer
) -> None:
    generate, _, _ = _event_functions(async_client)
    server.faults.force_status(402)

    with pytest.raises(gr.Error) as shown:
        await generate(*_args(prompt="a fox"), progress=Progress())

    assert shown.value.title == "Insufficient credits"
    assert shown.value.message.startswith("Insufficient credits")
    assert "Add credits to your account" in shown.value.message


async def test_a_missing_key_is_reported_before_anything_is_sent(server: LocalServer) -> None:
    async with AsyncMiladyClient(api_key=None, base_url=server.base_url) as keyless:
        generate, _, _ = _event_functions(keyless)
        before = server.stats.generate_requests

        with pytest.raises(gr.Error) as shown:
            await generate(*_args(prompt="a fox"), progress=Progress())

    assert shown.value.title == "Authentication"
    assert "MILADY_API_KEY" in shown.value.message
    assert server.stats.generate_requests == before


async def test_cancelling_stops_the_request() -> None:
    # A server of its own: the abandoned request finishes there later and must not
    # show up in another test's counters.
    async with (
        LocalServer(ServerConfig(faults=Faults(latency=30))) as server,
        AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url) as client,
    ):
        generate, _, _ = _event_functions(client)
        task = asyncio.create_task(generate(*_args(prompt="a slow fox"), progress=Progress()))
        # The server's counters offer no event to wait on: poll until the request is there.
        while server.stats.generate_requests == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        task.cancel()

        with pytest.raises(asyncio.CancelledError):
            await task
        server.faults.clear()  # the next press of Generate works at once, on the same client
        paths, _ = await generate(*_args(prompt="a quick fox"), progress=Progress())
        assert len(paths) == 1
