"""The nodes as both of ComfyUI's node APIs declare them: ids, names, outputs, words.

Light on purpose (ComfyUI reads these at start-up): the inputs, which come from the
core's field declarations and the config file's account names, are built by
``_inputs`` when ComfyUI asks for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["GALLERY", "GENERATE", "NODES", "InputSpec", "NodeSpec", "OutputSpec"]


@dataclass(frozen=True)
class InputSpec:
    """One node input, independent of ComfyUI's node API."""

    id: str
    kind: str  # COMBO, INT, STRING, IMAGE
    tooltip: str
    default: Any = None
    options: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    multiline: bool = False
    optional: bool = False
    control_after_generate: bool = False


@dataclass(frozen=True)
class OutputSpec:
    kind: str  # IMAGE, STRING, MASK
    name: str
    tooltip: str


@dataclass(frozen=True)
class NodeSpec:
    """A node as both APIs declare it; ``inputs`` is called each time ComfyUI asks (account names may change)."""

    node_id: str
    display_name: str
    description: str
    inputs: Callable[[], list[InputSpec]]
    outputs: tuple[OutputSpec, ...]
    search_aliases: tuple[str, ...] = ()
    category: str = "Milady"


def _generate_inputs() -> list[InputSpec]:
    from ._inputs import generate_inputs

    return generate_inputs()


def _gallery_inputs() -> list[InputSpec]:
    from ._inputs import gallery_inputs

    return gallery_inputs()


GENERATE = NodeSpec(
    node_id="MiladyGenerateImage",
    display_name="Milady Generate Image",
    description=(
        "Generate 1-4 images from a prompt with Milady Cloud, or transform a source image. "
        "The key comes from MILADY_API_KEY or milady_config.json (an account name), never from a widget."
    ),
    inputs=_generate_inputs,
    outputs=(
        OutputSpec(
            "IMAGE",
            "images",
            "The generated images as one RGB batch. Images of another size than the first are "
            "letterboxed into the first one's size (scaled to fit, centred, black border).",
        ),
        OutputSpec("STRING", "text", "The service's text about the images, one line per distinct text."),
        OutputSpec(
            "STRING", "urls", "The images' permanent URLs, one per line (images the service sent inline have none)."
        ),
        OutputSpec(
            "MASK",
            "mask",
            "Transparency of each image (1 = transparent), including letterbox borders; all 0 for opaque images.",
        ),
    ),
    search_aliases=("text to image", "image to image", "milady", "generate image", "cloud image", "api image"),
)

GALLERY = NodeSpec(
    node_id="MiladyGallery",
    display_name="Milady Gallery",
    description="Load one of your recent Milady generations (newest first) without paying again.",
    inputs=_gallery_inputs,
    outputs=(
        OutputSpec("IMAGE", "image", "The generation's image, RGB."),
        OutputSpec("STRING", "prompt", "The prompt it was made from."),
        OutputSpec("STRING", "url", "Its permanent URL."),
    ),
    search_aliases=("milady history", "recent generations", "load generated image"),
)


#: Node ids are saved in users' workflows: renaming one breaks them.
NODES = (GENERATE, GALLERY)
