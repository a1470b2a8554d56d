"""The service's exact answers: validation of a generate body and every error body it sends.

Validation follows the service's JavaScript, not the documentation: JSON has one
number type (so ``2.0`` is an integer), lengths count UTF-16 code units, and
``aspectRatio`` / ``stylePreset`` are not checked (unknown values put the word
"undefined" into the prompt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

from ..schema import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    JS_WHITESPACE,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    SOURCE_IMAGE_MAX_CHARS,
    STYLE_PRESETS,
    StylePreset,
    service_length,
)
from ._faults import ForcedStatus
from ._prompt import ASPECT_RATIO_PROMPT_WORDS, STYLE_PRESET_PROMPT_WORDS, enhanced_prompt
from ._ratelimit import RateDecision

PROMPT_REQUIRED = "Prompt is required and must be a non-empty string"
PROMPT_TOO_LONG = f"Prompt must be {PROMPT_MAX_CHARS} characters or fewer"
NUM_IMAGES_INVALID = f"numImages must be an integer between {NUM_IMAGES_MIN} and {NUM_IMAGES_MAX}"
SOURCE_NOT_STRING = "sourceImage must be a base64 data URL string"
SOURCE_TOO_LARGE = "sourceImage exceeds maximum allowed size"
AUTH_REQUIRED = "Authentication required. Provide a valid session or API key."
INSUFFICIENT_CREDITS = "Insufficient credits for image generation"
NO_IMAGES = "No images were generated"
NOT_CONFIGURED = "Image generation service is not configured"
INVALID_MODEL = "Invalid model"

#: What JavaScript writes for a missing lookup, e.g. an unknown stylePreset's words.
UNDEFINED = "undefined"


def dumps(data: object) -> bytes:
    """JSON as ``JSON.stringify`` writes it: compact, whole numbers without ``.0``."""
    return json.dumps(_js_numbers(data), separators=(",", ":"), ensure_ascii=False).encode()


def _js_numbers(data: object) -> object:
    if isinstance(data, float) and data.is_integer():
        return int(data)
    if isinstance(data, dict):
        return {key: _js_numbers(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_js_numbers(value) for value in data]
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token '{name[0]}', \"{name}\" is not valid JSON")


def parse_json(raw: bytes) -> object:
    """Parse a request body; raises ValueError carrying the parser's message (-> 500)."""
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("Maximum call stack size exceeded") from None


class RequestRefused(Exception):
    """The body was refused: ``status`` and the service's JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error"))
        self.status = status
        self.body = body


@dataclass(frozen=True)
class GenerateCall:
    """A checked generate body, with what the service derives from it."""

    prompt: str
    num_images: int
    #: The model that will run: unknown names become the default, as on the service.
    model: str
    #: The raw preset and ratio, unknown values kept (they pick the picture's motif and size).
    style_preset: str
    aspect_ratio: str
    source_image: str | None
    #: The prompt as the service sends it to the model.
    enhanced: str


def _is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def validate_generate(body: object, *, strict_models: bool) -> GenerateCall:
    """Check a parsed body in the service's order; raises :class:`RequestRefused`."""
    if body is None:
        # Destructuring null throws in the service, which answers with the message.
        raise RequestRefused(500, {"error": "Cannot destructure property 'prompt' of 'requestBody' as it is null."})
    fields: dict[str, Any] = body if isinstance(body, dict) else {}
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip(JS_WHITESPACE):
        raise RequestRefused(400, {"error": PROMPT_REQUIRED})
    if service_length(prompt) > PROMPT_MAX_CHARS:
        raise RequestRefused(400, {"error": PROMPT_TOO_LONG})
    num_images = fields.get("numImages", 1)
    if not _is_integer(num_images) or not NUM_IMAGES_MIN <= num_images <= NUM_IMAGES_MAX:
        raise RequestRefused(400, {"error": NUM_IMAGES_INVALID})
    source = fields.get("sourceImage")
    if "sourceImage" in fields:
        if not isinstance(source, str):
            raise RequestRefused(400, {"error": SOURCE_NOT_STRING})
        if service_length(source) > SOURCE_IMAGE_MAX_CHARS:
            raise RequestRefused(400, {"error": SOURCE_TOO_LARGE})
    requested = fields.get("model")
    known = isinstance(requested, str) and requested in MODELS
    if strict_models and "model" in fields and not known:
        raise RequestRefused(400, {"error": INVALID_MODEL, "supportedModels": list(MODELS)})
    model = requested if known and isinstance(requested, str) else DEFAULT_MODEL
    preset = fields.get("stylePreset")
    ratio = fields.get("aspectRatio", DEFAULT_ASPECT_RATIO)
    source = source or None  # an empty string is no source, as in the service
    return GenerateCall(
        prompt=prompt,
        num_images=int(num_images),
        model=model,
        style_preset="none" if not preset else preset if isinstance(preset, str) else UNDEFINED,
        aspect_ratio=ratio if isinstance(ratio, str) else UNDEFINED,
        source_image=source,
        enhanced=service_prompt(prompt, preset, ratio, image_to_image=source is not None),
    )


def service_prompt(prompt: str, preset: object, ratio: object, *, image_to_image: bool) -> str:
    """The service's prompt, including its "undefined" for values it does not know."""
    preset_known = not preset or preset in STYLE_PRESETS
    if preset_known and ratio in ASPECT_RATIOS:
        return enhanced_prompt(
            prompt,
            style_preset=cast("StylePreset", preset or "none"),
            aspect_ratio=ratio,
            image_to_image=image_to_image,
        )
    # Same shape as schema.enhanced_prompt, with JavaScript's lookup misses spelled out.
    lead = enhanced_prompt("", image_to_image=image_to_image).split(": ", 1)[0] + ": "
    style_words = {str(k): v for k, v in STYLE_PRESET_PROMPT_WORDS.items()}
    ratio_words = {str(k): v for k, v in ASPECT_RATIO_PROMPT_WORDS.items()}
    style = ""
    if preset and preset != "none":
        style = " " + (style_words.get(preset, UNDEFINED) if isinstance(preset, str) else UNDEFINED)
    words = ratio_words.get(ratio, UNDEFINED) if isinstance(ratio, str) else UNDEFINED
    return f"{lead}{prompt}{style}, {words}"


# ---------------------------------------------------------------- forced answers

_PROXY_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def proxy_page(status: int) -> bytes:
    return _PROXY_PAGE.format(code=status, phrase=_phrase(status)).encode()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def rate_limited_body(decision: RateDecision, retry_after: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": False,
        "error": "Too many requests",
        "code": "rate_limit_exceeded",
        "message": decision.message,
    }
    if retry_after is not None:
        body["retryAfter"] = retry_after
    return body


def service_error_body(status: int, *, required: float) -> dict[str, Any]:
    """The service's own JSON body for an error status (for forced answers)."""
    if status == 400:
        return {"error": PROMPT_REQUIRED}
    if status == 401:
        return {"error": AUTH_REQUIRED}
    if status == 402:
        return {"error": INSUFFICIENT_CREDITS, "required": required}
    if status == 500:
        return {"error": NO_IMAGES}
    if status == 503:
        return {"error": NOT_CONFIGURED}
    return {"error": _phrase(status)}


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    media_type: str | None


def forced_answer(forced: ForcedStatus, *, required: float, limit: int, window: float, now: float) -> Answer:
    """The whole answer for a forced status: body kind, 429 headers, Retry-After or not."""
    headers: dict[str, str] = {}
    kind = forced.body or ("html" if forced.status in (502, 504) else "json")
    if forced.status == 429:
        seconds = forced.retry_after
        decision = RateDecision(False, limit, 0, now + (seconds or window), seconds, window)
        headers.update(decision.headers())
        if seconds is not None:
            headers["Retry-After"] = str(seconds)
        payload: dict[str, Any] = rate_limited_body(decision, seconds)
    else:
        payload = service_error_body(forced.status, required=required)
    if kind == "empty":
        return Answer(forced.status, b"", headers, None)
    if kind == "html":
        return Answer(forced.status, proxy_page(forced.status), headers, "text/html")
    return Answer(forced.status, dumps(payload), headers, "application/json")
