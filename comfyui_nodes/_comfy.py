"""The few ComfyUI hooks the node uses: interrupt flag, progress bar, progress text.

Each is imported when used and skipped when absent, so the node's code also runs
outside ComfyUI (scripts, tests with stand-ins).
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any, NoReturn

logger = logging.getLogger("comfyui_nodes")


#: The versioned V3 API the pack is written against (``latest`` may change under it).
V3_MODULE = "comfy_api.v0_0_2"
#: What the pack uses of it; a ComfyUI whose V3_MODULE lacks any of these gets the classic nodes.
V3_NAMES = {
    "": ("io", "ui", "ComfyExtension"),
    "io": ("ComfyNode", "Schema", "NodeOutput", "Hidden", "Combo", "Int", "String", "Image", "Mask"),
    "ui": ("PreviewImage",),
}


def v3_api() -> ModuleType | None:
    """ComfyUI's V3 node API when it has everything the pack uses, else None (the classic API then).

    Features, not version numbers: V3_MODULE existed a few days before its ``io`` schema did.
    """
    try:
        api = importlib.import_module(V3_MODULE)
    except Exception:  # not ComfyUI, an older one, or a broken install: the classic nodes still work
        return None
    for holder, names in V3_NAMES.items():
        where = getattr(api, holder, None) if holder else api
        if where is None or not all(hasattr(where, name) for name in names):
            return None
    return api


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


#: The bar's scale: waiting fills the first WAIT_STEPS, reading the images the rest.
BAR_STEPS = 100
WAIT_STEPS = 90
#: With no recent run of a model to go by, the bar is half way (of waiting) after this many seconds.
UNKNOWN_HALF_SECONDS = 20.0
#: Longest side of the preview shown on the bar (ComfyUI's default preview size).
PREVIEW_SIZE = 512


def wait_fraction(elapsed: float, expected: float | None) -> float:
    """How far the bar is into the wait: toward the expected time, never full before the answer."""
    if expected:
        return min(elapsed / expected, 0.95)
    return elapsed / (elapsed + UNKNOWN_HALF_SECONDS)


class NodeProgress:
    """Progress of one node run: a bar that climbs while waiting and per image read, and a line of text."""

    def __init__(self, node_id: str | None, images: int) -> None:
        self.node_id = node_id
        self.images = images
        self.read = 0
        self.value = 0
        self._bar: Any = None
        try:
            from comfy.utils import ProgressBar
        except ImportError:
            return
        try:
            self._bar = ProgressBar(BAR_STEPS, node_id=node_id)
        except TypeError:  # ComfyUI before progress bars knew their node
            self._bar = ProgressBar(BAR_STEPS)

    def _show(self, value: int, preview: Any = None) -> None:
        # Never backwards, and one message per step, not per poll.
        if value <= self.value and preview is None:
            return
        self.value = max(value, self.value)
        if self._bar is not None:
            self._bar.update_absolute(self.value, BAR_STEPS, preview)

    def waiting(self, elapsed: float, expected: float | None) -> None:
        self._show(int(WAIT_STEPS * wait_fraction(elapsed, expected)))

    def image_read(self, preview: Any = None) -> None:
        """One more image arrived; ``preview`` (a PIL image) is shown on the bar, as ComfyUI's samplers do."""
        self.read += 1
        shown = None if preview is None else ("JPEG", preview, PREVIEW_SIZE)
        self._show(WAIT_STEPS + (BAR_STEPS - WAIT_STEPS) * self.read // max(self.images, 1), shown)

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
