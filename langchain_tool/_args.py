"""The tools' argument schemas, from the core's field declarations (nothing typed twice), and how bad
arguments read to the model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model
from pydantic.v1 import ValidationError as ValidationErrorV1

from milady_integrations.agent_args import agent_description, agent_field, agent_type
from milady_integrations.request import FIELDS, field_problems

__all__ = ["CreditsBalanceInput", "GenerateImageInput", "GenerateImageInputAnyModel", "format_validation_error"]


def _no_source_image() -> None:
    # A factory, not ``default=None``: the JSON schema then shows no "default": null,
    # and the argument is simply optional (this survives LangChain's schema copy).
    return None


def _argument(name: str) -> tuple[Any, Any]:
    default = FIELDS[name].default
    if name == "source_image":  # never a file path from a model: agent_field's allow_paths=False
        return agent_type(name), agent_field(name, default_factory=_no_source_image)
    return agent_type(name), (agent_field(name) if default is None else agent_field(name, default=default))


GenerateImageInput: type[BaseModel] = create_model(
    "GenerateImageInput",
    __doc__="Arguments of ``generate_image``.",
    **{name: _argument(name) for name in FIELDS},  # type: ignore[call-overload]
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
            description=agent_description("model") + " A newer model id not listed here is accepted too.",
        ),
    ),
)


class CreditsBalanceInput(BaseModel):
    """``milady_credits_balance`` takes no arguments."""


def format_validation_error(err: ValidationError | ValidationErrorV1) -> str:
    """The tools' ``handle_validation_error``: one message naming each bad field and what it allows, in the
    core's words, so the model calls again with fixed arguments."""
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
