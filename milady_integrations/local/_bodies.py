"""The service's exact words: request checks in its order, JavaScript's JSON errors, every error body.

Checks follow the service's JavaScript, not its documentation: JSON has one number
type (``2.0`` is an integer), lengths count UTF-16 code units, and ``aspectRatio`` /
``stylePreset`` are not checked (unknown values put "undefined" into the prompt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from ..schema import (
    DEFAULT_MODEL,
    JS_WHITESPACE,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    SOURCE_IMAGE_MAX_CHARS,
    service_length,
)
from ._prompt import UNDEFINED, enhanced_prompt

PROMPT_REQUIRED = "Prompt is required and must be a non-empty string"
PROMPT_TOO_LONG = f"Prompt must be {PROMPT_MAX_CHARS} characters or fewer"
NUM_IMAGES_INVALID = f"numImages must be an integer between {NUM_IMAGES_MIN} and {NUM_IMAGES_MAX}"
SOURCE_NOT_STRING = "sourceImage must be a base64 data URL string"
SOURCE_TOO_LARGE = "sourceImage exceeds maximum allowed size"
AUTH_REQUIRED = "Authentication required. Provide a valid session or API key."
INSUFFICIENT_CREDITS = "Insufficient credits for image generation"
NO_IMAGES = "No images were generated"
NOT_CONFIGURED = "Image generation service is not configured"
VARIANT_UNAVAILABLE = "Image generation is temporarily unavailable. Please try again shortly."
#: The balance route's own auth helper.
KEY_INVALID = {"success": False, "error": "Invalid or expired API key", "code": "authentication_required"}
KEY_INACTIVE = {"success": False, "error": "API key is inactive", "code": "access_denied"}


def dumps(data: object) -> bytes:
    """JSON as ``JSON.stringify`` writes it: compact, whole numbers without ``.0``."""

    def js(value: object) -> object:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, dict):
            return {k: js(v) for k, v in value.items()}
        return [js(v) for v in value] if isinstance(value, list) else value

    return json.dumps(js(data), separators=(",", ":"), ensure_ascii=False).encode()


def _context(text: str, pos: int) -> str:
    """V8's quote of the text around an error: all of it when short, else 10 characters each side."""
    if len(text) < 21:
        return f'"{text}"'
    start, end = max(0, pos - 10), min(len(text), pos + 10)
    return ("..." if start else "") + f'"{text[start:end]}"' + ("..." if end < len(text) else "")


def parse_json(raw: bytes) -> object:
    """``await request.json()``: raises ValueError with V8's message (the service answers it as a 500)."""
    text = raw.decode("utf-8", "replace")

    def constant(name: str) -> Any:
        raise ValueError(f"Unexpected token '{name[0]}', {_context(text, text.find(name))} is not valid JSON")

    try:
        return json.loads(text, parse_constant=constant)
    except RecursionError:
        raise ValueError("Maximum call stack size exceeded") from None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip(" \t\n\r")):
            raise ValueError("Unexpected end of JSON input") from None
        words = next((v for k, v in _V8.items() if exc.msg.startswith(k)), None)
        token = f"Unexpected token '{text[exc.pos]}', {_context(text, exc.pos)} is not valid JSON"
        raise ValueError(f"{words} at position {exc.pos}" if words else token) from None


#: Python's JSON errors in V8's words.
_V8 = {
    "Extra data": "Unexpected non-whitespace character after JSON",
    "Expecting property name": "Expected property name or '}' in JSON",
    "Unterminated string": "Unterminated string in JSON",
    "Invalid control character": "Bad control character in string literal in JSON",
    "Expecting ',' delimiter": "Expected ',' or '}' after property value in JSON",
}


class Refused(Exception):
    """A request refused with ``status`` and the service's JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error"))
        self.status, self.body = status, body


@dataclass(frozen=True)
class GenerateCall:
    """A checked generate body and what the service derives from it."""

    prompt: str
    num_images: int
    model: str  #: the model that runs: unknown names become the default, as on the service
    style_preset: str  #: raw preset and ratio, unknown values kept (they pick motif and size)
    aspect_ratio: str
    source_image: str | None
    enhanced: str  #: the prompt as the service sends it to the model


def _whole(value: object) -> bool:
    return not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, float) and value.is_integer()))


def validate_generate(body: object, *, variant: bool = False) -> GenerateCall:
    """Check a parsed body in the service's order; ``variant``: the other deployed variant's answers."""
    if body is None and not variant:  # destructuring null throws; the outer catch answers it
        raise Refused(500, {"error": "Cannot destructure property 'prompt' of 'requestBody' as it is null."})
    fields: dict[str, Any] = body if isinstance(body, dict) else {}
    prompt, num, source = fields.get("prompt"), fields.get("numImages", 1), fields.get("sourceImage")
    issues: list[tuple[str, str]] = []
    if not isinstance(prompt, str) or not prompt.strip(JS_WHITESPACE):
        issues.append(("prompt", PROMPT_REQUIRED))
    elif service_length(prompt) > PROMPT_MAX_CHARS:
        issues.append(("prompt", PROMPT_TOO_LONG))
    if not _whole(num) or not NUM_IMAGES_MIN <= num <= NUM_IMAGES_MAX:
        issues.append(("numImages", NUM_IMAGES_INVALID))
    if "sourceImage" in fields and not isinstance(source, str):
        issues.append(("sourceImage", SOURCE_NOT_STRING))
    elif isinstance(source, str) and service_length(source) > SOURCE_IMAGE_MAX_CHARS:
        issues.append(("sourceImage", SOURCE_TOO_LARGE))
    if issues and variant:
        details = {"issues": [{"path": [f], "message": m} for f, m in issues]}
        raise Refused(400, {"success": False, "error": "Validation failed", "code": "validation_error",
                            "details": details})
    if issues:
        raise Refused(400, {"error": issues[0][1]})
    model = fields.get("model", DEFAULT_MODEL)
    if variant and model not in MODELS:
        raise Refused(400, {"success": False, "error": f"Unsupported image model: {model}",
                            "code": "validation_error", "details": {"supportedModels": list(MODELS)}})
    preset, ratio = fields.get("stylePreset"), fields.get("aspectRatio", "1:1")
    assert isinstance(prompt, str)
    return GenerateCall(
        prompt=prompt,
        num_images=int(num),
        model=model if model in MODELS else DEFAULT_MODEL,
        style_preset="none" if not preset else preset if isinstance(preset, str) else UNDEFINED,
        aspect_ratio=ratio if isinstance(ratio, str) else UNDEFINED,
        source_image=source or None,  # an empty string is no source, as in the service
        enhanced=enhanced_prompt(prompt, preset, ratio, image_to_image=bool(source)),
    )


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def proxy_page(status: int) -> bytes:
    """What nginx in front of the service answers when the origin fails or is slow."""
    title = f"{status} {phrase(status)}"
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n").encode()


def rate_limited(limit: int, window: float, retry_after: int | None) -> dict[str, Any]:
    return {"success": False, "error": "Too many requests", "code": "rate_limit_exceeded",
            "message": f"Rate limit exceeded. Maximum {limit} requests per {round(window)} seconds.",
            **({} if retry_after is None else {"retryAfter": retry_after})}


def error_body(status: int, *, required: float, variant: bool, message: str | None = None) -> dict[str, Any]:
    """The service's JSON body for an error status (forced answers and real ones)."""
    if status == 402:
        return ({"success": False, "error": "Insufficient credits", "required": required} if variant
                else {"error": message or INSUFFICIENT_CREDITS, "required": required})
    if variant and status == 400:
        return {"success": False, "error": message or "Validation failed", "code": "validation_error"}
    if variant and status == 503:
        return {"success": False, "error": message or VARIANT_UNAVAILABLE, "code": "service_unavailable"}
    usual = {400: PROMPT_REQUIRED, 401: AUTH_REQUIRED, 500: NO_IMAGES, 503: NOT_CONFIGURED}
    return {"error": message or usual.get(status) or phrase(status)}
