"""One layer owns a 429 in a batch: the rate gate pauses every line, sends the refused request
once more, and reports a wait too long to make; the client never resends a 429 by itself."""

from __future__ import annotations

import asyncio
from datetime import datetime

from milady_integrations import AsyncMiladyClient, ImageGenerationResult
from milady_integrations.batch import read_batch, run_batch
from milady_integrations.batch._rate import RateGate
from milady_integrations.local import LocalServer, ServerConfig

from .conftest import image_files, manifest_records


async def test_one_429_pauses_every_line_and_only_the_refused_request_is_sent_again(write_jsonl, tmp_path):
    lines = read_batch(write_jsonl([f"picture {i}" for i in range(6)]))
    async with LocalServer(ServerConfig(rate_limit=1_000_000)) as own:
        own.faults.force_status(429, retry_after=3)  # the first request to arrive
        summary = await run_batch(lines, tmp_path / "out", api_key=own.api_key, base_url=own.base_url, concurrency=2)
        sent, log = own.stats.generate_requests, own.requests

    assert summary.done == 6 and summary.ok
    # The gate saw the 429 (the client did not retry it out of sight) and counted it once.
    assert summary.rate_limited == 1
    assert sent == 7  # six lines and the refused one once more: nothing else twice
    # The request log holds the requests that got past the 429 (their arrival times). Only the one that
    # was already on its way arrived before the Retry-After had passed: no line started meanwhile.
    times = sorted(datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp() for entry in log)
    assert len(times) == 6
    assert all(later - times[0] >= 2.0 for later in times[1:]), times
    assert len(image_files(tmp_path / "out")) == 6


def test_a_429_asking_for_a_longer_wait_is_reported_and_starts_no_more_lines(server, write_jsonl, run_cli, tmp_path):
    prompts, out = write_jsonl(["one", "two", "three"]), tmp_path / "out"
    before = server.stats.generate_requests
    server.faults.force_status(429, retry_after=120)  # more than max_retry_wait (60 s)

    result = run_cli(server, "batch", str(prompts), "-o", str(out), "--concurrency", "1")

    assert result.code == 5  # as `milady generate` answers a rate limit
    assert server.stats.generate_requests - before == 1  # not sent again, and nothing after it
    (record,) = manifest_records(out)
    assert record["status"] == "failed" and record["error"]["type"] == "RateLimitError"
    assert record["credits_note"].startswith("none billed")
    assert "retry in 120 s" in result.err
    assert "1 failed, 2 not started" in result.err
    assert "stopped early: rate limited for longer than the batch waits: run the same command again later" in result.err

    rerun = run_cli(server, "batch", str(prompts), "-o", str(out))
    assert rerun.code == 0, rerun.err
    assert server.stats.generate_requests - before == 4
    assert len(image_files(out)) == 3



async def test_a_retry_after_the_batch_accepts_is_waited_out_whole(server: LocalServer) -> None:
    # A batch that accepts waits of up to 5 minutes holds every line for the 120 s asked, not a shorter guess.
    gate = RateGate(4)
    gate.max_wait = 300.0
    server.faults.force_status(429, retry_after=120)
    asked = asyncio.Event()

    async with AsyncMiladyClient(
        server.api_key, base_url=server.base_url, retry_rate_limits=False, max_retries=0
    ) as client:

        async def send() -> ImageGenerationResult:
            try:
                return await client.generate_images("a fox", num_images=1)
            finally:
                asked.set()

        task = asyncio.ensure_future(gate.send(send))
        await asked.wait()  # the gate handles the 429 before this task runs again
        assert gate.rate_limited == 1 and gate.wait_left > 110
        gate.closed = True  # the test needs the pause, not the resend
        assert await task is None  # closed while waiting: given back unsent
