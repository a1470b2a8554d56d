"""Running a checked batch: concurrent, rate-aware, resumable."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import httpx

from ..calls import FACE_OPTIONS, read_what_came
from ..client import AsyncMiladyClient
from ..errors import AuthenticationError, MiladyError, RateLimitError
from ..images import write_image
from ..offline import TEMPORARY_URLS_NOTE
from ..results import ImageGenerationResult
from ._input import BatchLine
from ._rate import RateGate

MANIFEST_NAME = "manifest.jsonl"

#: Why ``credits`` is null in a record: never a guess passed off as a cost.
_NOT_REPORTED = "not reported: the service's answer did not say what this request cost"
_UNKNOWN = "unknown: the request was sent and may have been billed"
_NONE_BILLED = "none billed: the service generated nothing for this request"


@dataclass(frozen=True)
class LineOutcome:
    """What happened to one line: the result (None when nothing came back), its files, the error."""

    line: BatchLine
    requested: int
    result: ImageGenerationResult | None = None
    files: list[str] = field(default_factory=list)
    error: MiladyError | None = None

    def record(self, urls_temporary: bool = False) -> dict[str, Any]:
        """The manifest record; ``credits`` is what the service reported, else null and the reason why."""
        result, error, line = self.result, self.error, self.line
        returned, credits, urls = (result.returned, result.cost, result.urls) if result else (0, None, [])
        unbilled = _UNKNOWN if error is not None and error.may_have_run else _NONE_BILLED
        note = None if credits is not None else _NOT_REPORTED if returned else unbilled
        return {
            "line": line.number, "id": line.id, "prompt_hash": line.key, "status": "failed" if error else "done",
            "files": self.files, "urls": urls, "request_ids": list(result.request_ids) if result else [],
            "requested": result.requested if result else self.requested, "returned": returned,
            "credits": credits, "credits_note": note, "urls_temporary": urls_temporary,
            "urls_note": TEMPORARY_URLS_NOTE if urls_temporary and urls else None,
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

    def add(self, outcome: LineOutcome, entry: Mapping[str, Any]) -> None:
        """Count a finished line (``entry``: its manifest record); a refused key or a long 429 stops the run."""
        self.images += len(outcome.files)
        if outcome.error is None:
            self.done += 1
            self.partial += entry["returned"] < entry["requested"]
        else:
            self.failed.append(outcome)
        if entry["credits"] is not None:
            self.credits = (self.credits or 0.0) + entry["credits"]
        self.credits_unknown += entry["credits"] is None and entry["returned"] > 0
        if isinstance(outcome.error, AuthenticationError):
            self.stopped = f"the key was refused ({outcome.error.message})"
        elif isinstance(outcome.error, RateLimitError):
            self.stopped = "rate limited for longer than the batch waits: run the same command again later"

    def lines(self) -> list[str]:  # what a person reads at the end
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
        if (before := self.balance_before) is not None and (after := self.balance_after) is not None:
            text.append(f"balance: {before:.4g} -> {after:.4g}, down {before - after:.4g} (two readings: any other "
                        "use of this key during the run counts too)")
        if self.urls_temporary:
            text.append(f"note: {TEMPORARY_URLS_NOTE} (listed in the manifest)")
        if self.rate_limited:
            text.append(f"rate limited {self.rate_limited} times: concurrency was lowered and requests waited")
        text += [f"  failed line {o.line.number} ({o.line.id}): {o.error}" for o in self.failed]
        return text + [f"stopped early: {self.stopped}"] * bool(self.stopped)


def _open_manifest(out: Path) -> tuple[set[tuple[str, str]], TextIO]:
    """(id, key) of every line an earlier run finished, and ``manifest.jsonl`` opened for appending."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / MANIFEST_NAME
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    done = set()
    for raw in text.splitlines():
        with contextlib.suppress(ValueError):  # a line cut short by a killed process: that line runs again
            record = json.loads(raw)
            if isinstance(record, dict) and record.get("status") == "done":
                done.add((record.get("id", ""), record.get("prompt_hash", "")))
    manifest = path.open("a", encoding="utf-8")
    manifest.write("\n" * (bool(text) and not text.endswith("\n")))  # the next record starts on a line of its own
    return done, manifest


async def run_batch(
    lines: Iterable[BatchLine], out_dir: str | Path, *, api_key: str | None = None, base_url: str | None = None,
    concurrency: int = 4, allow_unlisted_model: bool = False, progress: Callable[[BatchSummary], None] | None = None,
    stop: asyncio.Event | None = None, client_options: Mapping[str, Any] | None = None, urls_temporary: bool = False,
) -> BatchSummary:
    """Run every line not already done in ``out_dir``'s manifest; return the summary. ``stop`` set: no
    new line starts, lines in flight finish and are recorded. ``urls_temporary``: the URLs end with the
    command (an in-process server). Cancelled, it stops at once: a line is recorded after its files."""
    started, out, all_lines = time.monotonic(), Path(out_dir), list(lines)
    gate = RateGate(concurrency, stop=stop)
    # Our own httpx client, so the gate sees X-RateLimit-Remaining on every answer.
    http = httpx.AsyncClient(event_hooks={"response": [gate.observe]})
    # A line that may have run is found in the gallery, not sent again; a 429 is the gate's alone.
    options = {**FACE_OPTIONS, **dict(client_options or {}), "retry_rate_limits": False}
    client = AsyncMiladyClient(api_key=api_key, base_url=base_url, http_client=http, **options)
    gate.max_wait = client.config.max_retry_wait
    done, manifest = _open_manifest(out)
    todo = deque(line for line in all_lines if (line.id, line.key) not in done)
    summary = BatchSummary(len(all_lines), len(all_lines) - len(todo), urls_temporary=urls_temporary and bool(todo))
    summary.max_concurrency = gate.max

    def report() -> None:
        summary.concurrency, summary.waiting, summary.rate_limited = gate.limit, gate.wait_left, gate.rate_limited
        summary.elapsed = time.monotonic() - started
        if progress is not None:
            progress(summary)

    async def run_line(line: BatchLine) -> LineOutcome | None:
        """The line's outcome, or None when it was stopped before anything was sent."""
        request = line.request(allow_unlisted_model=allow_unlisted_model)
        try:
            result = await gate.send(lambda: client.send(request))
        except MiladyError as exc:
            return LineOutcome(line, request.num_images, error=exc)
        if result is None:
            return None
        try:  # paid for: the images that can be read are kept even when others cannot
            datas, unread = await read_what_came(client, result)
            error = unread[0] if unread else None
        except MiladyError as exc:
            datas, error = [], exc
        # Atomic: an interruption leaves each whole file or none of it.
        files = [write_image(out / f"{line.stem}-{n}", data).name for n, data in enumerate(datas, start=1)]
        return LineOutcome(line, request.num_images, result, files, error)

    async def worker() -> None:  # a line given back before it was sent stays "not started"
        while todo and gate.open and (outcome := await run_line(todo.popleft())) is not None:
            entry = outcome.record(urls_temporary)  # after its files: every record in the manifest stays true
            manifest.write(json.dumps(entry, ensure_ascii=False) + "\n")
            manifest.flush()
            summary.add(outcome, entry)
            gate.closed |= summary.stopped is not None
            report()

    async def ticker() -> None:
        while True:  # keeps a rate-limit countdown moving while nothing finishes
            report()
            await asyncio.sleep(0.5)

    tick = asyncio.create_task(ticker())
    try:
        if todo:
            with contextlib.suppress(MiladyError):  # some keys cannot read it; the sum of costs still shows
                summary.balance_before = await client.credits_balance()
            # More workers than the gate allows, so downloads do not hold back the next request.
            workers = [asyncio.create_task(worker()) for _ in range(min(len(todo), gate.max + (gate.max + 1) // 2))]
            try:
                await asyncio.gather(*workers)
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
            with contextlib.suppress(MiladyError):
                summary.balance_after = await client.credits_balance() if summary.done or summary.failed else None
        if stop is not None and stop.is_set() and summary.not_started:
            summary.stopped = summary.stopped or "interrupted"
    finally:
        tick.cancel()
        manifest.close()
        await client.aclose()
        await http.aclose()
        report()
    return summary
