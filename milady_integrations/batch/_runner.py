"""Running a checked batch: concurrent, rate-aware, resumable."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from .._config import RECOVER_FOR
from ..client import AsyncMiladyClient
from ..errors import (
    AuthenticationError,
    MiladyError,
    MiladyTimeoutError,
    RateLimitError,
    UnexpectedResponseError,
)
from ..images import write_image
from ..offline import TEMPORARY_URLS_NOTE
from ..schema import (
    ImageGenerationResult,
)
from ._input import BatchLine
from ._manifest import Manifest
from ._progress import BatchProgress
from ._rate import RateGate

#: How many times one line may meet a rate limit (after the client's own retries) before it fails.
MAX_RATE_LIMIT_ROUNDS = 20


@dataclass(frozen=True)
class LineOutcome:
    """What happened to one line; the manifest record is made from it."""

    line: BatchLine
    status: str  # "done" | "failed"
    files: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    requested: int = 0
    returned: int = 0
    credits: float | None = None
    error: MiladyError | None = None
    #: The URLs stop working when the command ends (an in-process local server served them).
    urls_temporary: bool = False

    @property
    def credits_note(self) -> str | None:
        """Why ``credits`` is null: never a guess passed off as a cost."""
        if self.credits is not None:
            return None
        if self.returned:
            return "not reported: the service's answer did not say what this request cost"
        if isinstance(self.error, (MiladyTimeoutError, UnexpectedResponseError)) or getattr(
            self.error, "may_have_run", False
        ):
            return "unknown: the request was sent and may have been billed"
        return "none billed: the service generated nothing for this request"

    def record(self) -> dict[str, Any]:
        return {
            "line": self.line.number,
            "id": self.line.id,
            "prompt_hash": self.line.key,
            "status": self.status,
            "files": self.files,
            "urls": self.urls,
            "request_ids": self.request_ids,
            "requested": self.requested,
            "returned": self.returned,
            "credits": self.credits,
            "credits_note": self.credits_note,
            "urls_temporary": self.urls_temporary,
            "urls_note": TEMPORARY_URLS_NOTE if self.urls_temporary and self.urls else None,
            "error": None
            if self.error is None
            else {"type": type(self.error).__name__, "status": self.error.status_code, "message": str(self.error)},
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }


@dataclass
class BatchSummary:
    """Counts for the end of a run (this run's work plus what an earlier run had done)."""

    total: int
    skipped: int = 0
    done: int = 0
    partial: int = 0
    failed: list[LineOutcome] = field(default_factory=list)
    images: int = 0
    credits: float | None = None
    credits_unknown: int = 0
    balance_before: float | None = None
    balance_after: float | None = None
    rate_limited: int = 0
    stopped: str | None = None  # why lines were left unstarted, if they were
    elapsed: float = 0.0
    urls_temporary: bool = False

    @property
    def not_started(self) -> int:
        return self.total - self.skipped - self.done - len(self.failed)

    @property
    def ok(self) -> bool:
        return not self.failed and self.not_started == 0

    def lines(self) -> list[str]:
        """The summary a person reads at the end."""
        text = [
            f"{self.total} lines: {self.done} done now, {self.skipped} done before (skipped), "
            f"{len(self.failed)} failed, {self.not_started} not started ({self.elapsed:.1f} s)"
        ]
        extra = f", {self.partial} of them with fewer images than asked" if self.partial else ""
        text.append(f"{self.images} images written{extra}")
        if self.credits is not None:
            unknown = f" ({self.credits_unknown} more lines did not say)" if self.credits_unknown else ""
            text.append(f"credits: {self.credits:.4g} billed for this run's lines, as the service reported{unknown}")
        elif self.credits_unknown:
            text.append(f"credits: the service did not report what the {self.credits_unknown} finished lines cost")
        if self.balance_before is not None and self.balance_after is not None:
            # A difference of two readings: anything else using this key meanwhile counts in it too.
            text.append(
                f"balance: {self.balance_before:.4g} -> {self.balance_after:.4g}, down "
                f"{self.balance_before - self.balance_after:.4g} (two readings: any other use of this key "
                "during the run counts too)"
            )
        if self.urls_temporary:
            text.append(f"note: {TEMPORARY_URLS_NOTE} (listed in the manifest)")
        if self.rate_limited:
            text.append(f"rate limited {self.rate_limited} times: concurrency was lowered and requests waited")
        for outcome in self.failed:
            text.append(f"  failed line {outcome.line.number} ({outcome.line.id}): {outcome.error}")
        if self.stopped:
            text.append(f"stopped early: {self.stopped}")
        return text


ProgressCallback = Callable[["BatchProgress"], None]


async def _balance(client: AsyncMiladyClient) -> float | None:
    try:
        return await client.credits_balance()
    except MiladyError:
        return None  # some keys cannot read the balance; the sum of costs still shows


async def _acquire_unless_stopped(gate: RateGate, stop: asyncio.Event | None) -> bool:
    """A slot to send in, or False once ``stop`` is set (a worker waiting for a slot never sends after Ctrl-C)."""
    if stop is None:
        await gate.acquire()
        return True
    if stop.is_set():
        return False
    acquiring = asyncio.ensure_future(gate.acquire())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not acquiring.done():
            acquiring.cancel()
            await asyncio.gather(acquiring, return_exceptions=True)
    got = acquiring.done() and not acquiring.cancelled() and acquiring.exception() is None
    if got and stop.is_set():
        gate.release(succeeded=False)  # both at once: stopping wins, the slot goes back
        return False
    return got


async def _run_line(
    client: AsyncMiladyClient,
    gate: RateGate,
    line: BatchLine,
    out_dir: Path,
    allow_unlisted_model: bool,
    stop: asyncio.Event | None = None,
    urls_temporary: bool = False,
) -> LineOutcome | None:
    """The line's outcome, or None when it was stopped before anything was sent."""
    request = line.request(allow_unlisted_model=allow_unlisted_model)
    result: ImageGenerationResult | None = None
    limited: RateLimitError | None = None
    for _ in range(MAX_RATE_LIMIT_ROUNDS):
        if not await _acquire_unless_stopped(gate, stop):
            return None
        try:
            result = await client.send(request)
        except RateLimitError as exc:
            gate.release(succeeded=False)
            # Past the client's own retries: the hook already counted it; wait, then try again.
            gate.rate_limited_for(exc.retry_after, count=False)
            limited = exc
            continue
        except MiladyError as exc:
            gate.release(succeeded=False)
            return LineOutcome(line, "failed", requested=request.num_images, error=exc)
        except BaseException:
            gate.release(succeeded=False)
            raise
        gate.release(succeeded=True)
        break
    if result is None:
        return LineOutcome(line, "failed", requested=request.num_images, error=limited)

    files: list[str] = []
    error: MiladyError | None = None
    try:
        datas = await client.read_images(result)
    except MiladyError as exc:
        datas, error = [], exc
    for index, data in enumerate(datas, start=1):
        # Atomic: an interruption leaves the whole file or none of it.
        files.append(write_image(out_dir / f"{line.stem}-{index}", data).name)
    return LineOutcome(
        line,
        "failed" if error else "done",
        files=files,
        urls=result.urls,
        request_ids=list(result.request_ids),
        requested=result.requested,
        returned=result.returned,
        credits=result.cost,
        error=error,
        urls_temporary=urls_temporary,
    )


async def run_batch(
    lines: Iterable[BatchLine],
    out_dir: str | Path,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int = 4,
    allow_unlisted_model: bool = False,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    client_options: Mapping[str, Any] | None = None,
    urls_temporary: bool = False,
) -> BatchSummary:
    """Run every line not already done in ``out_dir``'s manifest; return the summary.

    ``stop`` set: no new line starts (a worker waiting for a slot gives its line back
    unsent), lines in flight finish and are recorded. ``urls_temporary``: the service is an
    in-process local server whose URLs end with the command; the manifest and summary say so.
    Cancelling the task stops at once; every record in the manifest stays true
    (a line is recorded only after all its files are written).
    """
    started = time.monotonic()
    out = Path(out_dir)
    manifest = Manifest.open(out)
    all_lines = list(lines)
    done = manifest.done_keys()
    todo = deque(line for line in all_lines if (line.id, line.key) not in done)
    summary = BatchSummary(
        total=len(all_lines), skipped=len(all_lines) - len(todo), urls_temporary=urls_temporary and bool(todo)
    )
    state = BatchProgress(total=len(all_lines), finished=summary.skipped, max_concurrency=max(1, concurrency))
    gate = RateGate(concurrency)
    costs: list[float] = []

    def report() -> None:
        state.concurrency, state.waiting = gate.limit, gate.wait_left
        if progress is not None:
            progress(state)

    report()
    if not todo:
        manifest.close()
        summary.elapsed = time.monotonic() - started
        return summary

    # Our own httpx client, so the gate sees every answer's rate-limit headers (429s the
    # client retries by itself, and X-RateLimit-Remaining on successes).
    http = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        event_hooks={"response": [gate.observe]},
    )
    # A line that may have run is found in the gallery, not sent again.
    options = {"recover_for": RECOVER_FOR, **dict(client_options or {})}
    client = AsyncMiladyClient(api_key=api_key, base_url=base_url, http_client=http, **options)

    def record(outcome: LineOutcome) -> None:
        manifest.append(outcome.record())
        state.finished += 1
        state.images += len(outcome.files)
        summary.images += len(outcome.files)
        if outcome.status == "done":
            summary.done += 1
            summary.partial += outcome.returned < outcome.requested
        else:
            summary.failed.append(outcome)
            state.failed += 1
        if outcome.credits is not None:
            costs.append(outcome.credits)
        elif outcome.returned:
            summary.credits_unknown += 1
        report()

    async def worker() -> None:
        while todo and not (stop is not None and stop.is_set()) and summary.stopped is None:
            line = todo.popleft()
            outcome = await _run_line(client, gate, line, out, allow_unlisted_model, stop, urls_temporary)
            if outcome is None:
                return  # stopped before sending: the line stays "not started"
            record(outcome)
            if isinstance(outcome.error, AuthenticationError):
                summary.stopped = f"the key was refused ({outcome.error.message})"

    async def ticker() -> None:
        while True:  # keeps a rate-limit countdown moving while nothing finishes
            await asyncio.sleep(0.5)
            report()

    tick = asyncio.create_task(ticker())
    try:
        summary.balance_before = await _balance(client)
        # More workers than the gate allows, so downloads do not hold back the next request.
        workers = [asyncio.create_task(worker()) for _ in range(min(len(todo), gate.max + math.ceil(gate.max / 2)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        if summary.done or summary.failed:
            summary.balance_after = await _balance(client)
        if summary.balance_after is None:
            summary.balance_before = None
        if stop is not None and stop.is_set() and summary.not_started:
            summary.stopped = summary.stopped or "interrupted"
    finally:
        tick.cancel()
        manifest.close()
        await client.aclose()
        await http.aclose()
        summary.rate_limited = gate.rate_limited
        summary.credits = sum(costs) if costs else None
        summary.elapsed = time.monotonic() - started
        report()
    return summary
