"""The public routes as an OpenAPI 3.1 document (``/openapi.json``); the request body from the core's FIELDS.

``model``, ``aspectRatio`` and ``stylePreset`` are enums because those are the values the
service understands; it does not refuse others (``x-not-validated-by-service``).
"""

from __future__ import annotations

from typing import Any

from ..request import FIELDS, FieldSpec
from ._bodies import AUTH_REQUIRED, INSUFFICIENT_CREDITS, NO_IMAGES, NOT_CONFIGURED, PROMPT_REQUIRED

_S, _N, _I, _B = {"type": "string"}, {"type": "number"}, {"type": "integer"}, {"type": "boolean"}
_OBJECT, _LIST = {"type": "object"}, {"type": "array"}


def _obj(names: str = "", **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": names.split(), "properties": properties}


def _ok(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}},
            **({"headers": headers} if headers else {})}


def _field(spec: FieldSpec) -> dict[str, Any]:
    """One request field as the service reads it (``choices`` are known values, not checked by it)."""
    schema = {**(_S if spec.minimum is None else _I), "description": spec.description}
    extra = {"enum": list(spec.choices or ()), "x-not-validated-by-service": True} if spec.choices else {}
    bounds = {"minimum": spec.minimum, "maximum": spec.maximum, "maxLength": spec.max_length}
    default = {} if spec.default is None else {"default": spec.default}
    return {**schema, **extra, **default, **{k: v for k, v in bounds.items() if v is not None}}


def _request() -> dict[str, Any]:
    properties = {spec.wire: _field(spec) for spec in FIELDS.values()}
    # Not blank; lengths are counted in UTF-16 code units by the service.
    properties["prompt"].update(minLength=1, pattern="[^\\s\\ufeff]")
    return _obj("prompt", **properties)


_ERROR = _obj("error", error=_S)
_AUTH = {"401": _ok("No key, or a key not accepted.", _obj("error", success=_B, error=_S, code=_S)),
         "403": _ok("The key is inactive.", _obj("error", success=_B, error=_S, code=_S))}
_LIMITS = {f"X-RateLimit-{name}": {"schema": _S} for name in ("Limit", "Remaining", "Reset", "Policy")}
_NULLABLE = {"type": ["string", "null"]}
_ITEM = _obj("id type url prompt model status createdAt mimeType fileSize", id=_S, type=_S, url=_S, thumbnailUrl=_S,
             prompt=_S, negativePrompt=_NULLABLE, model=_S, provider=_S, status=_S, createdAt=_S, completedAt=_NULLABLE,
             dimensions=_OBJECT, mimeType=_S, fileSize={**_S, "description": "Bytes, as a string."}, metadata=_OBJECT)
_ENTRY = _obj("id pricing", id=_S, object=_S, owned_by=_S, type=_S, name=_S,
              pricing={**_obj("image", image=_N, unit=_S), "description": "Catalogue price; billed x 1.2."})
_IMAGE = {**_obj("text", url={**_S, "format": "uri"}, image={**_S, "description": "A data URL when storing failed."},
                 text={**_S, "description": "The model's text; may be empty."}, mimeType=_S,
                 fileSize={**_I, "minimum": 0}), "anyOf": [{"required": ["url"]}, {"required": ["image"]}]}
_IMAGES = {**_LIST, "items": _IMAGE}
_GENERATED = {"oneOf": [
    _obj("images numImages", images=_IMAGES, numImages={**_I, "minimum": 0}),
    _obj("success images", success={"const": True}, model=_S, images=_IMAGES,
         cost=_obj("totalCost", totalCost=_N, baseTotalCost=_N, platformMarkup=_N, matchedEntry=_OBJECT)),
]}
_GENERATE = {
    "operationId": "generateImage",
    "summary": "Generate images from a prompt (optionally from a source image).",
    "description": "Checks in order: rate limit (429), key (401), body (400; not JSON: 500 with the parser's "
    "message), credits (402). Only the images that succeed are returned and billed.",
    "responses": {
        "200": _ok("Images generated (possibly fewer than asked).", _GENERATED, _LIMITS),
        "400": _ok(f"Refused, e.g. {PROMPT_REQUIRED!r}.", _obj("error", error=_S, details=_OBJECT)),
        "401": _ok(AUTH_REQUIRED, _ERROR),
        "402": _ok(INSUFFICIENT_CREDITS + "; never retry.", _obj("error required", error=_S, required=_N)),
        "429": _ok("Too many requests; retry after Retry-After seconds.", _obj(
            "error code", success=_B, error=_S, code=_S, message=_S, retryAfter=_I), {**_LIMITS, "Retry-After": {
                "schema": _I}}),
        "500": _ok(f"{NO_IMAGES!r} (refunded), or another failure (may have been charged).", _ERROR),
        "503": _ok(NOT_CONFIGURED, _ERROR),
    },
}


def _get(operation: str, summary: str, responses: dict[str, Any], *parameters: dict[str, Any],
         public: bool = False) -> dict[str, Any]:
    access = {"security": [], "responses": responses} if public else {"responses": {**responses, **_AUTH}}
    return {"get": {"operationId": operation, "summary": summary, "parameters": list(parameters), **access}}


def _param(name: str, schema: dict[str, Any], where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema}


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """A fresh document; ``server_url`` becomes its only server."""
    ids = {**_LIST, "minItems": 1, "maxItems": 50, "items": {**_S, "minLength": 1, "pattern": "\\S"}}
    status_answer = _obj("models timestamp", timestamp=_I, models={**_LIST, "items": _obj(
        "modelId available", modelId=_S, available=_B, reason=_S)})
    price = _obj("unit estimatedRange", unit=_S, isVariable=_B, estimatedRange=_obj("min max", min=_N, max=_N),
                 description=_S)
    image = {"description": "The image.", "content": {t: {"schema": {**_S, "contentMediaType": t}}
                                                      for t in ("image/webp", "image/png")}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Milady Cloud image generation (local server)", "version": "1",
                 "description": "The service's contract as its code implements it."},
        "servers": [{"url": server_url or "http://127.0.0.1:8787"}],
        "security": [{"bearerAuth": []}, {"apiKeyAuth": []}],
        "paths": {
            "/api/v1/generate-image": {"post": {**_GENERATE, "requestBody": {"required": True, "content": {
                "application/json": {"schema": _request()}}}}},
            "/api/v1/credits/balance": _get("getCreditBalance", "The account's credit balance.", {
                "200": _ok("The balance.", _obj("balance", balance=_N))}, _param("fresh", {"enum": ["true", "false"]})),
            "/api/v1/gallery": _get("listGallery", "Past generations, newest first.", {
                "200": _ok("A page.", _obj("items count offset limit hasMore", items={**_LIST, "items": _ITEM},
                                           count=_I, offset=_I, limit=_I, hasMore=_B)),
                "400": _ok("A bad query.", _obj("error details", error={"const": "Validation error"}, details=_LIST))},
                _param("type", {**_S, "enum": ["image", "video"]}),
                _param("limit", {**_I, "minimum": 1, "maximum": 1000, "default": 100}),
                _param("offset", {**_I, "minimum": 0, "default": 0})),
            "/api/v1/models/status": {"post": {
                "operationId": "modelStatus", "summary": "Which models can run now.", "security": [],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _obj(
                    "modelIds", modelIds=ids)}}},
                "responses": {"200": _ok("Availability per model.", status_answer),
                              "400": _ok("modelIds missing, too many or not strings.", _ERROR)}}},
            "/api/v1/pricing/summary": _get("pricingSummary", "Price ranges.", {"200": _ok("Prices.", _obj(
                "asOf pricing", asOf=_S, pricing=_obj("generate-image", **{"generate-image": price})))}, public=True),
            "/api/v1/models": _get("listModels", "The model catalogue.", {"200": _ok("The catalogue.", _obj(
                "data", object=_S, data={**_LIST, "items": _ENTRY}))}, public=True),
            "/api/v1/models/{model}": _get("getModel", "One catalogue entry.", {
                "200": _ok("The entry.", _ENTRY), "404": _ok("No such model.", _ERROR)}, _param("model", _S, "path")),
            "/images/{name}": _get("getImage", "A stored image: public, no auth, no expiry.", {
                "200": image, "404": {"description": "No such image."}}, _param("name", _S, "path"), public=True),
        },
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"},
                                           "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
    }
