"""The one schema: choices, limits, descriptions, and the request and response models.

Every face (ComfyUI node, LangChain tool, Gradio block) derives its combos,
argument schema and dropdowns from the names defined here; nothing is typed twice.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .errors import InvalidRequestError, MiladyError, MiladyWarning, UnexpectedResponseError

if TYPE_CHECKING:
    from pathlib import Path

    from PIL import Image as PILImage

    from ._reader import ImageReader

# ---------------------------------------------------------------- limits

PROMPT_MAX_CHARS = 4000
NUM_IMAGES_MIN = 1
NUM_IMAGES_MAX = 4
#: The service refuses a ``sourceImage`` longer than this (about 10 MB of image).
SOURCE_IMAGE_MAX_CHARS = 14_000_000

# ---------------------------------------------------------------- choices

AspectRatio = Literal["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]
StylePreset = Literal[
    "none",
    "photographic",
    "digital-art",
    "comic-book",
    "fantasy-art",
    "analog-film",
    "neon-punk",
    "isometric",
    "low-poly",
    "origami",
    "line-art",
    "cinematic",
    "3d-model",
]
KnownModel = Literal[
    "google/gemini-2.5-flash-image",
    "google/gemini-3.1-flash-image-preview",
    "google/gemini-3-pro-image",
    "openai/gpt-image-2",
    "bfl/flux-kontext-max",
]

DEFAULT_MODEL: KnownModel = "google/gemini-2.5-flash-image"
DEFAULT_ASPECT_RATIO: AspectRatio = "1:1"
DEFAULT_STYLE_PRESET: StylePreset = "none"
DEFAULT_NUM_IMAGES = 1

ASPECT_RATIO_DESCRIPTIONS: dict[AspectRatio, str] = {
    "1:1": "Square (default)",
    "16:9": "Wide landscape",
    "9:16": "Tall portrait",
    "4:3": "Standard landscape",
    "3:4": "Standard portrait",
    "21:9": "Ultra-wide cinematic",
    "9:21": "Ultra-tall vertical",
}

STYLE_PRESET_DESCRIPTIONS: dict[StylePreset, str] = {
    "none": "No style modification (default)",
    "photographic": "Realistic lighting and details",
    "digital-art": "Vibrant colors, modern aesthetics",
    "comic-book": "Bold lines, dramatic shading",
    "fantasy-art": "Magical and ethereal elements",
    "analog-film": "Film grain and vintage tones",
    "neon-punk": "Cyberpunk style with neon colors",
    "isometric": "Isometric perspective",
    "low-poly": "Low-poly 3D style",
    "origami": "Paper-folding style",
    "line-art": "Clean line art with minimal shading",
    "cinematic": "Dramatic lighting and composition",
    "3d-model": "High-quality 3D rendered appearance",
}


@dataclass(frozen=True)
class ModelInfo:
    """What the service's documentation says about a model."""

    id: str
    provider: str
    speed: str
    best_for: str


MODEL_INFO: dict[KnownModel, ModelInfo] = {
    "google/gemini-2.5-flash-image": ModelInfo(
        "google/gemini-2.5-flash-image", "Google", "Fast", "General use (default)"
    ),
    "google/gemini-3.1-flash-image-preview": ModelInfo(
        "google/gemini-3.1-flash-image-preview", "Google", "Fast", "Preview/testing"
    ),
    "google/gemini-3-pro-image": ModelInfo(
        "google/gemini-3-pro-image", "Google", "Medium", "Higher quality"
    ),
    "openai/gpt-image-2": ModelInfo(
        "openai/gpt-image-2", "OpenAI", "Medium", "OpenAI image generation"
    ),
    "bfl/flux-kontext-max": ModelInfo(
        "bfl/flux-kontext-max", "BFL", "Medium", "Context-aware generation"
    ),
}

#: Documented models the service no longer serves: it silently generates with
#: the model named here instead (and bills for it), so we warn.
RETIRED_MODELS: dict[str, str] = {"openai/gpt-5-nano": DEFAULT_MODEL}

ASPECT_RATIOS: tuple[AspectRatio, ...] = get_args(AspectRatio)
STYLE_PRESETS: tuple[StylePreset, ...] = get_args(StylePreset)
MODELS: tuple[KnownModel, ...] = get_args(KnownModel)

# What the service appends to the prompt for each choice: the service has no
# pixel sizes and no style engine, only these words.
STYLE_PRESET_PROMPT_WORDS: dict[StylePreset, str] = {
    "none": "",
    "photographic": "in a photographic style with realistic lighting and details",
    "digital-art": "in a digital art style with vibrant colors and modern aesthetics",
    "comic-book": "in a comic book style with bold lines and dramatic shading",
    "fantasy-art": "in a fantasy art style with magical and ethereal elements",
    "analog-film": "in an analog film photography style with film grain and vintage tones",
    "neon-punk": "in a neon punk cyberpunk style with glowing neon colors",
    "isometric": "in an isometric perspective style with geometric precision",
    "low-poly": "in a low-poly 3D style with geometric facets",
    "origami": "in an origami paper-folding style",
    "line-art": "in a clean line art style with minimal shading",
    "cinematic": "in a cinematic style with dramatic lighting and composition",
    "3d-model": "as a high-quality 3D rendered model",
}
ASPECT_RATIO_PROMPT_WORDS: dict[AspectRatio, str] = {
    "1:1": "square composition",
    "16:9": "wide landscape composition",
    "9:16": "tall portrait composition",
    "4:3": "landscape composition",
    "3:4": "portrait composition",
    "21:9": "ultra-wide cinematic composition",
    "9:21": "ultra-tall vertical composition",
}


def _require_complete(name: str, choices: tuple[str, ...], table: Mapping[Any, object]) -> None:
    # Fails at import, so a choice added without its description can never ship.
    if tuple(table) != choices:
        raise RuntimeError(f"schema table {name} does not match its choices: {tuple(table)}")


_require_complete("ASPECT_RATIO_DESCRIPTIONS", ASPECT_RATIOS, ASPECT_RATIO_DESCRIPTIONS)
_require_complete("ASPECT_RATIO_PROMPT_WORDS", ASPECT_RATIOS, ASPECT_RATIO_PROMPT_WORDS)
_require_complete("STYLE_PRESET_DESCRIPTIONS", STYLE_PRESETS, STYLE_PRESET_DESCRIPTIONS)
_require_complete("STYLE_PRESET_PROMPT_WORDS", STYLE_PRESETS, STYLE_PRESET_PROMPT_WORDS)
_require_complete("MODEL_INFO", MODELS, MODEL_INFO)

# ---------------------------------------------------------------- descriptions

#: One description per user-settable field, shared by tooltips, tool schemas and UIs.
FIELD_DESCRIPTIONS: dict[str, str] = {
    "prompt": (
        "What the image should show: subject, style, lighting and composition. "
        f"1 to {PROMPT_MAX_CHARS} characters."
    ),
    "model": f"Image model to use. Default: {DEFAULT_MODEL}.",
    "aspect_ratio": "Shape of the image: "
    + ", ".join(f"{k} ({v})" for k, v in ASPECT_RATIO_DESCRIPTIONS.items())
    + ".",
    "num_images": (
        f"How many images to generate in one request, {NUM_IMAGES_MIN} to {NUM_IMAGES_MAX}; "
        "each is billed."
    ),
    "style_preset": "Style words the service adds to the prompt: "
    + ", ".join(f"{k} ({v})" for k, v in STYLE_PRESET_DESCRIPTIONS.items())
    + ".",
    "source_image": (
        "Optional image to transform (image-to-image), as a data:image/...;base64 URL "
        f"of at most {SOURCE_IMAGE_MAX_CHARS:,} characters."
    ),
}


#: Short human labels for the fields, for forms and node inputs.
FIELD_LABELS: dict[str, str] = {
    "prompt": "Prompt",
    "model": "Model",
    "aspect_ratio": "Aspect ratio",
    "num_images": "Number of images",
    "style_preset": "Style preset",
    "source_image": "Source image",
}


def enhanced_prompt(
    prompt: str,
    *,
    style_preset: StylePreset = DEFAULT_STYLE_PRESET,
    aspect_ratio: AspectRatio = DEFAULT_ASPECT_RATIO,
    image_to_image: bool = False,
) -> str:
    """The prompt exactly as the service sends it to the model."""
    lead = (
        "Using the provided image as a reference, generate a new image: "
        if image_to_image
        else "Generate an image: "
    )
    style = STYLE_PRESET_PROMPT_WORDS[style_preset]
    body = f"{prompt} {style}" if style else prompt
    return f"{lead}{body}, {ASPECT_RATIO_PROMPT_WORDS[aspect_ratio]}"


# ---------------------------------------------------------------- validation


def _one_of(field: str, value: object, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidRequestError(
            f"{field}={value!r} is not allowed: choose one of {', '.join(allowed)}",
            field=field,
            value=value,
            allowed=allowed,
        )


# What JavaScript's String.prototype.trim removes: the service judges blankness with it.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def service_length(text: str) -> int:
    """Length as the service counts it (JavaScript's ``length``): UTF-16 code units, an emoji counts 2."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def validate_prompt(prompt: object) -> str:
    if not isinstance(prompt, str):
        raise InvalidRequestError(
            f"prompt must be a string of 1 to {PROMPT_MAX_CHARS} characters, got {type(prompt).__name__}",
            field="prompt",
            value=prompt,
            allowed=f"a string of 1 to {PROMPT_MAX_CHARS} characters",
        )
    if not prompt.strip(JS_WHITESPACE):
        raise InvalidRequestError(
            "prompt is empty: describe the image in 1 to "
            f"{PROMPT_MAX_CHARS} characters (not only spaces)",
            field="prompt",
            value=prompt,
            allowed=f"1 to {PROMPT_MAX_CHARS} characters",
        )
    length = service_length(prompt)
    if length > PROMPT_MAX_CHARS:
        raise InvalidRequestError(
            f"prompt has {length} characters as the service counts them (emoji count 2): "
            f"the most allowed is {PROMPT_MAX_CHARS}",
            field="prompt",
            value=prompt[:40] + "...",
            allowed=f"1 to {PROMPT_MAX_CHARS} characters",
        )
    return prompt


def validate_num_images(num_images: object) -> int:
    # bool is an int subclass; True must not silently mean one image.
    if (
        isinstance(num_images, bool)
        or not isinstance(num_images, int)
        or not NUM_IMAGES_MIN <= num_images <= NUM_IMAGES_MAX
    ):
        raise InvalidRequestError(
            f"num_images={num_images!r} is not allowed: it must be a whole number "
            f"from {NUM_IMAGES_MIN} to {NUM_IMAGES_MAX}",
            field="num_images",
            value=num_images,
            allowed=f"{NUM_IMAGES_MIN}..{NUM_IMAGES_MAX}",
        )
    return num_images


def validate_model(model: object, *, allow_unlisted: bool = False) -> str:
    """Check a model id; unknown ids need ``allow_unlisted`` (the service would swap them)."""
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequestError(
            f"model={model!r} is not allowed: choose one of {', '.join(MODELS)}",
            field="model",
            value=model,
            allowed=MODELS,
        )
    if model in RETIRED_MODELS:
        warnings.warn(
            f"model {model!r} is no longer served: the service generates with "
            f"{RETIRED_MODELS[model]!r} instead and bills for it",
            MiladyWarning,
            stacklevel=3,
        )
        return model
    if model not in MODELS and not allow_unlisted:
        raise InvalidRequestError(
            f"model={model!r} is not a known model: choose one of {', '.join(MODELS)}, "
            "or pass allow_unlisted_model=True for a model newer than this library "
            "(the service silently uses its default for names it does not know)",
            field="model",
            value=model,
            allowed=MODELS,
        )
    return model


class GenerateImageRequest(BaseModel):
    """A checked request. Build it with :meth:`create`; ``to_wire()`` gives the JSON body."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    prompt: str = Field(description=FIELD_DESCRIPTIONS["prompt"])
    model: str = Field(DEFAULT_MODEL, description=FIELD_DESCRIPTIONS["model"])
    aspect_ratio: AspectRatio = Field(
        DEFAULT_ASPECT_RATIO, alias="aspectRatio", description=FIELD_DESCRIPTIONS["aspect_ratio"]
    )
    num_images: int = Field(
        DEFAULT_NUM_IMAGES,
        alias="numImages",
        ge=NUM_IMAGES_MIN,
        le=NUM_IMAGES_MAX,
        description=FIELD_DESCRIPTIONS["num_images"],
    )
    style_preset: StylePreset = Field(
        DEFAULT_STYLE_PRESET, alias="stylePreset", description=FIELD_DESCRIPTIONS["style_preset"]
    )
    source_image: str | None = Field(
        None, alias="sourceImage", description=FIELD_DESCRIPTIONS["source_image"]
    )

    @classmethod
    def create(
        cls,
        prompt: object,
        *,
        model: object = DEFAULT_MODEL,
        aspect_ratio: object = DEFAULT_ASPECT_RATIO,
        num_images: object = DEFAULT_NUM_IMAGES,
        style_preset: object = DEFAULT_STYLE_PRESET,
        source_image: object = None,
        allow_unlisted_model: bool = False,
        downscale_source: bool = False,
    ) -> GenerateImageRequest:
        """Validate every field, naming the field, value and allowed range on failure.

        ``source_image`` may be a data URL, raw bytes, a file path or a PIL image; one over
        the service's limit is refused, or shrunk when ``downscale_source`` is true.
        """
        from .images import to_source_data_url

        checked_prompt = validate_prompt(prompt)
        checked_model = validate_model(model, allow_unlisted=allow_unlisted_model)
        _one_of("aspect_ratio", aspect_ratio, ASPECT_RATIOS)
        checked_num = validate_num_images(num_images)
        _one_of("style_preset", style_preset, STYLE_PRESETS)
        data_url = None if source_image is None else to_source_data_url(source_image, downscale=downscale_source)
        return cls.model_construct(
            prompt=checked_prompt,
            model=checked_model,
            aspect_ratio=aspect_ratio,
            num_images=checked_num,
            style_preset=style_preset,
            source_image=data_url,
        )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body the service expects (camelCase, unset source omitted)."""
        return self.model_dump(by_alias=True, exclude_none=True)

    def __repr_args__(self) -> Any:
        # A multi-megabyte data URL makes reprs and logs unreadable.
        for name, value in super().__repr_args__():
            if name == "source_image" and isinstance(value, str) and len(value) > 64:
                value = f"{value[:40]}...<{len(value)} chars>"
            yield name, value


# ---------------------------------------------------------------- responses


class GeneratedImage(BaseModel):
    """One generated image: a permanent ``url``, or a ``data_url`` when storage failed."""

    model_config = ConfigDict(populate_by_name=True)

    url: str | None = None
    data_url: str | None = Field(None, alias="image")
    text: str = ""
    mime_type: str | None = Field(None, alias="mimeType")
    file_size: int | None = Field(None, alias="fileSize")

    _reader: ImageReader | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """Where the bytes come from: the URL, or the data URL when there is no URL."""
        return self.url or self.data_url or ""

    def _get_reader(self) -> ImageReader:
        if self._reader is None:
            from ._reader import ImageReader

            self._reader = ImageReader.default()
        return self._reader

    def read(self) -> bytes:
        """The image's bytes (downloaded with a size cap, or decoded from the data URL)."""
        return self._get_reader().read(self)

    async def aread(self) -> bytes:
        return await self._get_reader().aread(self)

    def to_pil(self) -> PILImage.Image:
        from .images import decode_image

        return decode_image(self.read())

    def save(self, path: str | Path) -> Path:
        """Write the bytes; a path without a suffix gets one from the real image type."""
        from .images import write_image

        return write_image(path, self.read())

    async def asave(self, path: str | Path) -> Path:
        from .images import write_image

        return write_image(path, await self.aread())

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "data_url" and isinstance(value, str) and len(value) > 64:
                value = f"{value[:30]}...<{len(value)} chars>"
            yield name, value


class ImageGenerationResult(BaseModel):
    """What a generation returned. ``partial`` is true when fewer images came back than asked.

    ``errors`` holds the failures of requests that did not succeed when several were sent
    (``generate_images``): the images of the others stay usable.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    images: list[GeneratedImage]
    requested: int
    model: str | None = None
    cost: float | None = None
    request_ids: list[str] = Field(default_factory=list)
    errors: list[MiladyError] = Field(default_factory=list, exclude=True)

    @property
    def returned(self) -> int:
        return len(self.images)

    @property
    def partial(self) -> bool:
        return self.returned < self.requested

    @property
    def partial_note(self) -> str:
        """The one line every face shows for partial success ("" when all came back)."""
        return partial_note(self.requested, self.returned)

    @property
    def urls(self) -> list[str]:
        return [image.url for image in self.images if image.url]

    @property
    def text(self) -> str:
        """The service's text for the images, one line each, without repeats."""
        seen: dict[str, None] = {}
        for image in self.images:
            if image.text:
                seen.setdefault(image.text, None)
        return "\n".join(seen)


def partial_note(requested: int, returned: int) -> str:
    """What a person reads when fewer images came back than asked ("" otherwise)."""
    if returned >= requested:
        return ""
    return f"Asked for {requested} images, the service returned {returned} (billed only for those)."


def _normalise_data_url(raw: str, mime_type: object) -> str:
    if raw.startswith("data:"):
        return raw
    # The other deployed variant may send bare base64.
    mime = mime_type if isinstance(mime_type, str) and mime_type else "image/png"
    return f"data:{mime};base64,{raw}"


def parse_generation_body(
    body: object, *, requested: int, model: str | None = None, request_id: str | None = None
) -> ImageGenerationResult:
    """Read either response shape the service has answered with.

    ``{"images": [...], "numImages": n}`` and ``{"success", "model", "images", "cost"}``.
    Items with neither ``url`` nor ``image`` are dropped (they count as not returned).
    """
    if not isinstance(body, dict) or not isinstance(body.get("images"), list):
        raise UnexpectedResponseError(
            "The service answered 200 without an 'images' list.", body=body, request_id=request_id
        )
    images: list[GeneratedImage] = []
    for item in body["images"]:
        if not isinstance(item, dict):
            continue
        url = item.get("url") if isinstance(item.get("url"), str) and item.get("url") else None
        raw = item.get("image")
        data_url = _normalise_data_url(raw, item.get("mimeType")) if isinstance(raw, str) and raw else None
        if url is None and data_url is None:
            continue
        size = item.get("fileSize")
        images.append(
            GeneratedImage(
                url=url,
                image=data_url,
                text=str(item["text"]) if isinstance(item.get("text"), str) else "",
                mimeType=item.get("mimeType") if isinstance(item.get("mimeType"), str) else None,
                fileSize=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
        )
    cost = body.get("cost")
    return ImageGenerationResult(
        images=images,
        requested=requested,
        model=body.get("model") if isinstance(body.get("model"), str) else model,
        cost=float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
        request_ids=[request_id] if request_id else [],
    )
