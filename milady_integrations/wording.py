"""The words every face shows besides errors: counts, labels, progress and outcomes.

Errors have their own table (``errors.py``); everything else a person or an agent
reads about a generation is worded here once.
"""

from __future__ import annotations

import re

from .catalogue import ASPECT_RATIO_DESCRIPTIONS, MODEL_INFO, NUM_IMAGES_MAX, NUM_IMAGES_MIN, STYLE_PRESET_DESCRIPTIONS
from .results import ImageGenerationResult

__all__ = [
    "EXAMPLE_PROMPTS",
    "GENERATE_TOOL_DESCRIPTION",
    "NOT_RESENT",
    "agent_summary",
    "choice_label",
    "error_title",
    "model_choices_text",
    "model_label",
    "outcome_line",
    "plural",
    "recovered_note",
    "source_kinds",
    "waiting_line",
]


#: What an agent framework tells a model about the image tool (LangChain, MCP).
GENERATE_TOOL_DESCRIPTION = (
    "Generate images from a text description (text-to-image), or a new image from a source image "
    "(image-to-image), and get back their URLs. Use it whenever the user asks for a picture, photo, "
    "illustration, drawing, logo, icon or any other visual. Write a detailed prompt: subject, "
    "setting, lighting, composition. style_preset adds style words to the prompt: "
    + "; ".join(f"{k} = {v.lower()}" for k, v in STYLE_PRESET_DESCRIPTIONS.items())
    + ". aspect_ratio sets the image's shape: "
    + "; ".join(f"{k} = {v.lower()}" for k, v in ASPECT_RATIO_DESCRIPTIONS.items())
    + f". {NUM_IMAGES_MIN} to {NUM_IMAGES_MAX} images per call, each billed: ask for more than one "
    "only when the user wants options. The answer lists each image's URL; show them to the user."
)


#: A few prompts to start from (a page's examples).
EXAMPLE_PROMPTS: tuple[str, ...] = (
    "A red fox reading a book under a lantern, autumn forest at dusk",
    "A lighthouse on a cliff in a storm, waves crashing, moody sky",
    "A tiny robot watering a bonsai tree on a sunny windowsill",
    "A bowl of ramen seen from above, steam rising, warm light",
)

#: Told to an agent after a failure that may have run: resending it could pay twice.
NOT_RESENT = (
    "Do not send this request again: it may have run and been billed. Check the account's gallery for its images first."
)


def error_title(error: BaseException) -> str:
    """The kind of a failure, from its class name: InsufficientCreditsError -> "Insufficient credits"."""
    name = type(error).__name__.removeprefix("Milady").removesuffix("Error") or "Error"
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    title = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return title[:1].upper() + title[1:]


#: Said after a generation is cancelled: the service goes on with a request it has received.
CANCELLED_MAY_BILL = (
    "a request the service had received may still be generated and billed: it then appears in your gallery"
)


def plural(count: int, word: str) -> str:
    """``plural(1, "image")`` -> "1 image"; ``plural(3, "image")`` -> "3 images"."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def model_label(model: str) -> str:
    """``google/gemini-3-pro-image · Medium, Higher quality``; an unlisted id stays as it is."""
    info = MODEL_INFO.get(model)  # type: ignore[call-overload]
    return f"{model} · {info.speed}, {info.best_for}" if info is not None else model


_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "aspect_ratio": {str(k): v for k, v in ASPECT_RATIO_DESCRIPTIONS.items()},
    "style_preset": {str(k): v for k, v in STYLE_PRESET_DESCRIPTIONS.items()},
}


def choice_label(field: str, value: str) -> str:
    """What a dropdown shows for a choice: ``16:9 · Wide landscape``."""
    if field == "model":
        return model_label(value)
    description = _DESCRIPTIONS.get(field, {}).get(value)
    return f"{value} · {description}" if description else value


def waiting_line(count: int, model: str, elapsed: float, expected: float | None = None) -> str:
    """``Generating 4 images with <model>: 12 s (~8 s left)``."""
    # Whole seconds, both rounded once: the line changes once a second and never says "~0 s left".
    seconds = round(elapsed)
    line = f"Generating {plural(count, 'image')} with {model}: {seconds} s"
    left = round(expected) - seconds if expected is not None else 0
    return line + f" (~{left} s left)" if left > 0 else line


def outcome_line(result: ImageGenerationResult, elapsed: float | None = None) -> str:
    """What a generation came to, in one line: count, time, cost, partial success, failed parts."""
    parts = [plural(result.returned, "image") + (f" in {elapsed:.0f} s" if elapsed is not None else "")]
    if result.cost is not None:
        parts.append(f"billed {result.cost:g} credits")
    if result.partial:
        parts.append(result.partial_note.rstrip("."))
    parts += [f"a request failed: {error}" for error in result.errors]
    parts += [note.rstrip(".") for note in result.notes]
    return "; ".join(parts)


def agent_summary(result: ImageGenerationResult, *, style_preset: str, aspect_ratio: str) -> str:
    """A few lines for a model: how many images of how many, where they are, the service's text. Never base64."""
    noun = "image" if result.requested == 1 else "images"
    details = [d for d in (result.model, f"style {style_preset}", f"aspect ratio {aspect_ratio}") if d]
    lines = [f"Generated {result.returned} of {result.requested} requested {noun} ({', '.join(details)})."]
    if result.partial:
        lines.append(result.partial_note)
    if result.cost is not None:
        lines.append(f"Billed: {result.cost:g} credits.")
    for number, image in enumerate(result.images, start=1):
        where = (
            image.url
            or f"inline image {number} (not a URL): the service could not store it; the application holds its bytes"
        )
        lines.append(f"Image {number}: {where}")
    lines += [f"A request failed: {error}" for error in result.errors]
    lines += result.notes
    if result.text:
        lines.append(f"Service text: {result.text}")
    return "\n".join(lines)


def model_choices_text(description: str) -> str:
    """The model argument's description for an agent: ``description`` plus each known model and its use."""
    choices = "; ".join(f"{m} ({i.provider}, {i.speed.lower()}: {i.best_for})" for m, i in MODEL_INFO.items())
    return f"{description} Choices: {choices}."


def model_state(available: bool | None, reason: str | None, *, now: bool = False) -> str:
    """A model's live status: "available", "unavailable: <why>" ("unavailable now: ..."), or "status
    unknown" when the service did not say."""
    if available is None:
        return "status unknown"
    return "available" if available else f"unavailable{' now' * now}: {reason or 'no reason given'}"


def field_help(name: str, description: str) -> str:
    """A request field's description as every face shows it: the model's also names each choice and its use."""
    return model_choices_text(description) if name == "model" else description


def source_kinds(allow_paths: bool) -> str:
    """What an agent's ``source_image`` argument may be."""
    kinds = "an http(s) URL of an image (for example one returned earlier), or a data:image/...;base64 URL"
    return kinds + (", or the absolute path of an image file on this machine" if allow_paths else "")


def recovered_note(error: BaseException, found: int) -> str:
    """What a person reads when a failed generation's images were found in the gallery."""
    what = "timed out" if "timeout" in type(error).__name__.lower() else f"failed ({error})"
    return f"The request {what}; found {plural(found, 'image')} it made in your gallery (already billed)."
