"""The nodes in ComfyUI's classic node API, for a ComfyUI without the V3 schema (rendered from ``_spec``).

Nothing heavy at import: inputs, validation and the run load the client, numpy and
torch when ComfyUI calls them.
"""

from __future__ import annotations

from typing import Any

from ._spec import GALLERY, GENERATE, NodeSpec, validate_prompt

__all__ = ["MiladyGallery", "MiladyGenerateImage"]


def _classic(spec: NodeSpec) -> type:
    async def run(self: Any, unique_id: str | None = None, **inputs: Any) -> tuple[Any, ...]:
        from ._run import run

        return await run(spec, unique_id, inputs)

    def input_types(cls: type) -> dict[str, Any]:
        return {**spec.inputs(), "hidden": {"unique_id": "UNIQUE_ID"}}

    attributes: dict[str, Any] = {
        "__doc__": spec.description,
        "INPUT_TYPES": classmethod(input_types),
        "RETURN_TYPES": tuple(kind for kind, _, _ in spec.outputs),
        "RETURN_NAMES": tuple(name for _, name, _ in spec.outputs),
        "OUTPUT_TOOLTIPS": tuple(tooltip for _, _, tooltip in spec.outputs),
        "DESCRIPTION": spec.description,
        "CATEGORY": spec.category,
        "FUNCTION": spec.function,
        spec.function: run,
    }
    if spec is GENERATE:
        attributes["VALIDATE_INPUTS"] = classmethod(validate_prompt)
    return type(spec.node_id, (), attributes)


MiladyGenerateImage = _classic(GENERATE)
MiladyGallery = _classic(GALLERY)
