"""The one place a core error becomes what ComfyUI shows in its error dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from milady_integrations import MiladyError

__all__ = ["MiladyNodeError", "to_comfy_error"]


class MiladyNodeError(RuntimeError):
    """A failed Milady request: ComfyUI's dialog prints ``str()``, the shared message; the error is ``__cause__``."""


def to_comfy_error(err: MiladyError) -> MiladyNodeError:
    """The exception a node raises for ``err``: the same text as ``str(err)``, never a placeholder image."""
    converted = MiladyNodeError(str(err))
    converted.__cause__ = err
    return converted
