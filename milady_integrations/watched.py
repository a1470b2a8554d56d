"""A generation someone watches: sent, waited for with progress, its images read, and one line for
however it ends (done, partly read, failed, or cancelled before or after the service had the request).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from .calls import read_what_came, unread_note
from .client import AsyncMiladyClient
from .errors import MiladyError
from .progress import Tick, interruptible, wait_with_progress
from .results import ImageGenerationResult
from .wording import CANCELLED_MAY_BILL, outcome_line

__all__ = ["WatchedRun"]


class WatchedRun:
    """One run's clock and how far it got. ``gallery`` names what loads its images again (a node, a tool)."""

    def __init__(self, gallery: str = "your gallery") -> None:
        self.gallery = gallery
        self.started = time.monotonic()
        self.sent = self.answered = False

    async def generate(
        self,
        client: AsyncMiladyClient,
        send: Callable[[], Awaitable[ImageGenerationResult]],
        *,
        images: int,
        model: str,
        show: Callable[[Tick], object],
        on_answer: Callable[[ImageGenerationResult], object],
        interrupt: Callable[[], None] | None = None,
        on_read: Callable[[bytes], Awaitable[object]] | None = None,
    ) -> tuple[ImageGenerationResult, list[bytes], list[MiladyError]]:
        """The result, the bytes of every image that could be read, and why the others could not.

        ``interrupt`` (if any) is asked before sending too (a cancel already asked for sends nothing),
        then as ``wait_with_progress`` asks it. ``on_answer`` hears the result before any image is read:
        what was billed is known even when no image can be read.
        """
        if interrupt is not None:
            interrupt()
        self.sent = True  # from here the request may reach the service
        result = await wait_with_progress(
            send(), images=images, model=model, show=show, client=client, interrupt=interrupt
        )
        self.answered = True
        on_answer(result)
        # Paid for: the images that do arrive are kept, the others named.
        reading = read_what_came(client, result, on_read)
        datas, unread = await (reading if interrupt is None else interruptible(reading, interrupt))
        return result, datas, unread

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def done_line(self, result: ImageGenerationResult, unread: Sequence[MiladyError], where: str) -> str:
        """``outcome_line``, and the images that could not be read (their URLs are in ``where``)."""
        line = outcome_line(result, self.elapsed)
        return f"{line}; {unread_note(unread, where=where)}" if unread else line

    @property
    def _billed(self) -> str:
        return f"the images were billed and are in your gallery ({self.gallery} loads them)"

    def failed_line(self, error: MiladyError) -> str:
        """``failed after 3 s: <the error>``; after the service answered, also that the images were billed."""
        line = f"failed after {self.elapsed:.0f} s: {error}"
        return f"{line}; {self._billed}" if self.answered else line

    def stopped_line(self, cancelled: bool) -> str:
        """``cancelled after 12 s``, and what may have been billed by then and where it is."""
        line = f"{'cancelled' if cancelled else 'stopped'} after {self.elapsed:.0f} s"
        if self.answered:
            return f"{line}; {self._billed}"
        return f"{line}; {CANCELLED_MAY_BILL} ({self.gallery} loads it)" if self.sent else line
