"""The shared schema: choices, limits and the request checks every face relies on."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image

from milady_integrations import (
    ASPECT_RATIOS,
    MODELS,
    STYLE_PRESETS,
    GenerateImageRequest,
    InvalidRequestError,
    MiladyClient,
    MiladyWarning,
)
from milady_integrations.schema import (
    ASPECT_RATIO_DESCRIPTIONS,
    MODEL_INFO,
    STYLE_PRESET_DESCRIPTIONS,
    parse_generation_body,
)


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_choices_match_the_service_documentation() -> None:
    assert ASPECT_RATIOS == ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
    assert len(STYLE_PRESETS) == 13 and STYLE_PRESETS[0] == "none"
    assert "openai/gpt-image-2" in MODELS and "openai/gpt-5-nano" not in MODELS
    assert set(ASPECT_RATIO_DESCRIPTIONS) == set(ASPECT_RATIOS)
    assert set(STYLE_PRESET_DESCRIPTIONS) == set(STYLE_PRESETS)
    assert set(MODEL_INFO) == set(MODELS)


def test_defaults_and_wire_names() -> None:
    body = GenerateImageRequest.create("a fox").to_wire()
    assert body == {
        "prompt": "a fox",
        "model": "google/gemini-2.5-flash-image",
        "aspectRatio": "1:1",
        "numImages": 1,
        "stylePreset": "none",
    }


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"prompt": ""}, "prompt", "1 to 4000"),
        ({"prompt": " \n\t "}, "prompt", "not only spaces"),
        ({"prompt": "x" * 4001}, "prompt", "4001 characters"),
        ({"prompt": 42}, "prompt", "must be a string"),
        ({"num_images": 0}, "num_images", "from 1 to 4"),
        ({"num_images": 5}, "num_images", "from 1 to 4"),
        ({"num_images": True}, "num_images", "from 1 to 4"),
        ({"num_images": "2"}, "num_images", "'2'"),
        ({"num_images": 2.5}, "num_images", "2.5"),
        ({"aspect_ratio": "2:1"}, "aspect_ratio", "16:9"),
        ({"style_preset": "watercolor"}, "style_preset", "neon-punk"),
        ({"model": "acme/imagine"}, "model", "google/gemini-2.5-flash-image"),
        ({"source_image": "data:image/png;base64,@@@"}, "source_image", "base64"),
        ({"source_image": "data:text/plain;base64,aGVsbG8="}, "source_image", "text/plain"),
        ({"source_image": b"not an image"}, "source_image", "not an image"),
        ({"source_image": "https://example.com/cat.png"}, "source_image", "web URL"),
        ({"source_image": 3.5}, "source_image", "unsupported type"),
    ],
)
def test_bad_input_names_field_value_and_allowed_range(kwargs: dict, field: str, words: str) -> None:
    arguments = {"prompt": "a fox", **kwargs}
    prompt = arguments.pop("prompt")
    with pytest.raises(InvalidRequestError) as caught:
        GenerateImageRequest.create(prompt, **arguments)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert words in str(caught.value)
    assert caught.value.allowed


def test_prompt_length_counts_like_the_service() -> None:
    # The service counts UTF-16 units: 2000 emoji are 4000, 2001 are too many.
    assert GenerateImageRequest.create("🦊" * 2000).prompt
    with pytest.raises(InvalidRequestError, match="4002 characters"):
        GenerateImageRequest.create("🦊" * 2001)
    with pytest.raises(InvalidRequestError, match="empty"):
        GenerateImageRequest.create("\ufeff \u3000")


def test_exactly_4000_characters_and_unicode_are_accepted() -> None:
    assert len(GenerateImageRequest.create("é" * 4000).prompt) == 4000
    assert GenerateImageRequest.create("🦊 in snow, 雪").prompt == "🦊 in snow, 雪"


def test_unlisted_model_needs_explicit_opt_in() -> None:
    request = GenerateImageRequest.create("a fox", model="acme/new-model", allow_unlisted_model=True)
    assert request.to_wire()["model"] == "acme/new-model"


def test_retired_model_warns_that_the_service_swaps_it() -> None:
    request = GenerateImageRequest.create("a fox", model="openai/gpt-5-nano")
    assert "gemini-2.5" in request.notes[0]  # as data, for faces to word
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MiladyClient(api_key="a-test-key").build_request("a fox", model="openai/gpt-5-nano")
    assert any(issubclass(w.category, MiladyWarning) and "gemini-2.5" in str(w.message) for w in caught)


def test_source_image_from_bytes_path_and_pil(tmp_path) -> None:
    data = png_bytes()
    path = tmp_path / "in.png"
    path.write_bytes(data)
    for source in (data, path, str(path), Image.open(io.BytesIO(data))):
        url = GenerateImageRequest.create("x", source_image=source).source_image
        assert url is not None and url.startswith("data:image/png;base64,")


def test_mislabelled_source_is_relabelled_from_its_bytes() -> None:
    import base64

    url = "data:image/jpeg;base64," + base64.b64encode(png_bytes()).decode()
    assert GenerateImageRequest.create("x", source_image=url).source_image.startswith("data:image/png")


def test_too_large_source_is_refused_or_downscaled() -> None:
    import os

    from milady_integrations.images import to_source_data_url

    noisy = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    with pytest.raises(InvalidRequestError, match="the most allowed is 20,000"):
        to_source_data_url(noisy, max_chars=20_000)
    url = to_source_data_url(noisy, max_chars=20_000, downscale=True)
    assert len(url) <= 20_000
    assert Image.open(io.BytesIO(__import__("base64").b64decode(url.split(",", 1)[1]))).width < 300


def test_repr_does_not_dump_megabytes_of_base64() -> None:
    request = GenerateImageRequest.create("x", source_image=png_bytes((400, 400)))
    assert len(repr(request)) < 300


def test_both_response_shapes_parse() -> None:
    standard = parse_generation_body(
        {
            "images": [{"url": "https://x/a.webp", "text": "t", "mimeType": "image/webp", "fileSize": 10}],
            "numImages": 1,
        },
        requested=2,
    )
    assert standard.returned == 1 and standard.partial and standard.urls == ["https://x/a.webp"]
    variant = parse_generation_body(
        {"success": True, "model": "m/x", "images": [{"image": "QUJD", "url": "", "text": ""}], "cost": 0.04},
        requested=1,
    )
    assert variant.model == "m/x" and variant.cost == 0.04
    assert variant.images[0].data_url == "data:image/png;base64,QUJD"
    assert not variant.partial
