"""What models are shown: the argument schema through the OpenAI and Anthropic converters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_anthropic.chat_models import convert_to_anthropic_tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_tool import MiladyCreditsTool, MiladyImageGenerationTool
from milady_integrations.schema import (
    ASPECT_RATIO_DESCRIPTIONS,
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_STYLE_PRESET,
    FIELD_DESCRIPTIONS,
    FIELDS,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    STYLE_PRESET_DESCRIPTIONS,
    STYLE_PRESETS,
)

OFFLINE = {"api_key": "k", "base_url": "http://127.0.0.1:9"}


def openai_parameters(tool: Any) -> dict[str, Any]:
    converted = convert_to_openai_tool(tool)
    assert converted["function"]["name"] == tool.name
    return dict(converted["function"]["parameters"])


def anthropic_parameters(tool: Any) -> dict[str, Any]:
    converted = dict(convert_to_anthropic_tool(tool))
    assert converted["name"] == tool.name
    return dict(converted["input_schema"])


CONVERTERS = [pytest.param(openai_parameters, id="openai"), pytest.param(anthropic_parameters, id="anthropic")]


@pytest.mark.parametrize("parameters", CONVERTERS)
def test_choices_and_limits_are_the_shared_schema(parameters: Any) -> None:
    schema = parameters(MiladyImageGenerationTool(**OFFLINE))
    props = schema["properties"]
    assert schema["required"] == ["prompt"]
    assert list(props) == list(FIELDS)
    assert tuple(props["style_preset"]["enum"]) == STYLE_PRESETS
    assert tuple(props["aspect_ratio"]["enum"]) == ASPECT_RATIOS
    assert tuple(props["model"]["enum"]) == MODELS
    assert (props["num_images"]["minimum"], props["num_images"]["maximum"]) == (NUM_IMAGES_MIN, NUM_IMAGES_MAX)
    assert props["num_images"]["type"] == "integer"
    assert (props["prompt"]["minLength"], props["prompt"]["maxLength"]) == (1, PROMPT_MAX_CHARS)
    # No maxLength: a source over the service's limit is shrunk, not refused.
    assert props["source_image"] == {"type": "string", "description": props["source_image"]["description"]}
    assert props["style_preset"]["default"] == DEFAULT_STYLE_PRESET
    assert props["aspect_ratio"]["default"] == DEFAULT_ASPECT_RATIO
    assert props["model"]["default"] == DEFAULT_MODEL


@pytest.mark.parametrize("parameters", CONVERTERS)
def test_schema_is_inline_without_references_or_unions(parameters: Any) -> None:
    text = json.dumps(parameters(MiladyImageGenerationTool(**OFFLINE)))
    for word in ("$ref", "$defs", "definitions", "anyOf", "allOf", "oneOf", '"null"'):
        assert word not in text


@pytest.mark.parametrize("parameters", CONVERTERS)
def test_descriptions_come_from_the_shared_schema(parameters: Any) -> None:
    props = parameters(MiladyImageGenerationTool(**OFFLINE))["properties"]
    for name in ("prompt", "style_preset", "aspect_ratio", "num_images"):
        assert props[name]["description"] == FIELD_DESCRIPTIONS[name]
    assert props["model"]["description"].startswith(FIELD_DESCRIPTIONS["model"])
    for model in MODELS:
        assert model in props["model"]["description"]
    assert "http(s) URL" in props["source_image"]["description"]


def test_tool_description_says_when_to_use_it_and_what_choices_do() -> None:
    description = MiladyImageGenerationTool(**OFFLINE).description
    assert "Use it whenever the user asks for a picture" in description
    for preset, meaning in STYLE_PRESET_DESCRIPTIONS.items():
        assert f"{preset} = {meaning.lower()}" in description
    for ratio, meaning in ASPECT_RATIO_DESCRIPTIONS.items():
        assert f"{ratio} = {meaning.lower()}" in description


@pytest.mark.parametrize("parameters", CONVERTERS)
def test_unlisted_models_open_the_model_argument(parameters: Any) -> None:
    props = parameters(MiladyImageGenerationTool(allow_unlisted_models=True, **OFFLINE))["properties"]
    assert "enum" not in props["model"]
    assert props["model"]["type"] == "string"
    assert tuple(props["style_preset"]["enum"]) == STYLE_PRESETS


def test_name_is_overridable_and_reaches_the_converters() -> None:
    tool = MiladyImageGenerationTool(name="draw", **OFFLINE)
    assert convert_to_openai_tool(tool)["function"]["name"] == "draw"
    assert convert_to_anthropic_tool(tool)["name"] == "draw"


@pytest.mark.parametrize("parameters", CONVERTERS)
def test_credits_tool_takes_no_arguments(parameters: Any) -> None:
    schema = parameters(MiladyCreditsTool(**OFFLINE))
    assert schema.get("properties", {}) == {}
    assert not schema.get("required")
