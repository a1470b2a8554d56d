"""The nodes in ComfyUI's classic node API, for ComfyUI without the V3 schema.

Inputs and outputs come from the one declaration in ``_inputs`` (the V3 nodes in
``_v3`` render the same). Nothing heavy at import: inputs, validation and the run
import the client, numpy and torch when ComfyUI calls them.
"""

from __future__ import annotations

from typing import Any

from ._spec import GALLERY, GENERATE

__all__ = ["MiladyGallery", "MiladyGenerateImage"]


class MiladyGenerateImage:
    """Text-to-image and image-to-image with Milady Cloud (or `milady serve` offline)."""

    RETURN_TYPES = tuple(o.kind for o in GENERATE.outputs)
    RETURN_NAMES = tuple(o.name for o in GENERATE.outputs)
    OUTPUT_TOOLTIPS = tuple(o.tooltip for o in GENERATE.outputs)
    DESCRIPTION = GENERATE.description
    CATEGORY = GENERATE.category
    FUNCTION = "generate"

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        from ._inputs import classic_input_types

        return classic_input_types(GENERATE)

    @classmethod
    def VALIDATE_INPUTS(cls, prompt: Any = None) -> bool | str:
        """Refuse an empty or too long prompt before the workflow runs, with the core's message.

        Only ``prompt`` is named here: ComfyUI then still checks the combos and
        num_images' range itself (they come from the schema), and reports each bad
        input once.
        """
        from ._calls import validate_prompt

        return validate_prompt(prompt)

    async def generate(
        self,
        prompt: str,
        model: str,
        aspect_ratio: str,
        style_preset: str,
        num_images: int,
        seed: int,
        source_image: Any = None,
        account: str | None = None,
        unique_id: str | None = None,
    ) -> tuple[Any, str, str, Any]:
        """Run one generation. ``seed`` is not sent: it only makes ComfyUI run the node again."""
        del seed
        from ._calls import generate

        out = await generate(
            prompt=prompt,
            model=model,
            aspect_ratio=aspect_ratio,
            style_preset=style_preset,
            num_images=num_images,
            source_image=source_image,
            account=account,
            unique_id=unique_id,
        )
        return (out.images, out.text, out.urls, out.masks)


class MiladyGallery:
    """One of your recent generations, loaded again without paying."""

    RETURN_TYPES = tuple(o.kind for o in GALLERY.outputs)
    RETURN_NAMES = tuple(o.name for o in GALLERY.outputs)
    OUTPUT_TOOLTIPS = tuple(o.tooltip for o in GALLERY.outputs)
    DESCRIPTION = GALLERY.description
    CATEGORY = GALLERY.category
    FUNCTION = "load"

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        from ._inputs import classic_input_types

        return classic_input_types(GALLERY)

    async def load(self, index: int, account: str | None = None, unique_id: str | None = None) -> tuple[Any, str, str]:
        from ._calls import gallery

        out = await gallery(index=index, account=account, unique_id=unique_id)
        return (out.image, out.prompt, out.url)
