"""The nodes in ComfyUI's V3 node API (``io.ComfyNode``), for a ComfyUI that has it.

Imported only after ``_comfy.v3_api()`` found every name used here in the pinned
versioned module. Inputs and outputs are rendered from the same declarations as the
classic nodes (``_spec``, ``_inputs``), under the same node ids, so saved workflows
load in either. What V3 adds for artists: the images previewed on the node itself
(it is an output node, so it runs with nothing wired after it), search aliases where
ComfyUI knows them, and the prompt checked before the workflow runs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from comfy_api.v0_0_2 import ComfyExtension, io, ui

from ._spec import GALLERY, GENERATE, InputSpec, NodeSpec, OutputSpec

__all__ = ["MiladyExtension", "MiladyGallery", "MiladyGenerateImage", "comfy_entrypoint"]

_IO_TYPES = {"IMAGE": io.Image, "MASK": io.Mask, "STRING": io.String}


def _input(spec: InputSpec) -> Any:
    common: dict[str, Any] = {"tooltip": spec.tooltip, "optional": spec.optional}
    if spec.kind == "COMBO":
        return io.Combo.Input(spec.id, options=list(spec.options), default=spec.default, **common)
    if spec.kind == "INT":
        return io.Int.Input(
            spec.id,
            default=spec.default,
            min=spec.minimum,
            max=spec.maximum,
            step=1,
            control_after_generate=spec.control_after_generate or None,
            **common,
        )
    if spec.kind == "STRING":
        return io.String.Input(spec.id, multiline=spec.multiline, default=spec.default, **common)
    return _IO_TYPES[spec.kind].Input(spec.id, **common)


def _output(spec: OutputSpec) -> Any:
    return _IO_TYPES[spec.kind].Output(spec.name, display_name=spec.name, tooltip=spec.tooltip)


def _schema(node: NodeSpec, *, output_node: bool) -> Any:
    extra: dict[str, Any] = {}
    # Newer ComfyUI lists nodes under other words too; older ones have no such field.
    if "search_aliases" in {f.name for f in dataclasses.fields(io.Schema)}:
        extra["search_aliases"] = list(node.search_aliases)
    return io.Schema(
        node_id=node.node_id,
        display_name=node.display_name,
        category=node.category,
        description=node.description,
        inputs=[_input(i) for i in node.inputs()],
        outputs=[_output(o) for o in node.outputs],
        hidden=[io.Hidden.unique_id],
        is_output_node=output_node,
        **extra,
    )


def _node_id(cls: Any) -> str | None:
    hidden = getattr(cls, "hidden", None)
    return None if hidden is None else hidden.unique_id


class MiladyGenerateImage(io.ComfyNode):  # type: ignore[misc]
    """Text-to-image and image-to-image with Milady Cloud; the images also show on the node."""

    @classmethod
    def define_schema(cls) -> Any:
        return _schema(GENERATE, output_node=True)

    @classmethod
    def validate_inputs(cls, prompt: Any = None) -> bool | str:
        # Only the prompt is named: ComfyUI still checks the combos and ranges itself.
        from ._calls import validate_prompt

        return validate_prompt(prompt)

    @classmethod
    async def execute(
        cls,
        prompt: str,
        model: str,
        aspect_ratio: str,
        style_preset: str,
        num_images: int,
        seed: int,
        source_image: Any = None,
        account: str | None = None,
    ) -> Any:
        del seed  # only makes ComfyUI run the node again: the service has no seed
        from ._calls import generate

        out = await generate(
            prompt=prompt,
            model=model,
            aspect_ratio=aspect_ratio,
            style_preset=style_preset,
            num_images=num_images,
            source_image=source_image,
            account=account,
            unique_id=_node_id(cls),
        )
        # As Preview Image does: PNGs in ComfyUI's temp folder, shown on this node.
        preview = ui.PreviewImage(out.images, cls=cls)
        return io.NodeOutput(out.images, out.text, out.urls, out.masks, ui=preview)


class MiladyGallery(io.ComfyNode):  # type: ignore[misc]
    """One of your recent generations, loaded again without paying."""

    @classmethod
    def define_schema(cls) -> Any:
        return _schema(GALLERY, output_node=False)

    @classmethod
    async def execute(cls, index: int, account: str | None = None) -> Any:
        from ._calls import gallery

        out = await gallery(index=index, account=account, unique_id=_node_id(cls))
        return io.NodeOutput(out.image, out.prompt, out.url)


class MiladyExtension(ComfyExtension):  # type: ignore[misc]
    async def get_node_list(self) -> list[type[Any]]:
        return [MiladyGenerateImage, MiladyGallery]


async def comfy_entrypoint() -> MiladyExtension:
    """The V3 entry point (ComfyUI reads it only from a pack without NODE_CLASS_MAPPINGS)."""
    return MiladyExtension()
