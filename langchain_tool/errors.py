"""How failures reach the agent: service errors and bad arguments as text a model can act on."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import ToolException
from pydantic import ValidationError
from pydantic.v1 import ValidationError as ValidationErrorV1

from milady_integrations.errors import MiladyError
from milady_integrations.request import FIELDS, field_problems

__all__ = ["format_validation_error", "to_tool_exception"]

#: How this face lets a newer model through.
UNLISTED = "create the tool with allow_unlisted_models=True"


def to_tool_exception(err: MiladyError) -> ToolException:
    """THE translation of a core error for LangChain: its one line, unchanged.

    With ``handle_tool_error=True`` the agent reads this text as the ToolMessage
    (status "error") and can react, instead of the run crashing.
    """
    return ToolException(str(err))


def format_validation_error(err: ValidationError | ValidationErrorV1) -> str:
    """Bad tool arguments as one message naming each field and what it allows, in the core's words.

    Used as ``handle_validation_error``: the model gets this text back as an error
    ToolMessage and can call the tool again with fixed arguments.
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
    core = {p.field: p.text(unlisted=UNLISTED) for p in field_problems(judged, check_source=False)}
    lines = [f"{name} is required" + (f": {FIELDS[name].description}" if name in FIELDS else "") for name in missing]
    lines += [core.get(name) or f"{name}: {message}" for name, (_, message) in given.items()]
    return "Invalid arguments: " + "; ".join(dict.fromkeys(lines)) + ". Fix them and call the tool again."
