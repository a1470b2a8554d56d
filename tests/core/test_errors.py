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
    RateLimitError,
    ServiceUnavailableError,
    error_from_response,
)

RATE_BODY = {
    "success": False,
    "error": "Too many requests",
    "code": "rate_limit_exceeded",
    "message": "Rate limit exceeded. Maximum 60 requests per 60 seconds.",
    "retryAfter": 17,
}

CASES = [
    (400, {}, {"error": "Prompt is required and must be a non-empty string"}, InvalidRequestError,
     "Prompt is required"),
    (400, {}, {"error": "numImages must be an integer between 1 and 4"}, InvalidRequestError, "numImages"),
    (400, {}, {"success": False, "error": "Invalid model", "code": "invalid_model",
               "supportedModels": ["a/b"]}, InvalidRequestError, "a/b"),
    (401, {}, {"error": "Authentication required. Provide a valid session or API key."},
     AuthenticationError, "Authentication required"),
    (403, {}, b"", AuthenticationError, "did not accept"),
    (402, {}, {"error": "Insufficient credits for image generation", "required": 0.02},
     InsufficientCreditsError, "Insufficient credits: 0.02 required. Add credits to your account."),
    (402, {}, {"error": "Insufficient credits for image generation", "required": "0.08"},
     InsufficientCreditsError, "0.08 required"),
    (429, {"Retry-After": "12"}, RATE_BODY, RateLimitError, "retry in 12 s"),
    (429, {}, RATE_BODY, RateLimitError, "retry in 17 s"),
    (429, {}, b"", RateLimitError, "Rate limited"),
    (500, {}, {"error": "No images were generated"}, GenerationFailedError,
     "No images were generated. Retry, or try a different model."),
    (500, {}, b"Unexpected token } in JSON", GenerationFailedError, "Unexpected token"),
    (503, {}, {"error": "Image generation service is not configured"}, ServiceUnavailableError,
     "not configured"),
    (502, {}, b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
     ServiceUnavailableError, "502 Bad Gateway"),
    (504, {}, b"", ServiceUnavailableError, "HTTP 504"),
    (418, {}, {"error": "I'm a teapot"}, MiladyAPIError, "teapot"),
]


@pytest.mark.parametrize(("status", "headers", "body", "cls", "text"), CASES)
def test_status_body_and_headers_map_to_one_class_and_a_readable_line(status, headers, body, cls, text):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    error = error_from_response(status, httpx.Headers(headers), raw, request_id="req_1")
    assert type(error) is cls
    assert error.status_code == status
    assert text in str(error)
    assert str(error).endswith("(request id req_1)")
    assert "\n" not in str(error)


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
    error = error_from_response(401, httpx.Headers(), f'{{"error": "bad key {key}"}}'.encode()).redacted(key)
    assert key not in str(error) and key not in repr(error) and key not in str(error.args)


def test_redaction_leaves_words_alone_for_a_too_short_key():
    error = error_from_response(503, httpx.Headers(), b"").redacted("e")
    assert "unavailable" in str(error)
