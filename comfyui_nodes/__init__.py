"""ComfyUI nodes for Milady Cloud image generation.

The V3 nodes (``io.ComfyNode``) when this ComfyUI has the V3 schema, the classic nodes
otherwise: same node ids, inputs and outputs, from one declaration (``_spec``). ComfyUI
registers what ``NODE_CLASS_MAPPINGS`` holds, V3 classes included, and reads
``comfy_entrypoint`` only from packs without it: so the mapping is exported in both cases
(the Registry and ComfyUI-Manager also read its keys without running the pack).

Importing this package is cheap: the nodes load the client, numpy and torch only when
ComfyUI asks for their inputs or runs them.
"""

from __future__ import annotations

from typing import Any

from ._comfy import v3_api
from ._spec import NODES
from .errors import to_comfy_error

if v3_api() is not None:
    from . import _v3 as _chosen

    NODE_API = "v3"
else:
    from . import nodes as _chosen  # type: ignore[no-redef]

    NODE_API = "classic"

MiladyGenerateImage: Any = _chosen.MiladyGenerateImage
MiladyGallery: Any = _chosen.MiladyGallery

#: Node keys are saved in users' workflows: renaming one breaks them.
NODE_CLASS_MAPPINGS: dict[str, type] = {
    "MiladyGenerateImage": MiladyGenerateImage,
    "MiladyGallery": MiladyGallery,
}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {node.node_id: node.display_name for node in NODES}

__all__ = [
    "NODE_API",
    "NODE_CLASS_MAPPINGS",
    "NODE_DISPLAY_NAME_MAPPINGS",
    "MiladyGallery",
    "MiladyGenerateImage",
    "to_comfy_error",
]
