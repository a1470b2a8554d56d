"""One failure reads the same in the client and in all three faces.

Each row is an answer the service (or a proxy in front of it) really gives, or a
failure on the way; the core maps it once, and each face's single translation
function must show exactly that line.
"""

from __future__ import annotations

import json

import httpx
import pytest

from comfyui_nodes.errors import to_comfy_error
from gradio_app import to_gradio_error
from langchain_tool import to_tool_exception
from milady_integrations import (
    AuthenticationError,
    MiladyConnectionError,
    MiladyError,
    MiladyTimeoutError,
    error_from_response,
)
from milady_integrations.schema import GenerateImageRequest

ANSWERS = [
    (400, {"error": "Prompt must be 4000 characters or fewer"}),
    (401, {"error": "Authentication required. Provide a valid session or API key."}),
    (402, {"error": "Insufficient credits for image generation", "required": 0.08}),
    (
        429,
        {
            "success": False,
            "error": "Too many requests",
            "code": "rate_limit_exceeded",
            "message": "Rate limit exceeded. Maximum 60 requests per 60 seconds.",
            "retryAfter": 42,
        },
    ),
    (500, {"error": "No images were generated"}),
    (503, {"error": "Image generation service is not configured"}),
    (502, "<html><title>502 Bad Gateway</title></html>"),
    (500, {"error": "Pricing unavailable for image:generation google/x"}),
]


def _service_errors() -> list[MiladyError]:
    errors = [
        error_from_response(
            status,
            httpx.Headers({"x-request-id": f"req_{status}"}),
            body.encode() if isinstance(body, str) else json.dumps(body).encode(),
            request_id=f"req_{status}",
        )
        for status, body in ANSWERS
    ]
    errors.append(MiladyTimeoutError("No answer from cloud.milady.ai within 200 s after the request was sent"))
    errors.append(MiladyConnectionError("Could not connect to cloud.milady.ai:443: refused"))
    errors.append(AuthenticationError("No API key: set the MILADY_API_KEY environment variable or pass api_key=..."))
    try:
        GenerateImageRequest.create("a fox", num_images=7)
    except MiladyError as bad_input:
        errors.append(bad_input)
    return errors


@pytest.mark.parametrize("error", _service_errors(), ids=lambda e: type(e).__name__ + str(e.status_code or ""))
def test_every_face_shows_the_shared_line(error: MiladyError) -> None:
    shared = str(error)
    assert shared and "\n" not in shared
    assert str(to_comfy_error(error)) == shared
    assert str(to_tool_exception(error)) == shared
    assert to_gradio_error(error).message == shared


def test_the_lines_a_person_acts_on() -> None:
    texts = {type(e).__name__ + str(e.status_code or ""): str(e) for e in _service_errors()}
    assert texts["InsufficientCreditsError402"].startswith(
        "Insufficient credits: 0.08 required. Add credits to your account."
    )
    assert texts["RateLimitError429"].startswith("Rate limited: retry in 42 s")
    assert "Retry, or try a different model" in texts["GenerationFailedError500"]
    assert "502 Bad Gateway" in texts["OutcomeUnknownError502"]
    assert "may have been charged. Check your gallery" in texts["OutcomeUnknownError502"]
    assert "nothing was charged" in texts["ServiceUnavailableError503"]
    assert "num_images=7" in texts["InvalidRequestError"] and "1 to 4" in texts["InvalidRequestError"]


def test_every_face_offers_exactly_the_schema_choices_and_limits() -> None:
    import gradio as gr

    from comfyui_nodes.nodes import MiladyGenerateImage
    from gradio_app import milady_image_block
    from langchain_tool import MiladyImageGenerationTool
    from milady_integrations import MiladyClient
    from milady_integrations.schema import ASPECT_RATIOS, MODELS, NUM_IMAGES_MAX, NUM_IMAGES_MIN, STYLE_PRESETS

    expected = {"model": list(MODELS), "aspect_ratio": list(ASPECT_RATIOS), "style_preset": list(STYLE_PRESETS)}

    node = MiladyGenerateImage.INPUT_TYPES()["required"]
    # The node adds one choice of its own, resolved to one of the service's before sending.
    assert node["aspect_ratio"][0] == [*expected["aspect_ratio"], "match source"]
    assert {name: node[name][0] for name in expected if name != "aspect_ratio"} == {
        k: v for k, v in expected.items() if k != "aspect_ratio"
    }
    assert (node["num_images"][1]["min"], node["num_images"][1]["max"]) == (NUM_IMAGES_MIN, NUM_IMAGES_MAX)

    tool = MiladyImageGenerationTool(api_key="unused")
    properties = tool.tool_call_schema.model_json_schema()["properties"]
    assert {name: properties[name]["enum"] for name in expected} == expected
    limits = (properties["num_images"]["minimum"], properties["num_images"]["maximum"])
    assert limits == (NUM_IMAGES_MIN, NUM_IMAGES_MAX)

    with gr.Blocks():
        block = milady_image_block(MiladyClient(api_key="unused", base_url="http://127.0.0.1:9"))
    for name, values in expected.items():
        dropdown = getattr(block, name)
        assert [choice[1] for choice in dropdown.choices] == values
    assert (block.num_images.minimum, block.num_images.maximum) == (NUM_IMAGES_MIN, NUM_IMAGES_MAX)


def test_every_face_offers_exactly_the_fields_the_core_declares() -> None:
    """One declaration (``request.FIELDS``): each face's inputs are its fields, no more, no fewer."""
    import inspect

    import gradio as gr

    from comfyui_nodes.nodes import MiladyGenerateImage
    from gradio_app import milady_image_block
    from langchain_tool import MiladyImageGenerationTool
    from milady_integrations import MiladyClient
    from milady_integrations.batch import LINE_FIELDS
    from milady_integrations.cli import build_parser
    from milady_integrations.request import FIELDS, GenerateOptions

    fields = list(FIELDS)
    node = MiladyGenerateImage.INPUT_TYPES()
    node_inputs = [*node["required"], *node["optional"]]
    assert [name for name in node_inputs if name in FIELDS] == fields
    assert set(node_inputs) - set(FIELDS) <= {"seed", "account"}  # the node's own: re-run and account choice

    tool = MiladyImageGenerationTool(api_key="unused")
    assert list(tool.tool_call_schema.model_json_schema()["properties"]) == fields

    with gr.Blocks():
        block = milady_image_block(MiladyClient(api_key="unused", base_url="http://127.0.0.1:9"))
    prefix = f"milady-{block.api_name}-"
    assert [str(component.elem_id).removeprefix(prefix) for component in block.inputs][: len(fields)] == fields

    generate = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "generate")[1]
    assert {a.dest for a in generate._actions} >= set(FIELDS)
    assert list(LINE_FIELDS) == [*fields, "id"]
    assert set(GenerateOptions.__optional_keys__) >= set(FIELDS) - {"prompt"}
    assert list(inspect.signature(MiladyClient.generate_image).parameters)[1] == "prompt"
