"""The ComfyUI hooks the nodes use: the V3 API, the interrupt flag, the progress bar and text.

Each is imported when used and skipped when absent, so the nodes also run outside
ComfyUI (scripts, tests with stand-ins).
"""

from __future__ import annotations

import asyncio
import importlib
import io
import logging
from types import ModuleType
from typing import Any

logger = logging.getLogger("comfyui_nodes")

#: The versioned V3 API the pack is written against (``latest`` may change under it).
V3_MODULE = "comfy_api.v0_0_2"
#: What the pack uses of it; a ComfyUI whose V3_MODULE lacks any of these gets the classic nodes.
V3_NAMES = {
    "": ("io", "ui", "ComfyExtension"),
    "io": ("ComfyNode", "Schema", "NodeOutput", "Hidden", "Combo", "Int", "String", "Image", "Mask"),
    "ui": ("PreviewImage",),
}
#: The bar's scale: waiting fills the first WAIT_STEPS, reading the images the rest.
BAR_STEPS, WAIT_STEPS = 100, 90
#: Longest side of the picture shown on the bar (ComfyUI's default preview size).
PREVIEW_SIZE = 512


def v3_api() -> ModuleType | None:
    """ComfyUI's V3 node API when it has everything the pack uses, else None (features, not versions:
    V3_MODULE existed a few days before its ``io`` schema did)."""
    try:
        api = importlib.import_module(V3_MODULE)
    except Exception:  # not ComfyUI, an older one, or a broken install: the classic nodes still work
        return None
    for holder, names in V3_NAMES.items():
        where = getattr(api, holder, None) if holder else api
        if where is None or not all(hasattr(where, name) for name in names):
            return None
    return api


def interrupt() -> None:
    """Raise ComfyUI's own interrupt exception (it clears the flag) once the user pressed Cancel."""
    try:
        import comfy.model_management as mm
    except ImportError:
        return
    mm.throw_exception_if_processing_interrupted()


def _thumbnail(data: bytes) -> Any:
    """A small RGB picture for the bar; None if it does not decode (stacking reports that)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))
            small = picture.convert("RGB")
    except Exception:  # a preview is best effort
        return None
    small.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    return small


class Progress:
    """One node run's bar (climbing while waiting, then per image read) and its line of text."""

    def __init__(self, node_id: str | None, images: int) -> None:
        self.node_id, self.images, self.read, self.value = node_id, images, 0, 0
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
        if (value > self.value or preview is not None) and self._bar is not None:
            self.value = max(value, self.value)
            self._bar.update_absolute(self.value, BAR_STEPS, preview)

    def waiting(self, tick: Any) -> None:
        """Show a ``milady_integrations.progress.Tick``."""
        self._show(int(WAIT_STEPS * tick.fraction))
        self.text(tick.text)

    async def image_read(self, data: bytes) -> None:
        """One more image arrived: the bar steps and shows it, as ComfyUI's samplers do."""
        small = await asyncio.to_thread(_thumbnail, data)
        self.read += 1
        self._show(
            WAIT_STEPS + (BAR_STEPS - WAIT_STEPS) * self.read // max(self.images, 1),
            None if small is None else ("JPEG", small, PREVIEW_SIZE),
        )

    def text(self, message: str) -> None:
        """``Milady: <message>`` under the node (ComfyUI versions without progress text just log it)."""
        logger.debug("node %s: %s", self.node_id, message)
        try:
            from server import PromptServer
        except ImportError:
            return
        send = getattr(getattr(PromptServer, "instance", None), "send_progress_text", None)
        if send is not None and self.node_id is not None:
            send(f"Milady: {message}", self.node_id)
