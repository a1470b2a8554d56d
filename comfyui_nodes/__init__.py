"""ComfyUI nodes for Milady Cloud image generation.

Importing this package is cheap: the node class loads the client, numpy and torch
only when ComfyUI asks for its inputs or runs it.
"""

from __future__ import annotations

from .errors import to_comfy_error
from .nodes import MiladyGenerateImage

#: Node keys are saved in users' workflows: renaming one breaks them.
NODE_CLASS_MAPPINGS: dict[str, type] = {
    "MiladyGenerateImage": MiladyGenerateImage,
}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {
    "MiladyGenerateImage": "Milady Generate Image",
}

__all__ = [
    "NODE_CLASS_MAPPINGS",
    "NODE_DISPLAY_NAME_MAPPINGS",
    "MiladyGenerateImage",
    "to_comfy_error",
]
