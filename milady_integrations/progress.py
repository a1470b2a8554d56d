"""Waiting for a generation, said the same way by every face: a line of text, a bar, the cost.

A face passes ``show``, which puts a ``Tick`` into its framework (ComfyUI's bar and text,
``gr.Progress``, an MCP progress notification). The estimate of the time left comes from
recent runs of the model in this process, the estimated cost from the service's prices.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from .durations import RecentDurations
from .wording import waiting_line

if TYPE_CHECKING:
    from .client import AsyncMiladyClient

__all__ = ["RECENT", "WAIT_SHARE", "Tick", "estimated_cost", "interruptible", "wait_fraction", "wait_with_progress"]

logger = logging.getLogger("milady_integrations")
T = TypeVar("T")

#: Every face in this process learns from every run: "~8 s left" and the bar's pace.
RECENT = RecentDurations()
#: How often ``interrupt`` is asked while waiting (ComfyUI's Cancel answers within this).
POLL_SECONDS = 0.1
#: A whole bar's share for the wait; reading the images fills the rest.
WAIT_SHARE = 0.9
#: The longest the price look-up may take; the run never waits for it.
PRICE_TIMEOUT = 5.0
#: With no recent run of the model to go by, the bar is half way after this many seconds.
UNKNOWN_HALF_SECONDS = 20.0
#: The bar never fills before the answer comes.
WAIT_CEILING = 0.95
#: Where the bar is at the expected time; a slower run creeps on from there instead of stopping.
ON_TIME = 0.8


@dataclass(frozen=True)
class Tick:
    """One moment of the wait: ``text`` is "Generating 4 images with <model>: 12 s (~8 s left) · estimated …"."""

    elapsed: float
    fraction: float  # of the wait, 0 to WAIT_CEILING: toward the expected time
    text: str


def wait_fraction(elapsed: float, expected: float | None) -> float:
    """How far into the wait: steadily to ON_TIME at the expected duration, then ever slower, never full."""
    if not expected:
        return WAIT_CEILING * elapsed / (elapsed + UNKNOWN_HALF_SECONDS)
    if elapsed <= expected:
        return ON_TIME * elapsed / expected
    late = elapsed - expected
    return ON_TIME + (WAIT_CEILING - ON_TIME) * late / (late + expected)


def _credits(amount: float) -> str:
    return f"{round(amount, 4):g} credits"


async def _price_advice(ask: Awaitable[T]) -> T | None:
    """What the service says of a price, or None when it fails or is slow: an estimate never holds up a run."""
    try:
        return await asyncio.wait_for(ask, PRICE_TIMEOUT)
    except Exception as exc:  # best effort: whatever goes wrong, the run goes on without this estimate
        logger.debug("no price estimate: %s", exc)
        return None


async def estimated_cost(client: AsyncMiladyClient, model: str, images: int) -> str | None:
    """ "estimated 0.096 credits" (the model's price) or, when the service does not give it, "estimated
    0.02-0.1 credits" (the service's range). None when the service says neither, or is slow to say it."""
    price = await _price_advice(client.estimated_price(model))
    if price is not None:
        return f"estimated {_credits(price * images)}"
    span = await _price_advice(client.price_range())
    if span is not None:
        return f"estimated {round(span.min * images, 4):g}-{_credits(span.max * images)}"
    return None


def _finished(estimate: asyncio.Future[str | None] | None) -> str | None:
    if estimate is None or not estimate.done() or estimate.cancelled() or estimate.exception() is not None:
        return None
    return estimate.result()


async def wait_with_progress(
    work: Awaitable[T],
    *,
    images: int,
    model: str,
    show: Callable[[Tick], object],
    client: AsyncMiladyClient | None = None,
    interrupt: Callable[[], None] | None = None,
) -> T:
    """Await ``work`` (a generation of ``images`` with ``model``), showing a ``Tick`` when its text changes.

    That is about once a second, and when the cost estimate arrives (asked of ``client``
    when given). ``show`` may be async. ``interrupt`` is called every ``POLL_SECONDS``;
    whatever it raises cancels ``work`` (the HTTP request) and propagates. The duration
    of a finished run teaches ``RECENT``.
    """
    task = asyncio.ensure_future(work)
    estimate = asyncio.ensure_future(estimated_cost(client, model, images)) if client is not None else None
    expected = RECENT.expected(model)
    started = time.monotonic()
    shown = ""
    try:
        while True:
            elapsed = time.monotonic() - started
            cost = _finished(estimate)
            text = waiting_line(images, model, elapsed, expected) + (f" · {cost}" if cost else "")
            if text != shown:
                shown = text
                reply = show(Tick(elapsed, wait_fraction(elapsed, expected), text))
                if inspect.isawaitable(reply):
                    await reply
            if interrupt is not None:
                interrupt()
            done, _ = await asyncio.wait({task}, timeout=POLL_SECONDS)
            if done:
                result = task.result()
                RECENT.record(model, time.monotonic() - started)
                return result
    finally:
        if estimate is not None:
            estimate.cancel()
        if not task.done():
            task.cancel()  # the HTTP request stops; the service may still finish (and bill) it
            await asyncio.gather(task, return_exceptions=True)


async def interruptible(work: Awaitable[T], interrupt: Callable[[], None]) -> T:
    """Await ``work`` (a download, a gallery look-up) with no text, ``interrupt`` asked as in ``wait_with_progress``."""
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            interrupt()
            await asyncio.wait({task}, timeout=POLL_SECONDS)
        return task.result()
    finally:
        task.cancel()  # nothing when done; else it stops here, as in wait_with_progress
        await asyncio.gather(task, return_exceptions=True)
