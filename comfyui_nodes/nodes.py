"""The node "Milady Generate Image" (classic ComfyUI node API).

Nothing heavy at import: inputs, validation and the run import the client,
numpy and torch when ComfyUI calls them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MiladyGenerateImage"]


class MiladyGenerateImage:
    """Text-to-image and image-to-image with Milady Cloud (or `milady serve` offline)."""

    RETURN_TYPES = ("IMAGE", "STRING", "STRING", "MASK")
    RETURN_NAMES = ("images", "text", "urls", "mask")
    OUTPUT_TOOLTIPS = (
        "The generated images as one RGB batch. Images of another size than the first are "
        "letterboxed into the first one's size (scaled to fit, centred, black border).",
        "The service's text about the images, one line per distinct text.",
        "The images' permanent URLs, one per line (images the service sent inline have none).",
        "Transparency of each image (1 = transparent), including letterbox borders; all 0 for opaque images.",
    )
    FUNCTION = "generate"
    CATEGORY = "Milady"
    DESCRIPTION = (
        "Generate 1-4 images from a prompt with Milady Cloud, or transform a source image. "
        "The key comes from MILADY_API_KEY or milady_config.json, never from a widget."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        from ._inputs import input_types

        return input_types()

    @classmethod
    def VALIDATE_INPUTS(cls, prompt: Any = None) -> bool | str:
        """Refuse an empty or too long prompt before the workflow runs, with the core's message.

        Only ``prompt`` is named here: ComfyUI then still checks the combos and
        num_images' range itself (they come from the schema), and reports each bad
        input once. ComfyUI passes None for a prompt wired from another node; that
        one is checked when the node runs, before anything is sent.
        """
        if prompt is None:
            return True
        from milady_integrations.request import field_problems

        problems = field_problems({"prompt": prompt})
        return problems[0].text() if problems else True

    async def generate(
        self,
        prompt: str,
        model: str,
        aspect_ratio: str,
        style_preset: str,
        num_images: int,
        seed: int,
        source_image: Any = None,
        unique_id: str | None = None,
    ) -> tuple[Any, str, str, Any]:
        """Run one generation. ``seed`` is not sent: it only makes ComfyUI run the node again."""
        del seed
        from milady_integrations import MiladyError

        from ._run import run_node
        from .errors import to_comfy_error

        options = {
            "prompt": prompt,
            "model": model,
            "aspect_ratio": aspect_ratio,
            "style_preset": style_preset,
            "num_images": num_images,
        }
        try:
            out = await run_node(options, source_image, unique_id)
        except MiladyError as err:
            raise to_comfy_error(err) from err
        return (out.images, out.text, out.urls, out.masks)
