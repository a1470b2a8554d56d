"""The two nodes, declared once (``NodeSpec``), and their classic rendering; ``_v3`` renders the same as V3.

Inputs are built from the core's field declarations (no choice or limit typed here) each time
ComfyUI asks: account names may change, and the core loads then, not at start-up. ComfyUI saves
widget values by position: new inputs go last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MiladyGallery", "MiladyGenerateImage"]

#: A node-only aspect-ratio choice, resolved to the nearest of the service's ratios before sending.
MATCH_SOURCE = "match source"
_PACK = Path(__file__).resolve().parent
_SEED = "Only decides when the node runs again: the service has no seed. The same inputs and seed are served from \
ComfyUI's cache (no new request, no charge); a new seed (control after generate: randomize or increment) sends a new \
request."
_SOURCE = "Optional image to transform (image-to-image). Sent as PNG, downscaled (aspect ratio kept) when it would \
exceed the service's limit of {:,} characters. A batch of several images sends one request per image, and each \
returned image is billed."
_ACCOUNT = 'Which key pays: "{}" is MILADY_API_KEY, else the "api_key" of milady_config.json; the other names \
are the "accounts" of milady_config.json. The workflow stores only the name.'
_INDEX = "Which of your recent generations: 0 is the newest, 1 the one before, and so on. Loading it costs nothing. \
ComfyUI keeps what it loaded for the same index until an input changes."


@dataclass(frozen=True)
class NodeSpec:
    node_id: str
    display_name: str
    description: str
    function: str  # the classic node's method (tests and scripts call ``node.generate(...)``)
    inputs: Callable[[], dict[str, dict[str, Any]]]  # the classic INPUT_TYPES: {"required": ..., "optional": ...}
    outputs: tuple[tuple[str, str, str], ...]  # kind, name, tooltip
    output_node: bool  # V3: shows its images on the node, so it runs with nothing wired after it
    search_aliases: tuple[str, ...]
    category: str = "Milady"


def config_paths() -> tuple[Path, ...]:
    """Config files looked at, first found wins: the clone's root, then beside the nodes."""
    from milady_integrations.config_file import CONFIG_FILE_NAME, config_candidates

    # Only a clone has the ComfyUI entry file beside the package (not site-packages).
    clone = (_PACK.parent / "__init__.py").is_file() and (_PACK.parent / "milady_integrations").is_dir()
    return config_candidates([*([_PACK.parent / CONFIG_FILE_NAME] if clone else []), _PACK / CONFIG_FILE_NAME])


def _int(default: int, low: int, high: int | None, tooltip: str, **more: Any) -> tuple[str, dict[str, Any]]:
    return "INT", {"default": default, "min": low, "max": high, "step": 1, "tooltip": tooltip, **more}


def _account() -> tuple[list[str], dict[str, Any]]:
    from milady_integrations.config_file import DEFAULT_ACCOUNT, account_choices

    return account_choices(config_paths()), {"default": DEFAULT_ACCOUNT, "tooltip": _ACCOUNT.format(DEFAULT_ACCOUNT)}


def _generate_inputs() -> dict[str, dict[str, Any]]:
    from milady_integrations.request import FIELDS
    from milady_integrations.wording import field_help

    required: dict[str, Any] = {}
    for name, spec in FIELDS.items():
        tooltip = field_help(name, spec.description)
        if name == "aspect_ratio":
            tooltip += f" {MATCH_SOURCE}: the nearest of these to the (first) source image's shape (needs one)."
        if spec.choices is not None:
            choices = [*spec.choices, *([MATCH_SOURCE] if name == "aspect_ratio" else [])]
            required[name] = choices, {"default": spec.default, "tooltip": tooltip}
        elif spec.minimum is not None:
            required[name] = _int(spec.default, spec.minimum, spec.maximum, tooltip)
        elif name != "source_image":  # a text box
            required[name] = "STRING", {"multiline": True, "default": "", "tooltip": tooltip}
    required["seed"] = _int(0, 0, 0xFFFFFFFFFFFFFFFF, _SEED, control_after_generate=True)
    source = "IMAGE", {"tooltip": _SOURCE.format(FIELDS["source_image"].max_length)}
    return {"required": required, "optional": {"source_image": source, "account": _account()}}


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
    lambda: {"required": {"index": _int(0, 0, 99, _INDEX)}, "optional": {"account": _account()}},
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


def _classic(spec: NodeSpec) -> type:
    async def run(self: Any, unique_id: str | None = None, **inputs: Any) -> tuple[Any, ...]:
        from ._run import run

        return await run(spec, unique_id, inputs)

    kinds, names, tooltips = zip(*spec.outputs, strict=True)
    attributes: dict[str, Any] = {
        "__doc__": spec.description,
        "DESCRIPTION": spec.description,
        "CATEGORY": spec.category,
        "INPUT_TYPES": classmethod(lambda cls: {**spec.inputs(), "hidden": {"unique_id": "UNIQUE_ID"}}),
        "RETURN_TYPES": kinds,
        "RETURN_NAMES": names,
        "OUTPUT_TOOLTIPS": tooltips,
        "FUNCTION": spec.function,
        spec.function: run,
    }
    if spec is GENERATE:
        attributes["VALIDATE_INPUTS"] = classmethod(validate_prompt)
    return type(spec.node_id, (), attributes)


MiladyGenerateImage = _classic(GENERATE)
MiladyGallery = _classic(GALLERY)
