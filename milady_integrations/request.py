"""What a user can set: the request's fields, declared once (``FIELDS``), and their checks.

Every face derives its inputs from ``FIELDS``; ``check_request`` judges every field at
once and reports all problems as data (:class:`FieldProblem`), which each face words in
its own terms (a CLI flag, an argument name, a node input).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from .catalogue import (
    ASPECT_RATIO_DESCRIPTIONS,
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    MODELS,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    RETIRED_MODELS,
    SOURCE_IMAGE_MAX_CHARS,
    STYLE_PRESET_DESCRIPTIONS,
    STYLE_PRESETS,
    AspectRatio,
    StylePreset,
)
from .errors import InvalidRequestError, MiladyWarning
from .images import to_source_data_url

__all__ = [
    "FIELDS", "FIELD_DESCRIPTIONS", "FIELD_LABELS", "JS_WHITESPACE", "FieldProblem", "FieldSpec",
    "GenerateImageRequest", "GenerateOptions", "SharedOptions", "check_request", "field_problems", "service_length",
]  # fmt: skip


@dataclass(frozen=True)
class FieldSpec:
    """One user-settable field: its names, words, default and what it allows."""

    name: str
    wire: str
    label: str
    description: str
    default: Any
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None


def _listing(table: Mapping[Any, str]) -> str:
    return ", ".join(f"{key} ({text})" for key, text in table.items())


#: In the order forms show them (ComfyUI saves widget values by position: never reorder).
FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in (
    FieldSpec("prompt", "prompt", "Prompt", "What the image should show: subject, style, lighting and composition. "
              f"1 to {PROMPT_MAX_CHARS} characters.", None, max_length=PROMPT_MAX_CHARS),
    FieldSpec("model", "model", "Model", f"Image model to use. Default: {DEFAULT_MODEL}.", DEFAULT_MODEL, MODELS),
    FieldSpec("aspect_ratio", "aspectRatio", "Aspect ratio",
              f"Shape of the image: {_listing(ASPECT_RATIO_DESCRIPTIONS)}.", DEFAULT_ASPECT_RATIO, ASPECT_RATIOS),
    FieldSpec("style_preset", "stylePreset", "Style preset",
              f"Style words the service adds to the prompt: {_listing(STYLE_PRESET_DESCRIPTIONS)}.",
              DEFAULT_STYLE_PRESET, STYLE_PRESETS),
    FieldSpec("num_images", "numImages", "Number of images",
              f"How many images to generate in one request, {NUM_IMAGES_MIN} to {NUM_IMAGES_MAX}; each is billed.",
              DEFAULT_NUM_IMAGES, minimum=NUM_IMAGES_MIN, maximum=NUM_IMAGES_MAX),
    FieldSpec("source_image", "sourceImage", "Source image", "Optional image to transform (image-to-image), as a "
              f"data:image/...;base64 URL of at most {SOURCE_IMAGE_MAX_CHARS:,} characters.",
              None, max_length=SOURCE_IMAGE_MAX_CHARS),
)}  # fmt: skip
FIELD_DESCRIPTIONS: dict[str, str] = {name: spec.description for name, spec in FIELDS.items()}
FIELD_LABELS: dict[str, str] = {name: spec.label for name, spec in FIELDS.items()}


class SharedOptions(TypedDict, total=False):
    """The options every request of a fan-out shares (``generate_images`` takes these)."""

    model: str
    aspect_ratio: AspectRatio | str
    style_preset: StylePreset | str
    #: Send a model id this library does not know (the service silently swaps unknown names).
    allow_unlisted_model: bool
    #: Shrink a source image over the service's limit instead of refusing it.
    downscale_source: bool


class GenerateOptions(SharedOptions, total=False):
    """Keyword arguments of ``generate_image`` beside the prompt (type-checker view of ``FIELDS``)."""

    num_images: int
    #: A data URL, raw bytes, a file path or a PIL image.
    source_image: Any


# The options that steer the checks rather than being sent.
if set(GenerateOptions.__optional_keys__) != set(FIELDS) - {"prompt"} | {"allow_unlisted_model", "downscale_source"}:
    raise RuntimeError("GenerateOptions must name exactly the fields of FIELDS (less prompt) and the check flags")


# ---------------------------------------------------------------- problems, as data


@dataclass(frozen=True)
class FieldProblem:
    """One bad field: which, what value, what is allowed, and why, worded without the field's name.

    ``text(name)`` words it for a face: ``name`` is what the user typed (``--style``,
    ``style_preset``); ``unlisted`` how that face lets a newer model through.
    """

    field: str
    value: object
    allowed: object
    reason: str
    shows_value: bool = True

    def text(
        self, name: str | None = None, *, assign: str = "=", unlisted: str = "pass allow_unlisted_model=True"
    ) -> str:
        subject = name or self.field
        if self.shows_value:
            shown = repr(self.value)
            subject += assign + (shown if len(shown) <= 60 else f"{shown[:50]}...{shown[-6:]}")
        return f"{subject} {self.reason.format(unlisted=unlisted)}"


def problems_error(problems: list[FieldProblem]) -> InvalidRequestError:
    """One error carrying every problem (``.problems``), worded with the fields' own names; a face words them anew."""
    message = "; ".join(p.text() for p in problems)
    first = problems[0]
    return InvalidRequestError(message, field=first.field, value=first.value, allowed=first.allowed, problems=problems)


# What JavaScript's String.prototype.trim removes: the service judges blankness with it.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def service_length(text: str) -> int:
    """Length as the service counts it (JavaScript's ``length``): UTF-16 code units, an emoji counts 2."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _prompt_problem(prompt: object) -> FieldProblem | None:
    allowed = f"1 to {PROMPT_MAX_CHARS} characters"
    if not isinstance(prompt, str):
        reason = f"must be a string of {allowed}, got {type(prompt).__name__}"
    elif not prompt.strip(JS_WHITESPACE):
        reason = f"is empty: describe the image in {allowed} (not only spaces)"
    elif (length := service_length(prompt)) > PROMPT_MAX_CHARS:
        counted = "" if prompt.isascii() else " as the service counts them (an emoji counts 2)"
        reason = f"has {length} characters{counted}: the most allowed is {PROMPT_MAX_CHARS}"
        prompt = prompt[:40] + "..."
    else:
        return None
    return FieldProblem("prompt", prompt, allowed, reason, shows_value=False)


def _choice_problem(name: str, value: object, allow_unlisted: bool = False) -> FieldProblem | None:
    choices = FIELDS[name].choices or ()
    if isinstance(value, str) and value in choices:
        return None
    if name == "model" and isinstance(value, str) and value.strip():
        if value in RETIRED_MODELS or allow_unlisted:
            return None
        reason = (
            f"is not a known model: choose one of {', '.join(MODELS)}, or {{unlisted}} for a model newer "
            "than this library (the service silently uses its default for names it does not know)"
        )
        return FieldProblem("model", value, MODELS, reason)
    return FieldProblem(name, value, choices, f"is not allowed: choose one of {', '.join(choices)}")


def _num_images_problem(value: object) -> FieldProblem | None:
    # bool is an int subclass; True must not silently mean one image.
    if not isinstance(value, bool) and isinstance(value, int) and NUM_IMAGES_MIN <= value <= NUM_IMAGES_MAX:
        return None
    reason = f"is not allowed: it must be a whole number from {NUM_IMAGES_MIN} to {NUM_IMAGES_MAX}"
    return FieldProblem("num_images", value, f"{NUM_IMAGES_MIN}..{NUM_IMAGES_MAX}", reason)


def _judge(
    values: Mapping[str, object], allow_unlisted_model: bool, check_source: bool, downscale_source: bool
) -> tuple[dict[str, Any], list[FieldProblem], str | None]:
    """Every field (missing ones take their defaults), its problems in ``FIELDS`` order, and the source's data URL."""
    merged = {name: values.get(name, spec.default) for name, spec in FIELDS.items()}
    found = [
        _prompt_problem(merged["prompt"]),
        _choice_problem("model", merged["model"], allow_unlisted_model),
        _choice_problem("aspect_ratio", merged["aspect_ratio"]),
        _choice_problem("style_preset", merged["style_preset"]),
        _num_images_problem(merged["num_images"]),
    ]
    source_url = None
    if check_source and merged["source_image"] is not None:
        try:
            source_url = to_source_data_url(merged["source_image"], downscale=downscale_source)
        except InvalidRequestError as err:
            reason = err.message.removeprefix("source_image ")
            found.append(FieldProblem("source_image", err.value, err.allowed, reason, shows_value=False))
    return merged, [problem for problem in found if problem is not None], source_url


def field_problems(
    values: Mapping[str, object],
    *,
    allow_unlisted_model: bool = False,
    check_source: bool = True,
    downscale_source: bool = True,
) -> list[FieldProblem]:
    """Every problem of ``values`` (missing fields take their defaults), in ``FIELDS`` order; [] when all is well.
    ``check_source=False`` skips reading the source image (a face checks it where it can)."""
    return _judge(values, allow_unlisted_model, check_source, downscale_source)[1]


def problems_and_source(
    values: Mapping[str, object], *, allow_unlisted_model: bool = False, downscale_source: bool = True
) -> tuple[list[FieldProblem], str | None]:
    """``field_problems`` and the source image's data URL (None without a readable one), from one read of it."""
    _merged, problems, source_url = _judge(values, allow_unlisted_model, True, downscale_source)
    return problems, source_url


# ---------------------------------------------------------------- the request


@dataclass(frozen=True)
class GenerateImageRequest:
    """A checked request, ready to send. Build it with :func:`check_request` (or ``create``)."""

    prompt: str
    model: str = DEFAULT_MODEL
    aspect_ratio: str = DEFAULT_ASPECT_RATIO
    num_images: int = DEFAULT_NUM_IMAGES
    style_preset: str = DEFAULT_STYLE_PRESET
    #: The source image as a checked data URL, or None for text-to-image.
    source_image: str | None = None
    #: Things the user should know before spending (a retired model); not sent.
    notes: tuple[str, ...] = dataclasses.field(default=(), compare=False)

    @classmethod
    def create(cls, prompt: object, **options: Any) -> GenerateImageRequest:
        """Same as :func:`check_request`: validate every field, all problems in one error."""
        return check_request(prompt, **options)

    def with_num_images(self, num_images: int) -> GenerateImageRequest:
        return dataclasses.replace(self, num_images=num_images)

    def to_wire(self) -> dict[str, Any]:
        """The JSON body the service expects (camelCase, unset source omitted)."""
        body = {spec.wire: getattr(self, name) for name, spec in FIELDS.items()}
        if body["sourceImage"] is None:
            del body["sourceImage"]
        return body

    def __repr__(self) -> str:
        # A multi-megabyte data URL makes reprs and logs unreadable.
        source = self.source_image
        if source is not None and len(source) > 64:
            source = f"{source[:40]}...<{len(source)} chars>"
        fields = ", ".join(f"{name}={source if name == 'source_image' else getattr(self, name)!r}" for name in FIELDS)
        return f"GenerateImageRequest({fields})"


def check_request(
    prompt: object,
    *,
    allow_unlisted_model: bool = False,
    downscale_source: bool = False,
    **fields: object,
) -> GenerateImageRequest:
    """Validate every field; raise one InvalidRequestError listing ALL problems (nothing is sent).

    ``source_image`` may be a data URL, raw bytes, a file path or a PIL image; one over
    the service's limit is refused, or shrunk when ``downscale_source`` is true.
    """
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown request field(s): {', '.join(sorted(unknown))}")
    values, problems, source_url = _judge({**fields, "prompt": prompt}, allow_unlisted_model, True, downscale_source)
    if problems:
        raise problems_error(problems)
    model, retired = values["model"], RETIRED_MODELS.get(values["model"])
    note = f"model {model!r} is no longer served: the service generates with {retired!r} instead and bills for it"
    return GenerateImageRequest(**{**values, "source_image": source_url}, notes=(note,) if retired else ())


def warn_notes(request: GenerateImageRequest, stacklevel: int = 3) -> None:
    """Raise the request's notes as MiladyWarning, for Python callers."""
    for note in request.notes:
        warnings.warn(note, MiladyWarning, stacklevel=stacklevel)
