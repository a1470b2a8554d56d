"""The nodes in ComfyUI's V3 node API (``io.ComfyNode``), rendered from the classic ones' declaration (``nodes``).

Imported only after ``v3_api()`` (in ``__init__``) found every name used here. What V3 adds for
artists: the images previewed on the node itself, search aliases where ComfyUI knows
them, and the prompt checked before the workflow runs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from comfy_api.v0_0_2 import ComfyExtension, io, ui

from .nodes import GALLERY, GENERATE, NodeSpec, validate_prompt

__all__ = ["MiladyExtension", "MiladyGallery", "MiladyGenerateImage", "comfy_entrypoint"]

_TYPES = {"INT": io.Int, "STRING": io.String, "IMAGE": io.Image, "MASK": io.Mask}


def _input(name: str, entry: tuple[Any, dict[str, Any]], optional: bool) -> Any:
    kind, config = entry
    if isinstance(kind, list):  # the classic form of a combo
        return io.Combo.Input(name, options=kind, optional=optional, **config)
    return _TYPES[kind].Input(name, optional=optional, **config)


def _schema(spec: NodeSpec) -> Any:
    declared = spec.inputs()
    inputs = [_input(n, entry, part == "optional") for part in declared for n, entry in declared[part].items()]
    extra: dict[str, Any] = {}
    # Newer ComfyUI lists nodes under other words too; older ones have no such field.
    if "search_aliases" in {f.name for f in dataclasses.fields(io.Schema)}:
        extra["search_aliases"] = list(spec.search_aliases)
    return io.Schema(
        node_id=spec.node_id,
        display_name=spec.display_name,
        category=spec.category,
        description=spec.description,
        inputs=inputs,
        outputs=[_TYPES[kind].Output(name, display_name=name, tooltip=tip) for kind, name, tip in spec.outputs],
        hidden=[io.Hidden.unique_id],
        is_output_node=spec.output_node,
        **extra,
    )


def _v3(spec: NodeSpec) -> type:
    class Node(io.ComfyNode):  # type: ignore[misc]
        __doc__ = spec.description

        @classmethod
        def define_schema(cls) -> Any:
            return _schema(spec)

        @classmethod
        async def execute(cls, **inputs: Any) -> Any:
            from ._run import run

            # An output node shows its images itself: none on its bar (the page would show that one instead).
            node_id = cls.hidden.unique_id if cls.hidden else None
            outputs = await run(spec, node_id, inputs, previews=not spec.output_node)
            # As Preview Image does: PNGs in ComfyUI's temp folder, shown on this node.
            preview = ui.PreviewImage(outputs[0], cls=cls) if spec.output_node else None
            return io.NodeOutput(*outputs, ui=preview)

    if spec is GENERATE:
        Node.validate_inputs = classmethod(validate_prompt)
    Node.__name__ = Node.__qualname__ = spec.node_id
    return Node


MiladyGenerateImage = _v3(GENERATE)
MiladyGallery = _v3(GALLERY)


class MiladyExtension(ComfyExtension):  # type: ignore[misc]
    async def get_node_list(self) -> list[type[Any]]:
        return [MiladyGenerateImage, MiladyGallery]


async def comfy_entrypoint() -> MiladyExtension:
    """The V3 entry point (ComfyUI reads it only from a pack without NODE_CLASS_MAPPINGS)."""
    return MiladyExtension()
