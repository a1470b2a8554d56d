"""The service's exact words: its prompt recipe, request checks in its order, JavaScript's JSON errors
and every error body. Checks follow the service's JavaScript, not its documentation: JSON has one number
type (``2.0`` is an integer), lengths count UTF-16 code units, and ``aspectRatio`` / ``stylePreset`` are
not checked (an unknown value is a missed lookup: ``undefined`` in the prompt)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.client import responses
from typing import Any

from ..catalogue import (
    DEFAULT_MODEL,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    SOURCE_IMAGE_MAX_CHARS,
)
from ..request import JS_WHITESPACE, service_length

#: The service's private prompt words (only the local server needs them; a client never builds this prompt).
STYLE_WORDS: dict[str, str] = {
    "none": "",
    "photographic": "in a photographic style with realistic lighting and details",
    "digital-art": "in a digital art style with vibrant colors and modern aesthetics",
    "comic-book": "in a comic book style with bold lines and dramatic shading",
    "fantasy-art": "in a fantasy art style with magical and ethereal elements",
    "analog-film": "in an analog film photography style with film grain and vintage tones",
    "neon-punk": "in a neon punk cyberpunk style with glowing neon colors",
    "isometric": "in an isometric perspective style with geometric precision",
    "low-poly": "in a low-poly 3D style with geometric facets",
    "origami": "in an origami paper-folding style",
    "line-art": "in a clean line art style with minimal shading",
    "cinematic": "in a cinematic style with dramatic lighting and composition",
    "3d-model": "as a high-quality 3D rendered model",
}
RATIO_WORDS: dict[str, str] = {
    "1:1": "square composition", "16:9": "wide landscape composition", "9:16": "tall portrait composition",
    "4:3": "landscape composition", "3:4": "portrait composition", "21:9": "ultra-wide cinematic composition",
    "9:21": "ultra-tall vertical composition",
}
UNDEFINED = "undefined"

PROMPT_REQUIRED = "Prompt is required and must be a non-empty string"
AUTH_REQUIRED = "Authentication required. Provide a valid session or API key."
INSUFFICIENT_CREDITS = "Insufficient credits for image generation"
NO_IMAGES = "No images were generated"
NOT_CONFIGURED = "Image generation service is not configured"
#: The balance route's own auth helper.
KEY_INVALID = {"success": False, "error": "Invalid or expired API key", "code": "authentication_required"}
KEY_INACTIVE = {"success": False, "error": "API key is inactive", "code": "access_denied"}


def enhanced_prompt(prompt: str, preset: object = None, ratio: object = "1:1", *, image_to_image: bool = False) -> str:
    """``Generate an image: <prompt> [style words], <ratio words>`` as the service builds it."""
    lead = "Using the provided image as a reference, generate a new image: " if image_to_image else (
        "Generate an image: ")
    style = STYLE_WORDS.get(preset, UNDEFINED) if isinstance(preset, str) else UNDEFINED
    words = RATIO_WORDS.get(ratio, UNDEFINED) if isinstance(ratio, str) else UNDEFINED
    return f"{lead}{prompt}{' ' + style if preset and preset != 'none' else ''}, {words}"


def dumps(data: object) -> bytes:
    """JSON as ``JSON.stringify`` writes it: compact, whole numbers without ``.0``."""

    def js(value: object) -> object:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, dict):
            return {k: js(v) for k, v in value.items()}
        return [js(v) for v in value] if isinstance(value, list) else value

    return json.dumps(js(data), separators=(",", ":"), ensure_ascii=False).encode()


#: Python's JSON errors in V8's words.
_V8 = {
    "Extra data": "Unexpected non-whitespace character after JSON",
    "Expecting property name": "Expected property name or '}' in JSON",
    "Unterminated string": "Unterminated string in JSON",
    "Invalid control character": "Bad control character in string literal in JSON",
    "Expecting ',' delimiter": "Expected ',' or '}' after property value in JSON",
}


def parse_json(raw: bytes) -> object:
    """``await request.json()``: raises ValueError with V8's message (the service answers it as a 500)."""
    text = raw.decode("utf-8", "replace")

    def token(pos: int) -> str:  # V8 quotes all the text when short, else 10 characters each side
        start, end = (0, len(text)) if len(text) < 21 else (max(0, pos - 10), min(len(text), pos + 10))
        quoted = ("..." if start else "") + f'"{text[start:end]}"' + ("..." if end < len(text) else "")
        return f"Unexpected token '{text[pos]}', {quoted} is not valid JSON"

    def constant(name: str) -> Any:
        raise ValueError(token(text.find(name)))

    try:
        return json.loads(text, parse_constant=constant)
    except RecursionError:
        raise ValueError("Maximum call stack size exceeded") from None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip(" \t\n\r")):
            raise ValueError("Unexpected end of JSON input") from None
        words = next((v for k, v in _V8.items() if exc.msg.startswith(k)), None)
        raise ValueError(f"{words} at position {exc.pos}" if words else token(exc.pos)) from None


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


def validate_generate(body: object, *, variant: bool = False) -> GenerateCall:
    """Check a parsed body in the service's order; ``variant``: the other deployed variant's answers."""
    if body is None and not variant:  # destructuring null throws; the outer catch answers it
        raise Refused(500, {"error": "Cannot destructure property 'prompt' of 'requestBody' as it is null."})
    fields: dict[str, Any] = body if isinstance(body, dict) else {}
    prompt, num, source = fields.get("prompt"), fields.get("numImages", 1), fields.get("sourceImage")
    whole = not isinstance(num, bool) and (isinstance(num, int) or (isinstance(num, float) and num.is_integer()))
    blank = not isinstance(prompt, str) or not prompt.strip(JS_WHITESPACE)
    prompt = prompt if isinstance(prompt, str) else ""
    issues = [(name, words) for name, bad, words in (
        ("prompt", blank, PROMPT_REQUIRED),
        ("prompt", not blank and service_length(prompt) > PROMPT_MAX_CHARS,
         f"Prompt must be {PROMPT_MAX_CHARS} characters or fewer"),
        ("numImages", not whole or not NUM_IMAGES_MIN <= num <= NUM_IMAGES_MAX,
         f"numImages must be an integer between {NUM_IMAGES_MIN} and {NUM_IMAGES_MAX}"),
        ("sourceImage", "sourceImage" in fields and not isinstance(source, str),
         "sourceImage must be a base64 data URL string"),
        ("sourceImage", isinstance(source, str) and service_length(source) > SOURCE_IMAGE_MAX_CHARS,
         "sourceImage exceeds maximum allowed size"),
    ) if bad]
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
    return GenerateCall(
        prompt=prompt,
        num_images=int(num),
        model=model if model in MODELS else DEFAULT_MODEL,
        style_preset="none" if not preset else preset if isinstance(preset, str) else UNDEFINED,
        aspect_ratio=ratio if isinstance(ratio, str) else UNDEFINED,
        source_image=source or None,  # an empty string is no source, as in the service
        enhanced=enhanced_prompt(prompt, preset, ratio, image_to_image=bool(source)),
    )


def proxy_page(status: int) -> bytes:
    """What nginx in front of the service answers when the origin fails or is slow."""
    title = f"{status} {responses.get(status, 'Error')}"
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
        return {"success": False, "error": message or "Image generation is temporarily unavailable. Please try "
                "again shortly.", "code": "service_unavailable"}
    usual = {400: PROMPT_REQUIRED, 401: AUTH_REQUIRED, 500: NO_IMAGES, 503: NOT_CONFIGURED}
    return {"error": message or usual.get(status) or responses.get(status, "Error")}
