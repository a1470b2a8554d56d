"""Milady Cloud image generation as LangChain tools.

``MiladyImageGenerationTool()`` (name ``generate_image``) reads MILADY_API_KEY; hand it
to an agent. ``MiladyToolkit().get_tools()`` adds ``milady_credits_balance``.
"""

from ._args import CreditsBalanceInput, GenerateImageInput, GenerateImageInputAnyModel, format_validation_error
from ._config import to_tool_exception
from .tools import MiladyCreditsTool, MiladyImageGenerationTool, MiladyToolkit

__all__ = [
    "CreditsBalanceInput",
    "GenerateImageInput",
    "GenerateImageInputAnyModel",
    "MiladyCreditsTool",
    "MiladyImageGenerationTool",
    "MiladyToolkit",
    "format_validation_error",
    "to_tool_exception",
]
