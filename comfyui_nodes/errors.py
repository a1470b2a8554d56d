"""The one place a core error becomes what ComfyUI shows in its error dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from milady_integrations import MiladyError

__all__ = ["MiladyNodeError", "to_comfy_error"]


class MiladyNodeError(RuntimeError):
    """A failed Milady request, as ComfyUI reports it: the text is the shared message.

    ComfyUI's dialog prints ``str(exception)``; the original error stays on
    ``__cause__`` and its details (status, hint, request id) on this object.
    """

    def __init__(self, error: MiladyError) -> None:
        super().__init__(str(error))
        self.error = error
        self.status_code = error.status_code
        self.hint = error.hint
        self.request_id = error.request_id


def to_comfy_error(err: MiladyError) -> Exception:
    """The exception to raise from a node for ``err``: same text as ``str(err)``, never a placeholder."""
    converted = MiladyNodeError(err)
    converted.__cause__ = err
    return converted
