"""THE status -> error table, for every body shape the service and its proxies send."""

from __future__ import annotations

import json

import httpx
import pytest

from milady_integrations import (
    AuthenticationError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidRequestError,
    MiladyAPIError,
    MiladyConnectionError,
    MiladyTimeoutError,
    OutcomeUnknownError,
    RateLimitError,
    ServiceUnavailableError,
    error_from_response,
)
from milady_integrations.errors import error_from_transport

RATE_BODY = {
    "success": False,
    "error": "Too many requests",
    "code": "rate_limit_exceeded",
    "message": "Rate limit exceeded. Maximum 60 requests per 60 seconds.",
    "retryAfter": 17,
}

CATCH_ALL = "the request may have been charged. Check your gallery before sending it again."
SUPPORTED = ["google/gemini-2.5-flash-image", "openai/gpt-image-2"]
ISSUES = [
    {"code": "too_small", "path": ["prompt"], "message": "String must contain at least 1 character(s)"},
    {"code": "too_big", "path": ["numImages"], "message": "Number must be less than or equal to 4"},
]

# status, headers, body, class, may_have_run, words the line must hold
CASES = [
    (400, {}, {"error": "Prompt is required and must be a non-empty string"}, InvalidRequestError, False,
     "Prompt is required"),
    (400, {}, {"error": "numImages must be an integer between 1 and 4"}, InvalidRequestError, False, "numImages"),
    (400, {}, {"success": False, "error": "Invalid model", "code": "invalid_model",
               "supportedModels": ["a/b"]}, InvalidRequestError, False, "a/b"),
    (400, {}, {"success": False, "error": "Unsupported image model: x/y", "code": "validation_error",
               "details": {"supportedModels": SUPPORTED}}, InvalidRequestError, False,
     "Unsupported image model: x/y. Use a supported model: google/gemini-2.5-flash-image, openai/gpt-image-2"),
    (400, {}, {"success": False, "error": "Validation failed", "code": "validation_error",
               "details": {"issues": ISSUES}}, InvalidRequestError, False,
     "Validation failed: prompt: String must contain at least 1 character(s); numImages: Number must be"),
    (401, {}, {"error": "Authentication required. Provide a valid session or API key."},
     AuthenticationError, False, "Authentication required"),
    (401, {}, {"success": False, "error": "Invalid or expired API key", "code": "authentication_required"},
     AuthenticationError, False, "Invalid or expired API key"),
    (401, {}, {"error": "Invalid API key for the image gateway"}, OutcomeUnknownError, True,
     "HTTP 401: Invalid API key for the image gateway. It failed inside the service (its own upstream key, "
     "not yours), so " + CATCH_ALL),
    (403, {}, b"", AuthenticationError, False, "did not accept"),
    (403, {}, {"success": False, "error": "API key is inactive", "code": "access_denied"},
     AuthenticationError, False, "API key is inactive"),
    (402, {}, {"error": "Insufficient credits for image generation", "required": 0.02},
     InsufficientCreditsError, False, "Insufficient credits: 0.02 required. Add credits to your account."),
    (402, {}, {"error": "Insufficient credits for image generation", "required": "0.08"},
     InsufficientCreditsError, False, "0.08 required"),
    (402, {}, {"success": False, "error": "Insufficient credits", "required": 0.048},
     InsufficientCreditsError, False, "Insufficient credits: 0.048 required"),
    (405, {}, b"", MiladyAPIError, False, "HTTP 405 (method not allowed)"),
    (429, {"Retry-After": "12"}, RATE_BODY, RateLimitError, False, "retry in 12 s"),
    (429, {}, RATE_BODY, RateLimitError, False, "retry in 17 s"),
    (429, {}, b"", RateLimitError, False, "Rate limited"),
    (500, {}, {"error": "No images were generated"}, GenerationFailedError, False,
     "No images were generated; nothing was charged. Retry, or try a different model."),
    (500, {}, {"error": "Pricing unavailable for image:generation x/y"}, OutcomeUnknownError, True,
     "HTTP 500: Pricing unavailable for image:generation x/y. It failed after it may have started the work, "
     "so " + CATCH_ALL),
    (500, {}, {"error": "Unexpected end of JSON input"}, OutcomeUnknownError, True, CATCH_ALL),
    (500, {}, b"Unexpected token } in JSON", OutcomeUnknownError, True, "Unexpected token"),
    (500, {}, b"", OutcomeUnknownError, True, "HTTP 500. It failed after it may have started the work"),
    (501, {}, {"error": "Not Implemented"}, OutcomeUnknownError, True, CATCH_ALL),
    (503, {}, {"error": "Image generation service is not configured"}, ServiceUnavailableError, False,
     "not configured; nothing was charged"),
    (503, {}, {"success": False, "error": "Image generation is temporarily unavailable. Please try again shortly.",
               "code": "service_unavailable"}, ServiceUnavailableError, False,
     "temporarily unavailable. Please try again shortly; nothing was charged"),
    (503, {}, b"<html><title>503 Service Unavailable</title></html>", OutcomeUnknownError, True, CATCH_ALL),
    (502, {}, b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
     OutcomeUnknownError, True, "HTTP 502: 502 Bad Gateway. It came from a gateway in front of the service; "
     "the request may still be running, so " + CATCH_ALL),
    (504, {}, b"", OutcomeUnknownError, True, "HTTP 504. It came from a gateway"),
    (524, {}, b"<title>A timeout occurred</title>", OutcomeUnknownError, True, "still be running"),
    (418, {}, {"error": "I'm a teapot"}, MiladyAPIError, False, "teapot"),
    (404, {}, {"success": False, "error": "Not found", "code": "not_found"}, MiladyAPIError, False,
     "HTTP 404): Not found (not_found)"),
]


@pytest.mark.parametrize(("status", "headers", "body", "cls", "may_have_run", "text"), CASES)
def test_status_body_and_headers_map_to_one_class_and_a_readable_line(status, headers, body, cls, may_have_run, text):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    error = error_from_response(status, httpx.Headers(headers), raw, request_id="req_1")
    assert type(error) is cls
    assert error.status_code == status
    assert error.may_have_run is may_have_run
    assert text in str(error)
    assert str(error).endswith("(request id req_1)")
    assert "\n" not in str(error)


def test_an_unknown_model_names_the_supported_ones_as_data():
    body = {"success": False, "error": "Unsupported image model: x/y", "code": "validation_error",
            "details": {"supportedModels": SUPPORTED}}
    error = error_from_response(400, httpx.Headers(), json.dumps(body).encode())
    assert isinstance(error, InvalidRequestError)
    assert (error.field, error.allowed) == ("model", SUPPORTED)


def test_body_checks_of_the_other_variant_name_the_first_field():
    body = {"success": False, "error": "Validation failed", "code": "validation_error", "details": {"issues": ISSUES}}
    error = error_from_response(400, httpx.Headers(), json.dumps(body).encode())
    assert isinstance(error, InvalidRequestError) and error.field == "prompt"


@pytest.mark.parametrize(
    ("exc", "cls", "may_have_run", "words"),
    [
        (httpx.ConnectError("refused"), MiladyConnectionError, False, "Could not connect to h:1: refused"),
        (httpx.ConnectTimeout("slow"), MiladyConnectionError, False, "Could not connect"),
        (httpx.PoolTimeout("busy"), MiladyConnectionError, False, "Could not connect"),
        (httpx.WriteError("reset"), MiladyConnectionError, False, "while sending the request"),
        (httpx.ReadTimeout("slow"), MiladyTimeoutError, True, "No answer from h:1 within 200 s"),
        (httpx.RemoteProtocolError("gone"), MiladyConnectionError, True, "may have been charged"),
        (httpx.ReadError("reset"), MiladyConnectionError, True, "Check your gallery"),
    ],
)
def test_transport_failures_say_whether_the_request_may_have_run(exc, cls, may_have_run, words):
    error = error_from_transport(exc, "h:1", read_timeout=200.0)
    assert type(error) is cls and error.may_have_run is may_have_run
    assert words in str(error)


def test_credits_error_carries_required_as_a_number():
    error = error_from_response(402, httpx.Headers(), b'{"required": 0.06}')
    assert isinstance(error, InsufficientCreditsError) and error.required == 0.06


def test_rate_limit_error_carries_the_rate_limit_headers():
    headers = httpx.Headers({
        "Retry-After": "30", "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "2026-11-25T16:00:00.000Z", "X-RateLimit-Policy": "60;w=60",
    })
    error = error_from_response(429, headers, json.dumps(RATE_BODY).encode())
    assert isinstance(error, RateLimitError)
    assert (error.retry_after, error.limit, error.remaining) == (30.0, 60, 0)
    assert error.reset == "2026-11-25T16:00:00.000Z" and error.policy == "60;w=60"


def test_retry_after_as_http_date():
    from datetime import datetime, timezone

    from milady_integrations.errors import parse_retry_after

    now = datetime(2026, 11, 25, 16, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Wed, 25 Nov 2026 16:00:09 GMT", now=now) == 9.0
    assert parse_retry_after("soon", now=now) is None


def test_400_names_the_field_from_the_service_message():
    error = error_from_response(400, httpx.Headers(), b'{"error": "sourceImage exceeds maximum allowed size"}')
    assert isinstance(error, InvalidRequestError) and error.field == "source_image"


def test_redaction_removes_a_key_from_every_text():
    key = "sk-live-123456"
    error = error_from_response(401, httpx.Headers(), f'{{"error": "bad API key {key}"}}'.encode()).redacted(key)
    assert key not in str(error) and key not in repr(error) and key not in str(error.args)


def test_redaction_leaves_words_alone_for_a_too_short_key():
    error = error_from_response(503, httpx.Headers(), b"").redacted("e")
    assert "service" in str(error)
