"""The two nodes, declared once for both node APIs (``nodes`` renders them classic, ``_v3`` as V3).

Inputs are declared in the classic ``INPUT_TYPES`` form, built from the core's field
declarations (no choice or limit typed here) each time ComfyUI asks: account names may
change, and the core loads then, not at start-up. ComfyUI saves widget values by
position, so a new input goes last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A node-only aspect-ratio choice, resolved to the nearest of the service's ratios before sending.
MATCH_SOURCE = "match source"
_PACK = Path(__file__).resolve().parent


@dataclass(frozen=True)
class NodeSpec:
    node_id: str
    display_name: str
    description: str
    function: str  # the classic method's name, and the run in ``_run``
    inputs: Callable[[], dict[str, dict[str, Any]]]  # {"required": ..., "optional": ...}
    outputs: tuple[tuple[str, str, str], ...]  # kind, name, tooltip
    output_node: bool  # V3: shows its images on the node, so it runs with nothing wired after it
    search_aliases: tuple[str, ...]
    category: str = "Milady"


def config_paths() -> tuple[Path, ...]:
    """Config files looked at, first found wins: the clone's root, then beside the nodes."""
    root = _PACK.parent
    # Only a clone has the ComfyUI entry file beside the package (not site-packages).
    clone = (root / "__init__.py").is_file() and (root / "milady_integrations").is_dir()
    from milady_integrations.config_file import CONFIG_FILE_NAME, config_candidates

    first = [root / CONFIG_FILE_NAME] if clone else []
    return config_candidates([*first, _PACK / CONFIG_FILE_NAME])


def _account() -> tuple[list[str], dict[str, Any]]:
    """The names of milady_config.json's accounts, never a key (the workflow stores the name)."""
    from milady_integrations import MiladyError
    from milady_integrations.config_file import DEFAULT_ACCOUNT, account_names

    try:
        names = account_names(config_paths())
    except MiladyError:
        names = (DEFAULT_ACCOUNT,)  # ComfyUI still lists the node; the run names the broken file
    tooltip = (
        f'Which key pays: "{DEFAULT_ACCOUNT}" is MILADY_API_KEY, else the "api_key" of milady_config.json; '
        'the other names are the "accounts" of milady_config.json. The workflow stores only the name.'
    )
    return list(names), {"default": DEFAULT_ACCOUNT, "tooltip": tooltip}


def _generate_inputs() -> dict[str, dict[str, Any]]:
    from milady_integrations.request import FIELDS
    from milady_integrations.wording import model_choices_text

    required: dict[str, Any] = {}
    for name, spec in FIELDS.items():
        tooltip = model_choices_text(spec.description) if name == "model" else spec.description
        if spec.choices is not None:
            extra = (MATCH_SOURCE,) if name == "aspect_ratio" else ()
            if extra:
                tooltip += f" {MATCH_SOURCE}: the nearest of these to the (first) source image's shape (needs one)."
            required[name] = [*spec.choices, *extra], {"default": spec.default, "tooltip": tooltip}
        elif spec.minimum is not None:
            limits = {"min": spec.minimum, "max": spec.maximum, "step": 1}
            required[name] = "INT", {"default": spec.default, **limits, "tooltip": tooltip}
        elif name != "source_image":  # a text box
            required[name] = "STRING", {"multiline": True, "default": "", "tooltip": tooltip}
    required["seed"] = (
        "INT",
        {
            "default": 0,
            "min": 0,
            "max": 0xFFFFFFFFFFFFFFFF,
            "step": 1,
            "control_after_generate": True,
            "tooltip": "Only decides when the node runs again: the service has no seed. The same inputs and seed "
            "are served from ComfyUI's cache (no new request, no charge); a new seed (control after generate: "
            "randomize or increment) sends a new request.",
        },
    )
    source = (
        "Optional image to transform (image-to-image). Sent as PNG, downscaled (aspect ratio kept) when it would "
        f"exceed the service's limit of {FIELDS['source_image'].max_length:,} characters. A batch of several "
        "images sends one request per image, and each returned image is billed."
    )
    return {"required": required, "optional": {"source_image": ("IMAGE", {"tooltip": source}), "account": _account()}}


def _gallery_inputs() -> dict[str, dict[str, Any]]:
    tooltip = (
        "Which of your recent generations: 0 is the newest, 1 the one before, and so on. Loading it costs "
        "nothing. ComfyUI keeps what it loaded for the same index until an input changes."
    )
    index = "INT", {"default": 0, "min": 0, "max": 99, "step": 1, "tooltip": tooltip}
    return {"required": {"index": index}, "optional": {"account": _account()}}


def validate_prompt(cls: type, prompt: Any = None) -> bool | str:
    """The core's message for an empty or too long prompt, before the workflow runs; True otherwise.

    Only the prompt is named: ComfyUI then still checks the combos and ranges itself. A
    prompt wired from another node arrives as None here and is checked when the node runs.
    """
    if prompt is None:
        return True
    from milady_integrations.request import field_problems

    problems = field_problems({"prompt": prompt})
    return problems[0].text() if problems else True


GENERATE = NodeSpec(
    "MiladyGenerateImage",
    "Milady Generate Image",
    "Generate 1-4 images from a prompt with Milady Cloud, or transform a source image. "
    "The key comes from MILADY_API_KEY or milady_config.json (an account name), never from a widget.",
    "generate",
    _generate_inputs,
    (
        (
            "IMAGE",
            "images",
            "The generated images as one RGB batch. Images of another size than the first are "
            "letterboxed into the first one's size (scaled to fit, centred, black border).",
        ),
        ("STRING", "text", "The service's text about the images, one line per distinct text."),
        ("STRING", "urls", "The images' permanent URLs, one per line (images the service sent inline have none)."),
        (
            "MASK",
            "mask",
            "Transparency of each image (1 = transparent), including letterbox borders; all 0 for opaque images.",
        ),
    ),
    output_node=True,
    search_aliases=("text to image", "image to image", "milady", "generate image", "cloud image", "api image"),
)
GALLERY = NodeSpec(
    "MiladyGallery",
    "Milady Gallery",
    "Load one of your recent Milady generations (newest first) without paying again.",
    "load",
    _gallery_inputs,
    (
        ("IMAGE", "image", "The generation's image, RGB."),
        ("STRING", "prompt", "The prompt it was made from."),
        ("STRING", "url", "Its permanent URL."),
    ),
    output_node=False,
    search_aliases=("milady history", "recent generations", "load generated image"),
)
#: Node ids are saved in users' workflows: renaming one breaks them.
NODES = (GENERATE, GALLERY)
