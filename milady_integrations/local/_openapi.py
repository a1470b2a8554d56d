"""The service's HTTP contract as an OpenAPI 3.1 document (served at ``/openapi.json``).

Choices and limits come from schema.py. ``model``, ``aspectRatio`` and
``stylePreset`` are enums here because those are the values the service
documents and understands; the service itself does not refuse other values
(``x-not-validated-by-service``), so negative fuzzing of those three fields
expects a 200, not a 400.
"""

from __future__ import annotations

import copy
from typing import Any

from ..schema import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    FIELD_DESCRIPTIONS,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    SOURCE_IMAGE_MAX_CHARS,
    STYLE_PRESETS,
)
from ._bodies import (
    AUTH_REQUIRED,
    INSUFFICIENT_CREDITS,
    NOT_CONFIGURED,
    NUM_IMAGES_INVALID,
    PROMPT_REQUIRED,
    PROMPT_TOO_LONG,
    SOURCE_NOT_STRING,
    SOURCE_TOO_LARGE,
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


_REQUEST_ID = {"x-request-id": {"$ref": "#/components/headers/RequestId"}}
_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"$ref": "#/components/headers/RateLimitLimit"},
    "X-RateLimit-Remaining": {"$ref": "#/components/headers/RateLimitRemaining"},
    "X-RateLimit-Reset": {"$ref": "#/components/headers/RateLimitReset"},
    "X-RateLimit-Policy": {"$ref": "#/components/headers/RateLimitPolicy"},
}


def _json_response(description: str, schema: dict[str, Any], headers: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "headers": headers, "content": {"application/json": {"schema": schema}}}


def _error(*messages: str) -> dict[str, Any]:
    error: dict[str, Any] = {"type": "string"}
    if messages:
        error["examples"] = list(messages)
    return {"type": "object", "required": ["error"], "properties": {"error": error}}


_SCHEMAS: dict[str, Any] = {
    "GenerateImageRequest": {
        "type": "object",
        "required": ["prompt"],
        "properties": {
            "prompt": {
                "type": "string",
                "minLength": 1,
                "maxLength": PROMPT_MAX_CHARS,
                # Not only whitespace (JavaScript's trim also removes U+FEFF).
                "pattern": "[^\\s\\ufeff]",
                "description": FIELD_DESCRIPTIONS["prompt"] + " Counted in UTF-16 code units, as the service counts.",
            },
            "model": {
                "type": "string",
                "enum": list(MODELS),
                "default": DEFAULT_MODEL,
                "description": FIELD_DESCRIPTIONS["model"]
                + " Unknown names are not refused: the service uses the default model.",
                "x-not-validated-by-service": True,
            },
            "aspectRatio": {
                "type": "string",
                "enum": list(ASPECT_RATIOS),
                "default": DEFAULT_ASPECT_RATIO,
                "description": FIELD_DESCRIPTIONS["aspect_ratio"],
                "x-not-validated-by-service": True,
            },
            "numImages": {
                "type": "integer",
                "minimum": NUM_IMAGES_MIN,
                "maximum": NUM_IMAGES_MAX,
                "default": DEFAULT_NUM_IMAGES,
                "description": FIELD_DESCRIPTIONS["num_images"],
            },
            "stylePreset": {
                "type": "string",
                "enum": list(STYLE_PRESETS),
                "default": DEFAULT_STYLE_PRESET,
                "description": FIELD_DESCRIPTIONS["style_preset"],
                "x-not-validated-by-service": True,
            },
            "sourceImage": {
                "type": "string",
                "maxLength": SOURCE_IMAGE_MAX_CHARS,
                "description": FIELD_DESCRIPTIONS["source_image"],
            },
        },
    },
    "GeneratedImage": {
        "type": "object",
        "description": "A stored image (url, fileSize), or, when storing failed, a data URL in `image`.",
        "required": ["text", "mimeType"],
        "properties": {
            "url": {"type": "string", "format": "uri", "description": "Permanent, public image URL."},
            "image": {"type": "string", "description": "data:<mime>;base64,... (only when storage failed)."},
            "text": {"type": "string", "description": "Text that came with the image; may be empty."},
            "mimeType": {"type": "string", "examples": ["image/webp", "image/png"]},
            "fileSize": {"type": "integer", "minimum": 0},
        },
        "anyOf": [{"required": ["url"]}, {"required": ["image"]}],
    },
    "GenerateImageResponse": {
        "type": "object",
        "required": ["images", "numImages"],
        "properties": {
            "images": {"type": "array", "items": _ref("GeneratedImage"), "maxItems": NUM_IMAGES_MAX},
            "numImages": {
                "type": "integer",
                "minimum": 0,
                "maximum": NUM_IMAGES_MAX,
                "description": "Images that SUCCEEDED (and were billed); may be fewer than asked.",
            },
        },
    },
    "GenerateImageSuccessResponse": {
        "type": "object",
        "description": "The answer shape of another deployed variant of the service.",
        "required": ["success", "images"],
        "properties": {
            "success": {"const": True},
            "model": {"type": "string"},
            "images": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "string"},
                        "url": {"type": "string", "format": "uri"},
                        "text": {"type": "string"},
                    },
                },
            },
            "cost": {"type": "number", "minimum": 0},
        },
    },
    "Error": _error(),
    "ValidationError": {
        **_error(PROMPT_REQUIRED, PROMPT_TOO_LONG, NUM_IMAGES_INVALID, SOURCE_NOT_STRING, SOURCE_TOO_LARGE),
        "properties": {
            "error": {"type": "string"},
            "supportedModels": {"type": "array", "items": {"type": "string"}},
        },
    },
    "InsufficientCredits": {
        "type": "object",
        "required": ["error", "required"],
        "properties": {
            "error": {"const": INSUFFICIENT_CREDITS},
            "required": {"type": "number", "minimum": 0, "description": "Credits the request needs."},
        },
    },
    "RateLimited": {
        "type": "object",
        "required": ["success", "error", "code", "message"],
        "properties": {
            "success": {"const": False},
            "error": {"const": "Too many requests"},
            "code": {"const": "rate_limit_exceeded"},
            "message": {"type": "string"},
            "retryAfter": {"type": "integer", "minimum": 0, "description": "Seconds to wait."},
        },
    },
    "Balance": {"type": "object", "required": ["balance"], "properties": {"balance": {"type": "number"}}},
}

_HEADERS: dict[str, Any] = {
    "RequestId": _header("Identifies the request in the service's logs.", {"type": "string"}),
    "RateLimitLimit": _header("Requests allowed per window.", {"type": "integer"}),
    "RateLimitRemaining": _header("Requests left in this window.", {"type": "integer", "minimum": 0}),
    "RateLimitReset": _header("When the window ends (ISO 8601).", {"type": "string", "format": "date-time"}),
    "RateLimitPolicy": _header("How the limit is kept.", {"type": "string", "examples": ["in-memory", "redis"]}),
    "RetryAfter": _header("Seconds to wait before retrying.", {"type": "integer", "minimum": 0}),
}


def _generate_operation() -> dict[str, Any]:
    limited = {**_REQUEST_ID, **_LIMIT_HEADERS}
    return {
        "operationId": "generateImage",
        "summary": "Generate images from a prompt (optionally from a source image).",
        "description": (
            "Checks run in this order: rate limit (429), authentication (401), body (400; a body "
            "that is not JSON is a 500 with the parser's message), credits (402). All images are "
            "generated in parallel; only those that succeed are returned and billed."
        ),
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("GenerateImageRequest")}},
        },
        "responses": {
            "200": {
                "description": "Images generated (possibly fewer than asked).",
                "headers": limited,
                "content": {
                    "application/json": {
                        "schema": {"oneOf": [_ref("GenerateImageResponse"), _ref("GenerateImageSuccessResponse")]}
                    }
                },
            },
            "400": _json_response("The body was refused.", _ref("ValidationError"), limited),
            "401": _json_response("No key, or a key the service does not accept.", _error(AUTH_REQUIRED), limited),
            "402": _json_response("Not enough credits; never retry.", _ref("InsufficientCredits"), limited),
            "429": _json_response(
                "Too many requests; retry after Retry-After seconds.",
                _ref("RateLimited"),
                {**limited, "Retry-After": {"$ref": "#/components/headers/RetryAfter"}},
            ),
            "500": _json_response(
                "Every image failed (nothing billed), or the body was not JSON.",
                _error("No images were generated"),
                limited,
            ),
            "503": _json_response("The image service is not configured.", _error(NOT_CONFIGURED), _REQUEST_ID),
        },
    }


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """A fresh OpenAPI 3.1 document; ``server_url`` becomes its only server."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Milady Cloud image generation (local server)",
            "version": "1",
            "description": "The generate-image contract as the service implements it.",
        },
        "servers": [{"url": server_url or "http://127.0.0.1:8787"}],
        "security": [{"bearerAuth": []}, {"apiKeyAuth": []}],
        "paths": {
            "/api/v1/generate-image": {"post": _generate_operation()},
            "/api/v1/credits/balance": {
                "get": {
                    "operationId": "getCreditBalance",
                    "summary": "The account's credit balance.",
                    "parameters": [
                        {
                            "name": "fresh",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["true", "false"]},
                        }
                    ],
                    "responses": {
                        "200": _json_response("The balance.", _ref("Balance"), _REQUEST_ID),
                        "401": _json_response("Not authenticated.", _error(AUTH_REQUIRED), _REQUEST_ID),
                    },
                }
            },
            "/images/{name}": {
                "get": {
                    "operationId": "getImage",
                    "summary": "A stored image: public, no auth, no expiry.",
                    "security": [],
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {
                            "description": "The image bytes.",
                            "headers": _REQUEST_ID,
                            "content": {
                                "image/webp": {"schema": {"type": "string", "contentMediaType": "image/webp"}},
                                "image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}},
                            },
                        },
                        "404": {"description": "No such image.", "headers": _REQUEST_ID},
                    },
                }
            },
        },
        "components": {
            "schemas": copy.deepcopy(_SCHEMAS),
            "headers": copy.deepcopy(_HEADERS),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
    return doc
