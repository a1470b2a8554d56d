"""The block's components: choices from the schema, two blocks side by side, host wiring."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pytest

from gradio_app import MiladyImageBlock, milady_image_block
from milady_integrations import AsyncMiladyClient
from milady_integrations.schema import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    FIELD_DESCRIPTIONS,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    STYLE_PRESET_DESCRIPTIONS,
    STYLE_PRESETS,
)


def _offline_client() -> AsyncMiladyClient:
    # Nothing is sent in these tests; the port is never contacted.
    return AsyncMiladyClient(api_key="unused", base_url="http://127.0.0.1:9")


def _values(dropdown: gr.Dropdown) -> list[Any]:
    return [value for _, value in dropdown.choices]


def _config_components(demo: gr.Blocks) -> list[dict[str, Any]]:
    return list(demo.get_config_file()["components"])


@pytest.fixture
def one_block() -> tuple[gr.Blocks, MiladyImageBlock]:
    with gr.Blocks() as demo:
        block = milady_image_block(_offline_client())
    return demo, block


def test_choices_and_defaults_come_from_the_schema(one_block: tuple[gr.Blocks, MiladyImageBlock]) -> None:
    _, block = one_block

    assert _values(block.model) == list(MODELS)
    assert _values(block.aspect_ratio) == list(ASPECT_RATIOS)
    assert _values(block.style_preset) == list(STYLE_PRESETS)
    assert block.model.value == DEFAULT_MODEL
    assert block.aspect_ratio.value == DEFAULT_ASPECT_RATIO
    assert block.style_preset.value == DEFAULT_STYLE_PRESET
    assert (block.num_images.minimum, block.num_images.maximum) == (NUM_IMAGES_MIN, NUM_IMAGES_MAX)
    assert block.num_images.value == DEFAULT_NUM_IMAGES


def test_labels_explain_each_choice_with_the_schema_text(one_block: tuple[gr.Blocks, MiladyImageBlock]) -> None:
    _, block = one_block
    labels = dict((value, text) for text, value in block.style_preset.choices)

    for preset, description in STYLE_PRESET_DESCRIPTIONS.items():
        assert description in labels[preset]
    assert block.prompt.info == FIELD_DESCRIPTIONS["prompt"]
    assert block.num_images.info == FIELD_DESCRIPTIONS["num_images"]


def test_the_block_offers_example_prompts(one_block: tuple[gr.Blocks, MiladyImageBlock]) -> None:
    demo, _ = one_block
    datasets = [c for c in _config_components(demo) if c["type"] == "dataset"]

    assert len(datasets) == 1
    assert len(datasets[0]["props"]["samples"]) >= 3


def test_generate_is_a_stable_public_api_route(one_block: tuple[gr.Blocks, MiladyImageBlock]) -> None:
    demo, block = one_block
    public = [fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"]

    assert block.api_name == "generate"
    assert public == ["generate"]  # examples and Stop add no routes of their own


def test_two_blocks_in_one_app_get_their_own_ids_and_routes() -> None:
    with gr.Blocks() as demo:
        first = milady_image_block(_offline_client())
        second = milady_image_block(_offline_client())

    assert (first.api_name, second.api_name) == ("generate", "generate_1")
    ids = [c["props"].get("elem_id") for c in _config_components(demo) if c["props"].get("elem_id")]
    assert len(ids) == len(set(ids))
    assert "milady-generate-prompt" in ids and "milady-generate_1-prompt" in ids
    # Built in place, not rendered from another Blocks: each component exists exactly once.
    galleries = [c for c in _config_components(demo) if c["type"] == "gallery"]
    assert len(galleries) == 2


def test_a_name_chooses_the_route() -> None:
    with gr.Blocks():
        block = milady_image_block(_offline_client(), name="draw")

    assert block.api_name == "draw"
    assert block.prompt.elem_id == "milady-draw-prompt"


def test_the_host_can_wire_its_own_events_to_the_components() -> None:
    with gr.Blocks() as demo:
        block = milady_image_block(_offline_client())
        count = gr.Number(label="Images shown")
        block.gallery.change(lambda images: len(images or []), block.gallery, count)
        block.event.then(lambda: None)

    targets = {fn.name for fn in demo.fns.values()}
    assert "<lambda>" in targets
    assert [c.label for c in block.inputs] == [
        "Prompt",
        "Model",
        "Aspect ratio",
        "Style preset",
        "Number of images",
        "Source image",
    ]


def test_outside_a_blocks_it_says_where_to_call_it() -> None:
    with pytest.raises(RuntimeError, match=r"inside `with gr.Blocks\(\):`"):
        milady_image_block(_offline_client())
