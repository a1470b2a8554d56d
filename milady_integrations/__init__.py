"""Milady Cloud image generation for Python, ComfyUI, LangChain and Gradio.

``from milady_integrations import MiladyClient``; the key comes from MILADY_API_KEY.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import errors, schema
from ._version import __version__
from .errors import *  # noqa: F403
from .images import to_source_data_url  # loaded with the schema already
from .schema import *  # noqa: F403

if TYPE_CHECKING:
    # ``X as X``: the type checker's view of the lazy names below.
    from ._config import API_KEY_ENV as API_KEY_ENV
    from ._config import BASE_URL_ENV as BASE_URL_ENV
    from ._config import DEFAULT_BASE_URL as DEFAULT_BASE_URL
    from ._config import DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES
    from .client import AsyncMiladyClient as AsyncMiladyClient
    from .client import MiladyClient as MiladyClient

# The clients pull in httpx; loaded on first use, so that code needing only the schema
# (a ComfyUI node listing its inputs, a tool building its argument schema) stays light.
_LAZY = {
    "API_KEY_ENV": "._config",
    "BASE_URL_ENV": "._config",
    "DEFAULT_BASE_URL": "._config",
    "DEFAULT_MAX_RETRIES": "._config",
    "AsyncMiladyClient": ".client",
    "MiladyClient": ".client",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = ["__version__", "to_source_data_url", *schema.__all__, *errors.__all__, *_LAZY]
