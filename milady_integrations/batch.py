"""Batch generation: many requests from a JSONL file, concurrent, rate-aware and resumable.

One request per line: ``{"prompt": ..., "model"?, "aspect_ratio"?, "style_preset"?,
"num_images"?, "source_image"? (a file path), "id"?}``, or just a JSON string (the prompt).
Every line is checked before anything is sent. Each finished line appends one record to
``DIR/manifest.jsonl`` after its images are written (atomically), so a second run skips
what is done, writes nothing twice, and an interruption loses nothing already saved.

Framework-free: the engine reports progress through a callback; ``ProgressBar`` is the
small stderr bar the ``milady batch`` command uses.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import httpx

from .client import AsyncMiladyClient
from .errors import AuthenticationError, InvalidRequestError, MiladyError, RateLimitError
from .images import write_image
from .schema import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    GenerateImageRequest,
    ImageGenerationResult,
)

__all__ = [
    "LINE_FIELDS",
    "MANIFEST_NAME",
    "BadLine",
    "BatchLine",
    "BatchSummary",
    "InvalidBatchError",
    "LineOutcome",
    "Manifest",
    "ProgressBar",
    "RateGate",
    "read_batch",
    "run_batch",
]

MANIFEST_NAME = "manifest.jsonl"
#: The keys a line may carry; ``source_image`` is a file path (relative to the JSONL's folder).
LINE_FIELDS = ("prompt", "model", "aspect_ratio", "style_preset", "num_images", "source_image", "id")
#: How many times one line may meet a rate limit (after the client's own retries) before it fails.
MAX_RATE_LIMIT_ROUNDS = 20
#: Never trust a rate-limit reset further away than this (clocks differ).
MAX_RESET_WAIT = 60.0
_SOURCE_ALLOWED = "a path to an image file, relative to the JSONL file"
_ID_PATTERN = re.compile(r"[^A-Za-z0-9._-]+")


# ---------------------------------------------------------------- reading and checking the input


@dataclass(frozen=True)
class BadLine:
    """One problem in the input: where, which field, what value, what is allowed."""

    line: int
    field: str
    value: object
    allowed: object
    message: str

    def __str__(self) -> str:
        allowed = ", ".join(map(str, self.allowed)) if isinstance(self.allowed, (tuple, list)) else self.allowed
        text = f"line {self.line}: {self.message}"
        return text if allowed in (None, "") or str(allowed) in self.message else f"{text} (allowed: {allowed})"


class InvalidBatchError(InvalidRequestError):
    """Some lines are invalid; ``problems`` lists every one. Nothing was sent."""

    def __init__(self, problems: list[BadLine], source: str) -> None:
        count = len(problems)
        super().__init__(
            f"{source}: {count} invalid line{'s' * (count != 1)}, nothing was sent:\n"
            + "\n".join(f"  {p}" for p in problems),
            field=problems[0].field if problems else None,
            value=problems[0].value if problems else None,
            allowed=problems[0].allowed if problems else None,
        )
        self.problems = problems


@dataclass(frozen=True)
class BatchLine:
    """A checked input line. ``key`` identifies its content (prompt, options, source bytes)."""

    number: int
    id: str
    key: str
    options: Mapping[str, Any]
    source_path: Path | None = None

    def request(self, *, allow_unlisted_model: bool = False) -> GenerateImageRequest:
        """The request (source images are read again here, so big batches hold no data URLs)."""
        return GenerateImageRequest.create(
            **self.options, source_image=self.source_path, allow_unlisted_model=allow_unlisted_model
        )

    @property
    def stem(self) -> str:
        """File names start with this: the id and a short content key, never reused by another line."""
        return f"{self.id}-{self.key[:8]}"


def _content_key(options: Mapping[str, Any], source_url: str | None) -> str:
    canonical = dict(options)
    canonical["source_image"] = hashlib.sha256(source_url.encode()).hexdigest() if source_url else None
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _safe_id(value: object) -> str | None:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    cleaned = _ID_PATTERN.sub("-", str(value)).strip("-.")
    return cleaned[:80] or None


def _check_line(
    number: int, raw: str, base: Path, allow_unlisted_model: bool
) -> tuple[BatchLine | None, list[BadLine]]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return None, [BadLine(number, "line", raw[:60], "a JSON object or string", f"is not JSON ({exc})")]
    if isinstance(data, str):
        data = {"prompt": data}
    if not isinstance(data, dict):
        return None, [BadLine(number, "line", raw[:60], "a JSON object or string", f"is a JSON {type(data).__name__}")]
    problems = [
        BadLine(number, key, data[key], LINE_FIELDS, f"unknown field {key!r}") for key in data if key not in LINE_FIELDS
    ]
    options = {
        "prompt": data.get("prompt"),
        "model": data.get("model", DEFAULT_MODEL),
        "aspect_ratio": data.get("aspect_ratio", DEFAULT_ASPECT_RATIO),
        "num_images": data.get("num_images", DEFAULT_NUM_IMAGES),
        "style_preset": data.get("style_preset", DEFAULT_STYLE_PRESET),
    }
    source_path: Path | None = None
    if data.get("source_image") is not None:
        value = data["source_image"]
        source_path = (base / value) if isinstance(value, str) else None
        if source_path is None:
            problems.append(BadLine(number, "source_image", value, _SOURCE_ALLOWED, "source_image must be a path"))
    # Each field on its own, so one line reports all of its problems at once.
    for name in options:
        try:
            GenerateImageRequest.create(
                **{**_VALID_PLACEHOLDER, name: options[name]}, allow_unlisted_model=allow_unlisted_model
            )
        except InvalidRequestError as exc:
            problems.append(BadLine(number, exc.field or name, exc.value, exc.allowed, exc.message))
    source_url = None
    if source_path is not None:
        try:
            source_url = GenerateImageRequest.create("x", source_image=source_path).source_image
        except InvalidRequestError as exc:
            problems.append(BadLine(number, "source_image", data["source_image"], _SOURCE_ALLOWED, exc.message))
    given_id = data.get("id")
    line_id = _safe_id(given_id) if given_id is not None else f"line-{number:05d}"
    if line_id is None:
        problems.append(
            BadLine(number, "id", given_id, "a non-empty string or number", "id must be a string or number")
        )
    if problems:
        return None, problems
    assert line_id is not None
    return BatchLine(number, line_id, _content_key(options, source_url), options, source_path), []


_VALID_PLACEHOLDER: dict[str, Any] = {
    "prompt": "x",
    "model": DEFAULT_MODEL,
    "aspect_ratio": DEFAULT_ASPECT_RATIO,
    "num_images": DEFAULT_NUM_IMAGES,
    "style_preset": DEFAULT_STYLE_PRESET,
}


def read_batch(path: str | Path, *, allow_unlisted_model: bool = False) -> list[BatchLine]:
    """Check every line of a JSONL file; raise InvalidBatchError listing all bad lines.

    Blank lines are skipped; line numbers are the file's (1-based). Ids must be unique.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(
            f"cannot read {source}: {exc}", field="file", value=str(source), allowed="a UTF-8 JSONL file"
        ) from None
    lines: list[BatchLine] = []
    problems: list[BadLine] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        line, found = _check_line(number, raw, source.parent, allow_unlisted_model)
        problems.extend(found)
        if line is None:
            continue
        if line.id in seen:
            problems.append(
                BadLine(number, "id", line.id, "unique ids", f"id {line.id!r} is also used on line {seen[line.id]}")
            )
            continue
        seen[line.id] = number
        lines.append(line)
    if problems:
        raise InvalidBatchError(problems, source.name)
    if not lines:
        raise InvalidRequestError(
            f"{source.name} has no requests", field="file", value=str(source), allowed="one JSON request per line"
        )
    return lines


# ---------------------------------------------------------------- the manifest


class Manifest:
    """``manifest.jsonl``: one record per finished line, appended and flushed as each finishes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        if path.exists():
            for raw in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue  # a line cut short by a killed process: that line simply runs again
                if isinstance(record, dict):
                    self.records.append(record)
        self._handle: TextIO | None = None

    @classmethod
    def open(cls, out_dir: Path) -> Manifest:
        """The manifest of an output folder (made if missing)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        return cls(out_dir / MANIFEST_NAME)

    def done_keys(self) -> set[tuple[str, str]]:
        """(id, key) of every line that finished without error."""
        return {(r.get("id", ""), r.get("prompt_hash", "")) for r in self.records if r.get("status") == "done"}

    def append(self, record: dict[str, Any]) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            needs_newline = self.path.exists() and self.path.stat().st_size > 0 and not self._ends_with_newline()
            self._handle = self.path.open("a", encoding="utf-8")
            if needs_newline:
                self._handle.write("\n")
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        self.records.append(record)

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, 2)
            return handle.read(1) == b"\n"

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


# ---------------------------------------------------------------- rate limit and concurrency


def _parse_reset(value: str | None) -> float | None:
    """X-RateLimit-Reset (an ISO date, or epoch seconds) -> epoch seconds."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class RateGate:
    """How many requests may run now: fewer after a 429, more again after successes.

    Additive increase, halving on a 429 (at most once per pause), a pause for
    ``Retry-After`` that holds every new request, and a pause until the window resets
    when ``X-RateLimit-Remaining`` says nothing is left. ``observe`` is an httpx
    response hook, so it also sees the answers the client retries by itself.
    """

    def __init__(self, concurrency: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max = max(1, concurrency)
        self.limit = self.max
        self.active = 0
        self.rate_limited = 0
        self._clock = clock
        self._pause_until = 0.0
        self._successes = 0
        self._remaining: int | None = None
        self._window: str | None = None
        self._reset_at = 0.0
        self._changed = asyncio.Event()

    @property
    def wait_left(self) -> float:
        return max(0.0, self._pause_until - self._clock())

    def _pause(self, seconds: float) -> None:
        self._pause_until = max(self._pause_until, self._clock() + max(0.0, min(seconds, MAX_RESET_WAIT)))

    async def acquire(self) -> None:
        while True:
            left = self.wait_left
            if left > 0:
                await asyncio.sleep(min(left, 0.25))
                continue
            exhausted = self._remaining is not None and self._remaining <= 0
            if exhausted and (self.active == 0 or time.time() >= self._reset_at):
                self._remaining = None  # a new window, or nothing in flight to tell us more
            if self.active < self.limit and (self._remaining is None or self._remaining > 0):
                self.active += 1
                if self._remaining is not None:
                    self._remaining -= 1
                return
            self._changed.clear()
            await self._changed.wait()

    def release(self, *, succeeded: bool) -> None:
        self.active -= 1
        if succeeded:
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.max:
                self.limit += 1
                self._successes = 0
        self._changed.set()

    def rate_limited_for(self, retry_after: float | None, *, count: bool = True) -> None:
        """A 429 arrived: lower the concurrency and hold new requests for ``retry_after``."""
        self.rate_limited += count
        if self.wait_left <= 0:  # one burst of 429s halves once, not once per answer
            self.limit = max(1, self.limit // 2)
            self._successes = 0
        self._pause(1.0 if retry_after is None else retry_after)
        self._changed.set()

    async def observe(self, response: httpx.Response) -> None:
        headers = response.headers
        if response.status_code == 429:
            retry = headers.get("retry-after")
            try:
                seconds = float(retry) if retry is not None else None
            except ValueError:
                seconds = None
            self.rate_limited_for(seconds)
            return
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is None or not remaining.strip().isdigit():
            return
        left = int(remaining)
        window = headers.get("x-ratelimit-reset")
        reset = _parse_reset(window)
        if window != self._window or self._remaining is None:
            self._window, self._remaining = window, left
        else:
            # Same window, answers out of order: the lowest count seen (less what started since) holds.
            self._remaining = min(self._remaining, left)
        self._reset_at = time.time() + 1.0 if reset is None else min(reset, time.time() + MAX_RESET_WAIT)
        if left == 0:
            self._pause(self._reset_at - time.time())
        self._changed.set()


# ---------------------------------------------------------------- running


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
        if self.balance_before is not None and self.balance_after is not None:
            text.append(
                f"credits: {self.balance_before - self.balance_after:.4g} spent "
                f"(balance {self.balance_before:.4g} -> {self.balance_after:.4g})"
            )
        elif self.credits is not None:
            unknown = f" ({self.credits_unknown} lines did not say)" if self.credits_unknown else ""
            text.append(f"credits: {self.credits:.4g}{unknown}")
        if self.rate_limited:
            text.append(f"rate limited {self.rate_limited} times: concurrency was lowered and requests waited")
        for outcome in self.failed:
            text.append(f"  failed line {outcome.line.number} ({outcome.line.id}): {outcome.error}")
        if self.stopped:
            text.append(f"stopped early: {self.stopped}")
        return text


ProgressCallback = Callable[["BatchProgress"], None]


@dataclass
class BatchProgress:
    """What a progress display needs; updated as lines finish."""

    total: int
    finished: int = 0
    failed: int = 0
    images: int = 0
    concurrency: int = 0
    max_concurrency: int = 0
    waiting: float = 0.0  # seconds left of a rate-limit pause


async def _balance(client: AsyncMiladyClient) -> float | None:
    try:
        return await client.credits_balance()
    except MiladyError:
        return None  # some keys cannot read the balance; the sum of costs still shows


async def _run_line(
    client: AsyncMiladyClient, gate: RateGate, line: BatchLine, out_dir: Path, allow_unlisted_model: bool
) -> LineOutcome:
    request = line.request(allow_unlisted_model=allow_unlisted_model)
    result: ImageGenerationResult | None = None
    limited: RateLimitError | None = None
    for _ in range(MAX_RATE_LIMIT_ROUNDS):
        await gate.acquire()
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
) -> BatchSummary:
    """Run every line not already done in ``out_dir``'s manifest; return the summary.

    ``stop`` set: no new line starts, lines in flight finish and are recorded.
    Cancelling the task stops at once; every record in the manifest stays true
    (a line is recorded only after all its files are written).
    """
    started = time.monotonic()
    out = Path(out_dir)
    manifest = Manifest.open(out)
    all_lines = list(lines)
    done = manifest.done_keys()
    todo = deque(line for line in all_lines if (line.id, line.key) not in done)
    summary = BatchSummary(total=len(all_lines), skipped=len(all_lines) - len(todo))
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
    client = AsyncMiladyClient(api_key=api_key, base_url=base_url, http_client=http, **dict(client_options or {}))

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
            outcome = await _run_line(client, gate, line, out, allow_unlisted_model)
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
        if stop is not None and stop.is_set() and todo:
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


# ---------------------------------------------------------------- a progress bar without dependencies


class ProgressBar:
    """``[#####.....] 12/40 lines  30 images  1 failed  concurrency 4/4``, on one terminal line.

    Not on a terminal it prints a plain line at most every ``every`` seconds.
    """

    def __init__(self, stream: TextIO, *, width: int = 24, every: float = 5.0) -> None:
        self.stream = stream
        self.width = width
        self.every = every
        self.tty = stream.isatty()
        self._last = 0.0
        self._started = time.monotonic()
        self._last_finished = -1

    def __call__(self, state: BatchProgress) -> None:
        now = time.monotonic()
        text = self.render(state, now - self._started)
        if self.tty:
            print(f"\r{text}\x1b[K", end="", file=self.stream, flush=True)
        elif state.finished != self._last_finished and (
            now - self._last >= self.every or state.finished == state.total
        ):
            print(text, file=self.stream, flush=True)
            self._last = now
        self._last_finished = state.finished

    def render(self, state: BatchProgress, elapsed: float) -> str:
        share = state.finished / state.total if state.total else 1.0
        filled = round(self.width * share)
        parts = [
            f"[{'#' * filled}{'.' * (self.width - filled)}] {state.finished}/{state.total} lines",
            f"{state.images} images",
        ]
        if state.failed:
            parts.append(f"{state.failed} failed")
        parts.append(f"concurrency {state.concurrency}/{state.max_concurrency}")
        if state.waiting > 0:
            parts.append(f"rate limited: waiting {state.waiting:.0f} s")
        parts.append(f"{elapsed:.0f} s")
        return "  ".join(parts)

    def close(self) -> None:
        if self.tty:
            print(file=self.stream, flush=True)
