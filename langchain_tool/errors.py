"""How failures reach the agent: service errors and bad arguments as text a model can act on."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import ToolException
from pydantic import ValidationError
from pydantic.v1 import ValidationError as ValidationErrorV1

from milady_integrations.errors import InvalidRequestError, MiladyError
from milady_integrations.schema import (
    DEFAULT_MODEL,
    PROMPT_MAX_CHARS,
    GenerateImageRequest,
    validate_prompt,
)

__all__ = ["format_validation_error", "to_tool_exception"]


def to_tool_exception(err: MiladyError) -> ToolException:
    """THE translation of a core error for LangChain: its one line, unchanged.

    With ``handle_tool_error=True`` the agent reads this text as the ToolMessage
    (status "error") and can react, instead of the run crashing.
    """
    return ToolException(str(err))


def _core_words(field: str, value: object) -> str | None:
    """The core's own message for one bad value (the same words every face shows)."""
    try:
        if field == "prompt":
            validate_prompt(value)
        else:
            # A valid prompt and model stand in for the others; only ``field`` is judged.
            options: dict[str, Any] = {"model": DEFAULT_MODEL, field: value}
            GenerateImageRequest.create("x", **options)
    except InvalidRequestError as err:
        return str(err)
    except TypeError:
        return None
    return None


def _one_error(error: dict[str, Any]) -> str:
    loc = error.get("loc") or ()
    field = str(loc[0]) if loc else "arguments"
    if error.get("type") == "missing":
        if field == "prompt":
            return f"prompt is required: describe the image in 1 to {PROMPT_MAX_CHARS} characters"
        return f"{field} is required"
    words = _core_words(field, error.get("input")) if field in GenerateImageRequest.model_fields else None
    return words or f"{field}: {error.get('msg', 'invalid value')}"


def format_validation_error(err: ValidationError | ValidationErrorV1) -> str:
    """Bad tool arguments as one message naming each field and what it allows.

    Used as ``handle_validation_error``: the model gets this text back as an error
    ToolMessage and can call the tool again with fixed arguments.
    """
    lines = list(dict.fromkeys(_one_error(dict(e)) for e in err.errors()))
    return "Invalid arguments: " + "; ".join(lines) + ". Fix them and call the tool again."
