"""Waiting for a generation: what every face shows while the service works (milady_integrations.progress)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from milady_integrations import AsyncMiladyClient
from milady_integrations.local import LocalServer
from milady_integrations.progress import (
    ON_TIME,
    RECENT,
    WAIT_CEILING,
    Tick,
    estimated_cost,
    wait_fraction,
    wait_with_progress,
)
from milady_integrations.wording import waiting_line

MODEL = "google/gemini-2.5-flash-image"


@pytest.fixture(autouse=True)
def _no_recent_runs() -> Iterator[None]:
    """Other tests in this process ran the model: each test here starts with no estimate."""
    RECENT.clear()
    yield
    RECENT.clear()


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[AsyncMiladyClient]:
    async with AsyncMiladyClient(server.api_key, base_url=server.base_url) as made:
        yield made


async def test_a_real_generation_is_shown_waiting_then_its_cost_estimate(client: AsyncMiladyClient) -> None:
    ticks: list[Tick] = []
    result = await wait_with_progress(
        client.generate_images("a lighthouse", num_images=2, model=MODEL),
        images=2,
        model=MODEL,
        show=ticks.append,
        client=client,
    )
    assert result.returned == 2
    assert ticks[0].text == f"Generating 2 images with {MODEL}: 0 s"
    assert [t.elapsed for t in ticks] == sorted(t.elapsed for t in ticks)
    # The run taught the estimate: the next wait says how long is left from the first moment.
    assert RECENT.expected(MODEL) is not None


async def test_the_estimate_joins_the_line_once_the_price_is_known(client: AsyncMiladyClient) -> None:
    ticks: list[Tick] = []
    priced_shown = asyncio.Event()

    def show(tick: Tick) -> None:
        ticks.append(tick)
        if " · estimated " in tick.text:
            priced_shown.set()

    # The wait ends when the estimate has shown, however long the price look-up takes on a busy machine.
    await wait_with_progress(priced_shown.wait(), images=3, model=MODEL, show=show, client=client)
    priced = [t.text for t in ticks if " · estimated " in t.text]
    assert priced and priced[0].startswith(f"Generating 3 images with {MODEL}: ")
    assert priced[0].endswith(" credits")


async def test_the_cost_falls_back_to_the_price_range_when_the_model_s_price_cannot_be_read(
    server: LocalServer,
) -> None:
    async with AsyncMiladyClient(server.api_key, base_url=server.base_url, max_retries=0) as client:
        server.faults.update(down="models", down_status=503)
        assert await estimated_cost(client, MODEL, 2) == "estimated 0.04-0.16 credits"
        server.faults.update(down=None)
        assert await estimated_cost(client, MODEL, 2) == "estimated 0.04 credits"  # its own price again


async def test_recent_runs_of_the_model_give_the_time_left_and_the_bar_its_pace() -> None:
    RECENT.record(MODEL, 30.0)
    ticks: list[Tick] = []
    await wait_with_progress(asyncio.sleep(0), images=1, model=MODEL, show=ticks.append)
    assert ticks[0].text == f"Generating 1 image with {MODEL}: 0 s (~30 s left)"
    assert wait_fraction(15.0, 30.0) == pytest.approx(ON_TIME / 2)


def test_the_bar_never_fills_before_the_answer_and_never_stops_climbing() -> None:
    moments = [0.0, 5.0, 29.0, 30.0, 31.0, 60.0, 300.0, 10_000.0]
    for expected in (30.0, None):
        fractions = [wait_fraction(t, expected) for t in moments]
        assert fractions == sorted(set(fractions)), expected  # strictly climbing, even past the expected time
        assert fractions[-1] < WAIT_CEILING


def test_the_time_left_counts_down_in_whole_seconds_and_never_says_zero() -> None:
    lines = [waiting_line(1, MODEL, t, 8.4) for t in (0.4, 0.6, 1.4, 7.6, 8.2, 20.0)]
    left = [line.rpartition(": ")[2] for line in lines]
    assert left == ["0 s (~8 s left)", "1 s (~7 s left)", "1 s (~7 s left)", "8 s", "8 s", "20 s"]


async def test_an_interrupt_cancels_the_request_and_is_raised() -> None:
    class Cancelled(Exception):
        pass

    stopped = asyncio.Event()

    async def slow_request() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            stopped.set()

    polls = []

    def interrupt() -> None:
        polls.append(1)
        if len(polls) == 3:
            raise Cancelled

    with pytest.raises(Cancelled):
        await wait_with_progress(slow_request(), images=1, model=MODEL, show=lambda tick: None, interrupt=interrupt)
    assert stopped.is_set()


async def test_an_async_show_is_awaited() -> None:
    shown: list[str] = []

    async def show(tick: Tick) -> None:
        await asyncio.sleep(0)
        shown.append(tick.text)

    await wait_with_progress(asyncio.sleep(0), images=4, model=MODEL, show=show)
    assert shown == [f"Generating 4 images with {MODEL}: 0 s"]
