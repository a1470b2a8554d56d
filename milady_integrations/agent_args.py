"""An agent's arguments (LangChain's, MCP's) as pydantic types and fields, from ``request.FIELDS``: plain
``Literal`` choices and bounded numbers, so every provider makes an inline schema without ``$ref`` or ``anyOf``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from .request import FIELDS
from .wording import field_help, source_kinds

__all__ = ["agent_description", "agent_field", "agent_type"]


def agent_description(name: str, *, allow_paths: bool = False) -> str:
    """A request field's description for an agent: the model's names each choice, the source's says what it may be."""
    if name == "source_image":
        kinds = source_kinds(allow_paths)
        return f"Optional image to transform (image-to-image): {kinds}. Leave it out to draw from the prompt alone."
    return field_help(name, FIELDS[name].description)


def agent_type(name: str) -> Any:
    """The argument's type: a ``Literal`` of the declared choices, a whole number, or text."""
    spec = FIELDS[name]
    if name == "source_image":
        return str | SkipJsonSchema[None]  # type: ignore[misc]  # optional; no "null" for the model to send
    if spec.choices is not None:
        choice: Any = Literal  # a Literal of the declared choices, built at run time
        return choice[spec.choices]
    return int if spec.minimum is not None else str


def agent_field(name: str, *, allow_paths: bool = False, **more: Any) -> Any:
    """The argument's pydantic ``Field``: its description for an agent and its bounds (``more``: a default)."""
    spec = FIELDS[name]
    bounds: dict[str, Any] = {}
    if spec.minimum is not None:
        # Strict: lax mode would read true as 1 and "2" or 2.0 as 2; the schema says integer and the
        # core refuses them, so the model is told (and learns) rather than silently coerced.
        bounds = {"ge": spec.minimum, "le": spec.maximum, "strict": True}
    elif spec.max_length is not None and name != "source_image":
        bounds = {"min_length": 1, "max_length": spec.max_length}  # an empty prompt is refused
    # source_image has no bounds: an empty one is no source, and one over the service's limit is shrunk.
    return Field(description=agent_description(name, allow_paths=allow_paths), **bounds, **more)
