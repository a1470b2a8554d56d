"""The tools' argument schemas, derived from the core's field declarations (nothing typed twice), and how
bad arguments read to the model.

Field types are plain ``Literal`` choices and bounded numbers, so every provider's
converter produces an inline JSON schema without ``$ref``, ``$defs`` or ``anyOf``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, create_model, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic.v1 import ValidationError as ValidationErrorV1

from milady_integrations.calls import source_image_description
from milady_integrations.request import FIELDS, FieldSpec, field_problems
from milady_integrations.wording import model_choices_text

__all__ = ["CreditsBalanceInput", "GenerateImageInput", "GenerateImageInputAnyModel", "format_validation_error"]

MODEL_DESCRIPTION = model_choices_text(FIELDS["model"].description)

SOURCE_IMAGE_DESCRIPTION = source_image_description(allow_paths=False)  # never a file path from a model


def _no_source_image() -> None:
    # A factory, not ``default=None``: the JSON schema then shows no "default": null,
    # and the argument is simply optional (this survives LangChain's schema copy).
    return None


def _argument(spec: FieldSpec) -> tuple[Any, Any]:
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


def format_validation_error(err: ValidationError | ValidationErrorV1) -> str:
    """Bad tool arguments as one message naming each field and what it allows, in the core's words.

    The tools' ``handle_validation_error``: the model reads it and calls again with fixed arguments.
    """
    given: dict[str, tuple[Any, str]] = {}
    missing: list[str] = []
    for error in err.errors():
        loc = error.get("loc") or ()
        name = str(loc[0]) if loc else "arguments"
        if error.get("type") == "missing":
            missing.append(name)
        else:
            given.setdefault(name, (error.get("input"), str(error.get("msg", "invalid value"))))
    judged = {name: value for name, (value, _) in given.items() if name in FIELDS}
    unlisted = "create the tool with allow_unlisted_models=True"  # how this face lets a newer model through
    core = {p.field: p.text(unlisted=unlisted) for p in field_problems(judged, check_source=False)}
    lines = [f"{name} is required" + (f": {FIELDS[name].description}" if name in FIELDS else "") for name in missing]
    lines += [core.get(name) or f"{name}: {message}" for name, (_, message) in given.items()]
    return "Invalid arguments: " + "; ".join(dict.fromkeys(lines)) + ". Fix them and call the tool again."
