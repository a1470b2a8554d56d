"""The few ComfyUI hooks the node uses: interrupt flag, progress bar, progress text.

Each is imported when used and skipped when absent, so the node's code also runs
outside ComfyUI (scripts, tests with stand-ins).
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

logger = logging.getLogger("comfyui_nodes")


def interrupt_requested() -> bool:
    """True once the user pressed Cancel (ComfyUI's global interrupt flag)."""
    try:
        import comfy.model_management as mm
    except ImportError:
        return False
    return bool(mm.processing_interrupted())


def raise_interrupted() -> NoReturn:
    """Raise ComfyUI's own interrupt exception (it clears the flag), not a generic error."""
    import comfy.model_management as mm

    mm.throw_exception_if_processing_interrupted()
    # Someone else cleared the flag between our check and now: still an interrupt.
    raise mm.InterruptProcessingException()


class NodeProgress:
    """Progress of one node run: a bar advancing per image and a line of text on the node."""

    def __init__(self, node_id: str | None, total: int) -> None:
        self.node_id = node_id
        self.total = total
        self.done = 0
        self._bar: Any = None
        try:
            from comfy.utils import ProgressBar
        except ImportError:
            return
        try:
            self._bar = ProgressBar(total, node_id=node_id)
        except TypeError:  # ComfyUI before progress bars knew their node
            self._bar = ProgressBar(total)

    def advance(self) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update_absolute(self.done, self.total)

    def text(self, message: str) -> None:
        """Show ``message`` under the node (ComfyUI versions without progress text just log it)."""
        logger.debug("node %s: %s", self.node_id, message)
        if self.node_id is None:
            return
        try:
            from server import PromptServer
        except ImportError:
            return
        instance = getattr(PromptServer, "instance", None)
        send = getattr(instance, "send_progress_text", None)
        if send is not None:
            send(message, self.node_id)
