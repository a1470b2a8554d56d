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
from ..errors import AuthenticationError, MiladyError, RateLimitError
from ..images import write_image
from ..offline import TEMPORARY_URLS_NOTE
from ._input import BatchLine
from ._manifest import Manifest
from ._rate import RateGate


@dataclass(frozen=True)
class LineOutcome:
    """What happened to one line; its manifest record is made from it."""

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
        if self.error is not None and self.error.may_have_run:
            return "unknown: the request was sent and may have been billed"
        return "none billed: the service generated nothing for this request"

    def record(self) -> dict[str, Any]:
        error, line = self.error, self.line
        kept = ("status", "files", "urls", "request_ids", "requested", "returned", "credits", "credits_note")
        return {
            **{"line": line.number, "id": line.id, "prompt_hash": line.key},
            **{name: getattr(self, name) for name in kept},
            "urls_temporary": self.urls_temporary,
            "urls_note": TEMPORARY_URLS_NOTE if self.urls_temporary and self.urls else None,
            "error": error and {"type": type(error).__name__, "status": error.status_code, "message": str(error)},
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }


@dataclass
class BatchSummary:
    """The run's counts (this run's work plus what an earlier run did); progress displays read it too."""

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
    concurrency: int = 0  # what the rate gate allows now
    max_concurrency: int = 0
    waiting: float = 0.0  # seconds left of a rate-limit pause

    @property
    def finished(self) -> int:
        return self.skipped + self.done + len(self.failed)

    @property
    def not_started(self) -> int:
        return self.total - self.finished

    @property
    def ok(self) -> bool:
        return not self.failed and self.not_started == 0

    def lines(self) -> list[str]:
        """The summary a person reads at the end."""
        partial = f", {self.partial} of them with fewer images than asked" if self.partial else ""
        text = [
            f"{self.total} lines: {self.done} done now, {self.skipped} done before (skipped), "
            f"{len(self.failed)} failed, {self.not_started} not started ({self.elapsed:.1f} s)",
            f"{self.images} images written{partial}",
        ]
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
        text += [f"  failed line {o.line.number} ({o.line.id}): {o.error}" for o in self.failed]
        return text + [f"stopped early: {self.stopped}"] * bool(self.stopped)


async def _balance(client: AsyncMiladyClient) -> float | None:
    try:
        return await client.credits_balance()
    except MiladyError:
        return None  # some keys cannot read the balance; the sum of costs still shows


async def run_batch(
    lines: Iterable[BatchLine],
    out_dir: str | Path,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int = 4,
    allow_unlisted_model: bool = False,
    progress: Callable[[BatchSummary], None] | None = None,
    stop: asyncio.Event | None = None,
    client_options: Mapping[str, Any] | None = None,
    urls_temporary: bool = False,
) -> BatchSummary:
    """Run every line not already done in ``out_dir``'s manifest; return the summary.

    ``stop`` set: no new line starts (a line waiting for a slot goes back unsent), lines in
    flight finish and are recorded. ``urls_temporary``: the service is an in-process local
    server whose URLs end with the command; the manifest and summary say so. Cancelling the
    task stops at once; the manifest stays true (a line is recorded after all its files).
    """
    started, out = time.monotonic(), Path(out_dir)
    manifest = Manifest.open(out)
    all_lines, done = list(lines), manifest.done_keys()
    todo = deque(line for line in all_lines if (line.id, line.key) not in done)
    summary = BatchSummary(len(all_lines), len(all_lines) - len(todo), urls_temporary=urls_temporary and bool(todo))
    gate = RateGate(concurrency)
    summary.max_concurrency = gate.max
    costs: list[float] = []

    def report() -> None:
        summary.concurrency, summary.waiting = gate.limit, gate.wait_left
        summary.elapsed = time.monotonic() - started
        if progress is not None:
            progress(summary)

    def record(outcome: LineOutcome) -> None:
        manifest.append(outcome.record())
        summary.images += len(outcome.files)
        if outcome.status == "done":
            summary.done += 1
            summary.partial += outcome.returned < outcome.requested
        else:
            summary.failed.append(outcome)
        if outcome.credits is not None:
            costs.append(outcome.credits)
        elif outcome.returned:
            summary.credits_unknown += 1
        # Every other line would fail the same way: start no more.
        if isinstance(outcome.error, AuthenticationError):
            summary.stopped = f"the key was refused ({outcome.error.message})"
        elif isinstance(outcome.error, RateLimitError):
            summary.stopped = "rate limited for longer than the batch waits: run the same command again later"
        if summary.stopped:
            gate.close()
        report()

    # Our own httpx client, so the gate sees X-RateLimit-Remaining on every answer.
    http = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16), event_hooks={"response": [gate.observe]}
    )
    # A line that may have run is found in the gallery, not sent again; a 429 is the gate's alone.
    options = {"recover_for": RECOVER_FOR, **dict(client_options or {}), "retry_rate_limits": False}
    client = AsyncMiladyClient(api_key=api_key, base_url=base_url, http_client=http, **options)
    gate.max_wait = client.config.max_retry_wait

    async def run_line(line: BatchLine) -> LineOutcome | None:
        """The line's outcome, or None when it was stopped before anything was sent."""
        request = line.request(allow_unlisted_model=allow_unlisted_model)
        try:
            result = await gate.send(lambda: client.send(request), stop)
        except MiladyError as exc:
            return LineOutcome(line, "failed", requested=request.num_images, error=exc)
        if result is None:
            return None
        error: MiladyError | None = None
        try:
            datas = await client.read_images(result)
        except MiladyError as exc:
            datas, error = [], exc
        # Atomic: an interruption leaves each whole file or none of it.
        files = [write_image(out / f"{line.stem}-{n}", data).name for n, data in enumerate(datas, start=1)]
        return LineOutcome(
            line, "failed" if error else "done", files, urls=result.urls, request_ids=list(result.request_ids),
            requested=result.requested, returned=result.returned, credits=result.cost, error=error,
            urls_temporary=urls_temporary,
        )

    async def worker() -> None:
        while todo and not gate.closed and not (stop is not None and stop.is_set()):
            outcome = await run_line(todo.popleft())
            if outcome is None:
                return  # stopped before sending: the line stays "not started"
            record(outcome)

    async def ticker() -> None:
        while True:  # keeps a rate-limit countdown moving while nothing finishes
            report()
            await asyncio.sleep(0.5)

    tick = asyncio.create_task(ticker())
    try:
        if todo:
            summary.balance_before = await _balance(client)
            # More workers than the gate allows, so downloads do not hold back the next request.
            workers = [asyncio.create_task(worker()) for _ in range(min(len(todo), math.ceil(gate.max * 1.5)))]
            try:
                await asyncio.gather(*workers)
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
            summary.balance_after = await _balance(client) if summary.done or summary.failed else None
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
        report()
    return summary
