"""MiladyToolkit: the image tool and the credits tool, configured once and sharing clients."""

from __future__ import annotations

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import Field

from ._config import MiladySettings
from .credits_tool import MiladyCreditsTool
from .image_tool import MiladyImageGenerationTool

__all__ = ["MiladyToolkit"]

_SHARED = ("api_key", "base_url", "max_retries", "timeout", "allow_unlisted_models", "client_kwargs")


class MiladyToolkit(MiladySettings, BaseToolkit):
    """``MiladyToolkit().get_tools()`` -> [generate_image, milady_credits_balance]."""

    include_image_blocks: bool = Field(False, description="Passed to the image tool.")

    def get_tools(self) -> list[BaseTool]:
        settings = {name: getattr(self, name) for name in _SHARED}
        image = MiladyImageGenerationTool(include_image_blocks=self.include_image_blocks, **settings)
        credits = MiladyCreditsTool(**settings)
        for tool in (image, credits):
            tool._pool = self.clients  # one connection pool for both tools
        return [image, credits]
