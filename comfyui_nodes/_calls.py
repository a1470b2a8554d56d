"""What both node APIs (classic and V3) call: the prompt check and the runs, errors translated once.

``account`` None means the default account (the environment's key, else the config file's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the client and torch load when a node runs, not when ComfyUI starts
    from ._run import GalleryOutputs, Outputs


def validate_prompt(prompt: Any) -> bool | str:
    """The core's message for an empty or too long prompt; True otherwise.

    ComfyUI passes None for a prompt wired from another node; that one is checked
    when the node runs, before anything is sent.
    """
    if prompt is None:
        return True
    from milady_integrations.request import field_problems

    problems = field_problems({"prompt": prompt})
    return problems[0].text() if problems else True


async def generate(
    *,
    prompt: str,
    model: str,
    aspect_ratio: str,
    style_preset: str,
    num_images: int,
    source_image: Any = None,
    account: str | None = None,
    unique_id: str | None = None,
) -> Outputs:
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
        return await run_node(options, source_image, unique_id, account)
    except MiladyError as err:
        raise to_comfy_error(err) from err


async def gallery(*, index: int, account: str | None = None, unique_id: str | None = None) -> GalleryOutputs:
    from milady_integrations import MiladyError

    from ._run import run_gallery
    from .errors import to_comfy_error

    try:
        return await run_gallery(index, unique_id, account)
    except MiladyError as err:
        raise to_comfy_error(err) from err
