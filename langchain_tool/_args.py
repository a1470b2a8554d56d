"""The tool's argument schemas, derived from the core's field declarations (nothing typed twice).

Field types are plain ``Literal`` choices and bounded numbers, so every provider's
converter produces an inline JSON schema without ``$ref``, ``$defs`` or ``anyOf``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model, field_validator
from pydantic.json_schema import SkipJsonSchema

from milady_integrations.request import FIELDS, FieldSpec
from milady_integrations.wording import model_choices_text

__all__ = ["CreditsBalanceInput", "GenerateImageInput", "GenerateImageInputAnyModel"]

MODEL_DESCRIPTION = model_choices_text(FIELDS["model"].description)

SOURCE_IMAGE_DESCRIPTION = (
    "Optional image to transform (image-to-image): the http(s) URL of an image, for example "
    "one this tool returned earlier, or a data:image/...;base64 URL "
    f"of at most {FIELDS['source_image'].max_length:,} characters. Leave it out to draw from the prompt alone."
)


def _no_source_image() -> None:
    # A factory, not ``default=None``: the JSON schema then shows no "default": null,
    # and the argument is simply optional (this survives LangChain's schema copy).
    return None


def _argument(spec: FieldSpec) -> tuple[Any, Any]:
    """One field as a pydantic (type, Field) pair, from its declaration."""
    if spec.name == "source_image":
        return str | SkipJsonSchema[None], Field(  # type: ignore[misc]
            default_factory=_no_source_image, max_length=spec.max_length, description=SOURCE_IMAGE_DESCRIPTION
        )
    description = MODEL_DESCRIPTION if spec.name == "model" else spec.description
    if spec.choices is not None:
        choice: Any = Literal  # a Literal of the declared choices, built at run time
        return choice[spec.choices], Field(spec.default, description=description)
    if spec.minimum is not None:
        return int, Field(spec.default, ge=spec.minimum, le=spec.maximum, description=description)
    return str, Field(min_length=1, max_length=spec.max_length, description=description)


class _Arguments(BaseModel):
    @field_validator("num_images", mode="before", check_fields=False)
    @classmethod
    def _a_whole_number(cls, value: object) -> object:
        # Lax mode would read true as 1 and "2" or 2.0 as 2; the schema says integer and the
        # core refuses them, so the model is told (and learns) rather than silently coerced.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number of images")
        return value


GenerateImageInput: type[BaseModel] = create_model(
    "GenerateImageInput",
    __base__=_Arguments,
    __doc__="Arguments of ``generate_image``.",
    **{name: _argument(spec) for name, spec in FIELDS.items()},  # type: ignore[call-overload]
)

GenerateImageInputAnyModel: type[BaseModel] = create_model(
    "GenerateImageInputAnyModel",
    __base__=GenerateImageInput,
    __doc__="Like GenerateImageInput, but any model id passes (``allow_unlisted_models=True``).",
    model=(
        str,
        Field(
            FIELDS["model"].default,
            min_length=1,
            description=MODEL_DESCRIPTION + " A newer model id not listed here is accepted too.",
        ),
    ),
)


class CreditsBalanceInput(BaseModel):
    """``milady_credits_balance`` takes no arguments."""
