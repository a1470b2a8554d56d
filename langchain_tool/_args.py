"""The tool's argument schemas, derived from the shared schema (no choice or limit typed here).

Field types are plain ``Literal`` choices and bounded numbers, so every provider's
converter produces an inline JSON schema without ``$ref``, ``$defs`` or ``anyOf``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from milady_integrations.schema import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    FIELD_DESCRIPTIONS,
    MODEL_INFO,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    SOURCE_IMAGE_MAX_CHARS,
    AspectRatio,
    KnownModel,
    StylePreset,
)

__all__ = ["CreditsBalanceInput", "GenerateImageInput", "GenerateImageInputAnyModel"]

MODEL_DESCRIPTION = (
    FIELD_DESCRIPTIONS["model"]
    + " Choices: "
    + "; ".join(f"{m} ({i.provider}, {i.speed.lower()}: {i.best_for})" for m, i in MODEL_INFO.items())
    + "."
)

SOURCE_IMAGE_DESCRIPTION = (
    "Optional image to transform (image-to-image): the http(s) URL of an image, for example "
    "one this tool returned earlier, or a data:image/...;base64 URL "
    f"of at most {SOURCE_IMAGE_MAX_CHARS:,} characters. Leave it out to draw from the prompt alone."
)


def _no_source_image() -> None:
    # A factory, not ``default=None``: the JSON schema then shows no "default": null,
    # and the argument is simply optional (this survives LangChain's schema copy).
    return None


class GenerateImageInput(BaseModel):
    """Arguments of ``generate_image``."""

    prompt: str = Field(
        min_length=1, max_length=PROMPT_MAX_CHARS, description=FIELD_DESCRIPTIONS["prompt"]
    )
    style_preset: StylePreset = Field(DEFAULT_STYLE_PRESET, description=FIELD_DESCRIPTIONS["style_preset"])
    aspect_ratio: AspectRatio = Field(DEFAULT_ASPECT_RATIO, description=FIELD_DESCRIPTIONS["aspect_ratio"])
    model: KnownModel = Field(DEFAULT_MODEL, description=MODEL_DESCRIPTION)
    num_images: int = Field(
        DEFAULT_NUM_IMAGES,
        ge=NUM_IMAGES_MIN,
        le=NUM_IMAGES_MAX,
        description=FIELD_DESCRIPTIONS["num_images"],
    )
    source_image: str | SkipJsonSchema[None] = Field(
        default_factory=_no_source_image,
        max_length=SOURCE_IMAGE_MAX_CHARS,
        description=SOURCE_IMAGE_DESCRIPTION,
    )

    @field_validator("num_images", mode="before")
    @classmethod
    def _a_whole_number(cls, value: object) -> object:
        # Lax mode would read true as 1 and "2" or 2.0 as 2; the schema says integer and the
        # core refuses them, so the model is told (and learns) rather than silently coerced.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number of images")
        return value


class GenerateImageInputAnyModel(GenerateImageInput):
    """Like GenerateImageInput, but any model id passes (``allow_unlisted_models=True``)."""

    model: str = Field(  # type: ignore[assignment]
        DEFAULT_MODEL,
        min_length=1,
        description=MODEL_DESCRIPTION + " A newer model id not listed here is accepted too.",
    )


class CreditsBalanceInput(BaseModel):
    """``milady_credits_balance`` takes no arguments."""
