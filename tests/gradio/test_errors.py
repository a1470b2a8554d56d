"""The page shows the core's own text for every failure (``to_gradio_error``)."""

from __future__ import annotations

import gradio as gr
import httpx
import pytest

from gradio_app import to_gradio_error
from milady_integrations import (
    ImageDownloadError,
    InvalidRequestError,
    MiladyConnectionError,
    MiladyError,
    MiladyTimeoutError,
    error_from_response,
)


def _answer(status: int, body: bytes, **headers: str) -> MiladyError:
    return error_from_response(status, httpx.Headers(headers), body, request_id="req-7")


FAILURES = {
    "400 prompt": _answer(400, b'{"error": "Prompt is required"}'),
    "401": _answer(401, b'{"error": "Invalid API key"}'),
    "402": _answer(402, b'{"error": "Insufficient credits", "required": 0.12}'),
    "429": _answer(429, b'{"error": "Too many requests"}', **{"Retry-After": "17"}),
    "500": _answer(500, b'{"error": "Generation failed"}'),
    "502 proxy page": _answer(502, b"<html><title>Bad Gateway</title></html>"),
    "503": _answer(503, b'{"error": "Service unavailable"}'),
    "418 other": _answer(418, b'{"error": "teapot"}'),
    "bad input": InvalidRequestError("num_images=9 is not allowed", field="num_images", value=9, allowed="1..4"),
    "connection": MiladyConnectionError("Could not connect to 127.0.0.1:9"),
    "timeout": MiladyTimeoutError("No answer within 5 s"),
    "download": ImageDownloadError("Image URL answered 404"),
}


@pytest.mark.parametrize("error", FAILURES.values(), ids=FAILURES.keys())
def test_the_whole_shared_text_is_the_message(error: MiladyError) -> None:
    shown = to_gradio_error(error)

    assert isinstance(shown, gr.Error)
    assert shown.message == str(error)
    assert shown.title and shown.title != "Error"  # the kind of failure, from the class


def test_titles_name_the_kind_of_failure() -> None:
    assert to_gradio_error(FAILURES["402"]).title == "Insufficient credits"
    assert to_gradio_error(FAILURES["429"]).title == "Rate limit"
    assert to_gradio_error(FAILURES["bad input"]).title == "Invalid request"
    assert to_gradio_error(FAILURES["timeout"]).title == "Timeout"


def test_402_tells_how_many_credits_and_what_to_do() -> None:
    shown = to_gradio_error(FAILURES["402"])

    assert "0.12 required" in shown.message
    assert "Add credits" in shown.message
    assert "req-7" in shown.message


def test_errors_stay_until_closed() -> None:
    # A toast that vanishes after ten seconds loses "add credits" before anyone reads it.
    assert to_gradio_error(FAILURES["402"]).duration is None


def test_a_gradio_error_passes_through_unchanged() -> None:
    original = gr.Error("already for the page")

    assert to_gradio_error(original) is original
