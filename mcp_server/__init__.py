"""Milady Cloud image generation as an MCP server (``milady mcp``), on the official MCP SDK.

Tools: ``generate_image``, ``credits_balance``, ``list_models``, ``gallery``. Whose key pays is decided
by the core's :class:`milady_integrations.access.KeyPolicy`.
"""

from ._serve import run
from .server import DEFAULT_MAX_IMAGE_CHARS, Settings, build_server

__all__ = ["DEFAULT_MAX_IMAGE_CHARS", "Settings", "build_server", "run"]
