"""The public routes as an OpenAPI 3.1 document (``/openapi.json``); choices and limits from schema.py.

``model``, ``aspectRatio`` and ``stylePreset`` are enums because those are the values the
service understands; it does not refuse others (``x-not-validated-by-service``).
"""

from __future__ import annotations

from typing import Any

from ..schema import (
    ASPECT_RATIOS,
    DEFAULT_MODEL,
    FIELD_DESCRIPTIONS,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    SOURCE_IMAGE_MAX_CHARS,
    STYLE_PRESETS,
)
from ._bodies import AUTH_REQUIRED, INSUFFICIENT_CREDITS, NO_IMAGES, NOT_CONFIGURED, PROMPT_REQUIRED

_S, _N, _I, _B = {"type": "string"}, {"type": "number"}, {"type": "integer"}, {"type": "boolean"}
_ANY_OBJECT = {"type": "object"}


def _obj(names: str = "", **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": names.split(), "properties": properties}


def _ok(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}},
            **({"headers": headers} if headers else {})}


_ERROR = _obj("error", error=_S)
_SHARED_AUTH = {"401": _ok("No key, or a key not accepted.", _obj("error", success=_B, error=_S, code=_S)),
                "403": _ok("The key is inactive.", _obj("error", success=_B, error=_S, code=_S))}
_LIMITS = {name: {"schema": _S} for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                                              "X-RateLimit-Policy")}
_ITEM = _obj("id type url prompt model status createdAt mimeType fileSize", id=_S, type=_S, url=_S,
             thumbnailUrl=_S, prompt=_S, negativePrompt={"type": ["string", "null"]}, model=_S, provider=_S,
             status=_S, createdAt=_S, completedAt={"type": ["string", "null"]}, dimensions=_ANY_OBJECT, mimeType=_S,
             fileSize={"type": "string", "description": "Bytes, as a string."}, metadata=_ANY_OBJECT)
_ENTRY = _obj("id pricing", id=_S, object=_S, owned_by=_S, type=_S, name=_S,
              pricing={**_obj("image", image=_N, unit=_S), "description": "Catalogue price; billed x 1.2."})

_REQUEST = _obj(
    "prompt",
    prompt={**_S, "minLength": 1, "maxLength": PROMPT_MAX_CHARS, "pattern": "[^\\s\\ufeff]",
            "description": FIELD_DESCRIPTIONS["prompt"] + " Counted in UTF-16 code units."},
    model={**_S, "enum": list(MODELS), "default": DEFAULT_MODEL, "x-not-validated-by-service": True,
           "description": FIELD_DESCRIPTIONS["model"] + " Unknown names silently become the default."},
    aspectRatio={**_S, "enum": list(ASPECT_RATIOS), "default": "1:1", "x-not-validated-by-service": True},
    numImages={**_I, "minimum": NUM_IMAGES_MIN, "maximum": NUM_IMAGES_MAX, "default": 1},
    stylePreset={**_S, "enum": list(STYLE_PRESETS), "default": "none", "x-not-validated-by-service": True},
    sourceImage={**_S, "maxLength": SOURCE_IMAGE_MAX_CHARS, "description": FIELD_DESCRIPTIONS["source_image"]},
)
_IMAGE = {**_obj("text", url={**_S, "format": "uri"}, image={**_S, "description": "A data URL when storing failed."},
                 text={**_S, "description": "The model's text; may be empty."}, mimeType=_S,
                 fileSize={**_I, "minimum": 0}), "anyOf": [{"required": ["url"]}, {"required": ["image"]}]}
_GENERATED = {"oneOf": [
    _obj("images numImages", images={"type": "array", "items": _IMAGE}, numImages={**_I, "minimum": 0}),
    _obj("success images", success={"const": True}, model=_S, images={"type": "array", "items": _IMAGE},
         cost=_obj("totalCost", totalCost=_N, baseTotalCost=_N, platformMarkup=_N, matchedEntry=_ANY_OBJECT)),
]}


def _generate() -> dict[str, Any]:
    return {
        "operationId": "generateImage",
        "summary": "Generate images from a prompt (optionally from a source image).",
        "description": "Checks in order: rate limit (429), key (401), body (400; not JSON: 500 with the parser's "
        "message), credits (402). Only the images that succeed are returned and billed.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _REQUEST}}},
        "responses": {
            "200": _ok("Images generated (possibly fewer than asked).", _GENERATED, _LIMITS),
            "400": _ok(f"Refused, e.g. {PROMPT_REQUIRED!r}.", _obj("error", error=_S, details=_ANY_OBJECT)),
            "401": _ok(AUTH_REQUIRED, _ERROR),
            "402": _ok(INSUFFICIENT_CREDITS + "; never retry.", _obj("error required", error=_S, required=_N)),
            "429": _ok("Too many requests; retry after Retry-After seconds.",
                       _obj("error code", success=_B, error=_S, code=_S, message=_S, retryAfter=_I),
                       {**_LIMITS, "Retry-After": {"schema": _I}}),
            "500": _ok(f"{NO_IMAGES!r} (refunded), or another failure (may have been charged).", _ERROR),
            "503": _ok(NOT_CONFIGURED, _ERROR),
        },
    }


def _get(operation: str, summary: str, responses: dict[str, Any], *, public: bool = False,
         parameters: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"get": {"operationId": operation, "summary": summary, "parameters": list(parameters),
                    "responses": responses if public else {**responses, **_SHARED_AUTH},
                    **({"security": []} if public else {})}}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """A fresh document; ``server_url`` becomes its only server."""
    status_request = _obj("modelIds", modelIds={"type": "array", "minItems": 1, "maxItems": 50,
                                                "items": {**_S, "minLength": 1, "pattern": "\\S"}})
    status_answer = _obj("models timestamp", timestamp=_I, models={"type": "array", "items": _obj(
        "modelId available", modelId=_S, available=_B, reason=_S)})
    price_range = _obj("min max", min=_N, max=_N)
    pricing = _obj("asOf pricing", asOf=_S, pricing=_obj("generate-image", **{"generate-image": _obj(
        "unit estimatedRange", unit=_S, isVariable=_B, estimatedRange=price_range, description=_S)}))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Milady Cloud image generation (local server)", "version": "1",
                 "description": "The service's contract as its code implements it."},
        "servers": [{"url": server_url or "http://127.0.0.1:8787"}],
        "security": [{"bearerAuth": []}, {"apiKeyAuth": []}],
        "paths": {
            "/api/v1/generate-image": {"post": _generate()},
            "/api/v1/credits/balance": _get("getCreditBalance", "The account's credit balance.", {
                "200": _ok("The balance.", _obj("balance", balance=_N))},
                parameters=(_query("fresh", {**_S, "enum": ["true", "false"]}),)),
            "/api/v1/gallery": _get("listGallery", "Past generations, newest first.", {
                "200": _ok("A page.", _obj("items count offset limit hasMore", items={"type": "array", "items": _ITEM},
                                             count=_I, offset=_I, limit=_I, hasMore=_B)),
                "400": _ok("A bad query.", _obj("error details", error={"const": "Validation error"},
                                                 details={"type": "array"}))},
                parameters=(_query("type", {**_S, "enum": ["image", "video"]}),
                            _query("limit", {**_I, "minimum": 1, "maximum": 1000, "default": 100}),
                            _query("offset", {**_I, "minimum": 0, "default": 0}))),
            "/api/v1/models/status": {"post": {
                "operationId": "modelStatus", "summary": "Which models can run now.", "security": [],
                "requestBody": {"required": True, "content": {"application/json": {"schema": status_request}}},
                "responses": {"200": _ok("Availability per model.", status_answer),
                              "400": _ok("modelIds missing, too many or not strings.", _ERROR)}}},
            "/api/v1/pricing/summary": _get("pricingSummary", "Price ranges.", {"200": _ok("Prices.", pricing)},
                                            public=True),
            "/api/v1/models": _get("listModels", "The model catalogue.", {"200": _ok("The catalogue.", _obj(
                "data", object=_S, data={"type": "array", "items": _ENTRY}))}, public=True),
            "/api/v1/models/{model}": _get("getModel", "One catalogue entry.", {
                "200": _ok("The entry.", _ENTRY), "404": _ok("No such model.", _ERROR)},
                parameters=({"name": "model", "in": "path", "required": True, "schema": _S},)),
            "/images/{name}": _get("getImage", "A stored image: public, no auth, no expiry.", {
                "200": {"description": "The image.", "content": {t: {"schema": {**_S, "contentMediaType": t}}
                                                                 for t in ("image/webp", "image/png")}},
                "404": {"description": "No such image."}}, public=True,
                parameters=({"name": "name", "in": "path", "required": True, "schema": _S},)),
        },
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"},
                                           "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
    }
