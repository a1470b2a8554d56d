"""Milady Cloud image generation for Python, ComfyUI, LangChain and Gradio.

``from milady_integrations import MiladyClient``; the key comes from MILADY_API_KEY.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .catalogue import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    SOURCE_IMAGE_MAX_CHARS,
    STYLE_PRESETS,
    AspectRatio,
    KnownModel,
    StylePreset,
)
from .errors import (
    AuthenticationError,
    GenerationFailedError,
    ImageDownloadError,
    InsufficientCreditsError,
    InvalidRequestError,
    MiladyAPIError,
    MiladyConnectionError,
    MiladyError,
    MiladyTimeoutError,
    MiladyWarning,
    OutcomeUnknownError,
    RateLimitError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    error_from_response,
)
from .request import FIELDS, FieldProblem, GenerateImageRequest, GenerateOptions, check_request
from .results import GeneratedImage, ImageGenerationResult

if TYPE_CHECKING:
    from ._config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES
    from .client import AsyncMiladyClient, MiladyClient
    from .images import to_source_data_url

# The clients pull in httpx; loaded on first use, so that code needing only the schema
# (a ComfyUI node listing its inputs, a tool building its argument schema) stays light.
_LAZY = {
    "API_KEY_ENV": "._config",
    "BASE_URL_ENV": "._config",
    "DEFAULT_BASE_URL": "._config",
    "DEFAULT_MAX_RETRIES": "._config",
    "AsyncMiladyClient": ".client",
    "MiladyClient": ".client",
    "to_source_data_url": ".images",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "API_KEY_ENV",
    "ASPECT_RATIOS",
    "BASE_URL_ENV",
    "DEFAULT_ASPECT_RATIO",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MODEL",
    "DEFAULT_NUM_IMAGES",
    "DEFAULT_STYLE_PRESET",
    "FIELDS",
    "MODELS",
    "NUM_IMAGES_MAX",
    "NUM_IMAGES_MIN",
    "PROMPT_MAX_CHARS",
    "SOURCE_IMAGE_MAX_CHARS",
    "STYLE_PRESETS",
    "AspectRatio",
    "AsyncMiladyClient",
    "AuthenticationError",
    "FieldProblem",
    "GenerateImageRequest",
    "GenerateOptions",
    "GeneratedImage",
    "GenerationFailedError",
    "ImageDownloadError",
    "ImageGenerationResult",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "KnownModel",
    "MiladyAPIError",
    "MiladyClient",
    "MiladyConnectionError",
    "MiladyError",
    "MiladyTimeoutError",
    "MiladyWarning",
    "OutcomeUnknownError",
    "RateLimitError",
    "ServiceUnavailableError",
    "StylePreset",
    "UnexpectedResponseError",
    "__version__",
    "check_request",
    "error_from_response",
    "to_source_data_url",
]
