"""ComfyUI nodes for Milady Cloud image generation.

V3 nodes (``io.ComfyNode``) when this ComfyUI has the V3 schema, classic ones otherwise: same
ids, inputs and outputs, from one declaration (``nodes``). ComfyUI reads ``comfy_entrypoint``
only from packs without ``NODE_CLASS_MAPPINGS``, so the mapping (V3 classes included) is what
registers them either way; the Registry and ComfyUI-Manager read its keys without running the pack.
Importing this is cheap: the client, numpy and torch load when a node lists its inputs or runs.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from .errors import to_comfy_error
from .nodes import NODES

#: The versioned V3 API the pack is written against (``latest`` may change under it).
V3_MODULE = "comfy_api.v0_0_2"
#: What the pack uses of it; a ComfyUI whose V3_MODULE lacks any of these gets the classic nodes.
V3_NAMES = {
    "": ("io", "ui", "ComfyExtension"),
    "io": ("ComfyNode", "Schema", "NodeOutput", "Hidden", "Combo", "Int", "String", "Image", "Mask"),
    "ui": ("PreviewImage",),
}


def v3_api() -> ModuleType | None:
    """ComfyUI's V3 node API when it has all the pack uses (V3_MODULE came days before its ``io`` schema)."""
    try:
        api = importlib.import_module(V3_MODULE)
    except Exception:  # not ComfyUI, an older one, or a broken install: the classic nodes still work
        return None
    for holder, names in V3_NAMES.items():
        where = getattr(api, holder, None) if holder else api
        if where is None or not all(hasattr(where, name) for name in names):
            return None
    return api


if v3_api() is not None:
    from . import _v3 as _chosen

    NODE_API = "v3"
else:
    from . import nodes as _chosen  # type: ignore[no-redef]

    NODE_API = "classic"

MiladyGenerateImage: Any = _chosen.MiladyGenerateImage
MiladyGallery: Any = _chosen.MiladyGallery
#: Node keys are saved in users' workflows: renaming one breaks them.
NODE_CLASS_MAPPINGS: dict[str, type] = {"MiladyGenerateImage": MiladyGenerateImage, "MiladyGallery": MiladyGallery}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {node.node_id: node.display_name for node in NODES}

__all__ = [
    "NODE_API",
    "NODE_CLASS_MAPPINGS",
    "NODE_DISPLAY_NAME_MAPPINGS",
    "MiladyGallery",
    "MiladyGenerateImage",
    "to_comfy_error",
]
