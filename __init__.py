"""ComfyUI entry point, used when this repository is cloned into ``ComfyUI/custom_nodes/``.

ComfyUI imports this file as a module named after the folder's path, not as a
package, and does not put the folder on ``sys.path``. A small finder therefore
resolves this clone's own packages (``milady_integrations``, ``comfyui_nodes``)
by their absolute names, without exposing anything else in the folder. Nothing
heavy is imported here: the nodes load the client, numpy and torch when they run.

The Comfy Registry and ComfyUI-Manager list the nodes without running this file: from
the literal ``NODE_CLASS_MAPPINGS`` in ``comfyui_nodes/__init__.py`` and from
``node_list.json`` (tests/comfyui/test_packaging.py keeps both equal to what loads here).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType

_ROOT = os.path.dirname(os.path.abspath(__file__))
_PACKAGES = ("milady_integrations", "comfyui_nodes")


class _ClonePackageFinder:
    """A meta path finder for this clone's top-level packages; submodules follow from ``__path__``.

    (Duck-typed rather than an importlib.abc subclass: that import alone costs about 12 ms.)
    """

    def __init__(self, root: str) -> None:
        self.root = root

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _PACKAGES:
            return None
        package_dir = os.path.join(self.root, fullname)
        init = os.path.join(package_dir, "__init__.py")
        if not os.path.isfile(init):
            return None
        return importlib.util.spec_from_file_location(fullname, init, submodule_search_locations=[package_dir])


def _install_finder() -> None:
    # Idempotent: ComfyUI may load the pack twice (reload, tests); one finder per clone.
    for finder in sys.meta_path:
        if type(finder).__name__ == "_ClonePackageFinder" and getattr(finder, "root", None) == _ROOT:
            return
    # First, so the clone's core and nodes always come from the same checkout.
    sys.meta_path.insert(0, _ClonePackageFinder(_ROOT))


_install_finder()

from comfyui_nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS  # noqa: E402

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
