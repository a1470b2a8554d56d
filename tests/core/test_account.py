"""Recovery from the gallery, the gallery itself, model status and prices, against the local server.

The server's own counters prove the money rules: what a timed-out request made is found
in the gallery, never paid for twice (no second generate request).
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from milady_integrations import MiladyTimeoutError
from milady_integrations.local import DEFAULT_PRICES, LocalServer, ServerConfig


@pytest.fixture
def own_server() -> Any:
    # A server of its own: gallery contents and latency faults must not meet other tests.
    with LocalServer(ServerConfig(rate_limit=1_000_000)) as running:
        yield running


async def test_a_timed_out_generation_is_recovered_from_the_gallery_without_paying_twice(
    kind_sync_async: str, own_server: LocalServer, make_twin: Any
) -> None:
    client = make_twin(kind_sync_async, api_key=own_server.api_key, base_url=own_server.base_url, timeout=0.5)
    own_server.faults.update(latency=2.0)  # generated and billed at once, answered after the client gave up
    with pytest.raises(MiladyTimeoutError) as caught:
        await client.generate_image("a lantern in fog", num_images=2, style_preset="cinematic")
    assert caught.value.may_have_run
    sent = own_server.stats.generate_requests
    own_server.faults.clear()
    result = await client.recover(caught.value, polls=3)
    assert result is not None and result.returned == 2 and result.requested == 2
    assert own_server.stats.generate_requests == sent  # found, not generated again
    for image in result.images:
        assert (await client.read(image))[:4] == b"RIFF"
    # Recovered once: the same images are never handed out twice.
    assert await client.recover(caught.value, polls=1) is None


async def test_two_identical_requests_that_timed_out_each_get_their_own_images(own_server: LocalServer) -> None:
    from milady_integrations import AsyncMiladyClient

    own_server.faults.update(latency=2.0)
    async with AsyncMiladyClient(own_server.api_key, base_url=own_server.base_url, timeout=0.5) as client:
        outcomes = await asyncio.gather(
            *(client.generate_image("twin foxes", num_images=2) for _ in range(2)), return_exceptions=True
        )
        assert all(isinstance(o, MiladyTimeoutError) for o in outcomes)
        own_server.faults.clear()
        first = await client.recover(outcomes[0], polls=3)
        second = await client.recover(outcomes[1], polls=3)
    assert first is not None and second is not None
    assert first.returned == second.returned == 2
    assert not set(first.urls) & set(second.urls)


async def test_an_error_that_cannot_have_run_has_nothing_to_recover(twin: Any, server: LocalServer) -> None:
    server.faults.force_status(402)
    with pytest.raises(Exception) as caught:
        await twin.generate_image("a fox")
    assert not getattr(caught.value, "may_have_run", True)
    assert await twin.recover(caught.value) is None


async def test_the_gallery_lists_past_generations_newest_first(
    kind_sync_async: str, own_server: LocalServer, make_twin: Any
) -> None:
    client = make_twin(kind_sync_async, api_key=own_server.api_key, base_url=own_server.base_url)
    await client.generate_image("first light")
    await client.generate_image("second light", num_images=2)
    page = await client.gallery(limit=2)
    assert [item.prompt for item in page.items] == ["second light", "second light"]
    assert page.has_more
    assert all(isinstance(item.file_size, int) for item in page.items)  # a string on the wire
    older = await client.gallery(limit=2, offset=2)
    assert older.items[0].prompt == "first light"
    assert (await client.read(older.items[0].image))[:4] == b"RIFF"


async def test_model_status_says_which_models_work_and_is_cached(twin: Any, server: LocalServer) -> None:
    statuses = await twin.model_status("google/gemini-2.5-flash-image", "bfl/flux-kontext-max")
    assert statuses["google/gemini-2.5-flash-image"].available
    bfl = statuses["bfl/flux-kontext-max"]
    assert not bfl.available and "bfl provider is currently unavailable" in (bfl.reason or "")
    asked = server.stats.requests.get("models", 0)
    await twin.model_status("bfl/flux-kontext-max")
    assert server.stats.requests.get("models", 0) == asked  # answered from the cache
    note = await twin.model_note("bfl/flux-kontext-max")
    assert note is not None and "unavailable" in note
    assert await twin.model_note("google/gemini-2.5-flash-image") is None


async def test_prices_come_from_the_service(twin: Any) -> None:
    prices = await twin.price_range()
    assert prices is not None and 0 < prices.min <= prices.max
    estimate = await twin.estimated_price("google/gemini-3-pro-image")
    assert estimate is not None and prices.min <= estimate <= prices.max


async def test_a_free_model_s_price_is_asked_for_once(kind_sync_async: str, make_twin: Any) -> None:
    free = "google/gemini-2.5-flash-image"
    with LocalServer(ServerConfig(prices={**DEFAULT_PRICES, free: 0.0})) as own:
        twin = make_twin(kind_sync_async, api_key=own.api_key, base_url=own.base_url)
        assert await twin.estimated_price(free) == 0.0
        assert await twin.estimated_price(free) == 0.0  # an answer of 0 is remembered like any other
        assert own.stats.requests.get("models", 0) == 1


async def test_generate_images_takes_num_images_and_count_still_works(twin: Any, server: LocalServer) -> None:
    result = await twin.generate_images("many moths", num_images=6)
    assert result.requested == 6 and result.returned == 6
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = await twin.generate_images("many moths", count=2)
    assert old.returned == 2 and any(issubclass(w.category, DeprecationWarning) for w in caught)


async def test_with_recover_on_a_timeout_returns_the_images_it_made(
    kind_sync_async: str, own_server: LocalServer, make_twin: Any
) -> None:
    client = make_twin(
        kind_sync_async, api_key=own_server.api_key, base_url=own_server.base_url, timeout=0.5, recover_for=3
    )
    own_server.faults.update(latency=2.0)
    result = await client.generate_image("a kite at dawn", num_images=2)
    assert result.returned == 2 and own_server.stats.generate_requests == 1
    assert "timed out; found 2 images it made in your gallery (already billed)" in result.notes[-1]


@pytest.mark.parametrize(
    ("status", "message"),
    [(500, "Database connection lost"), (502, None), (504, None), (500, "Gateway API key rejected")],
    ids=["catch-all 500", "502", "504", "catch-all 401"],
)
async def test_a_failure_that_kept_the_charge_is_sent_once_and_its_images_found(
    kind_sync_async: str, own_server: LocalServer, make_twin: Any, status: int, message: str | None
) -> None:
    client = make_twin(kind_sync_async, api_key=own_server.api_key, base_url=own_server.base_url, recover_for=1)
    own_server.faults.force_status(status, message=message, ran=True)
    result = await client.generate_image("a paid lighthouse")
    assert own_server.stats.generate_requests == 1  # never repeated
    assert result.returned == 1 and "found 1 image it made in your gallery" in result.notes[-1]


async def test_the_results_note_an_unavailable_model_before_spending(
    kind_sync_async: str, make_twin: Any, server: LocalServer
) -> None:
    client = make_twin(kind_sync_async, api_key=server.api_key, base_url=server.base_url, check_models=True)
    result = await client.generate_image("a fox", model="bfl/flux-kontext-max")
    assert any("unavailable" in note for note in result.notes)


async def test_the_other_variant_reports_what_it_billed(twin: Any, server: LocalServer) -> None:
    server.faults.update(response_shape="success")
    result = await twin.generate_image("a fox", num_images=2)
    assert result.cost is not None and abs(result.cost - 0.04) < 1e-9  # cost.totalCost, an object there


async def test_a_copy_pointed_at_another_service_asks_that_service_for_its_prices(
    kind_sync_async: str, make_twin: Any
) -> None:
    model = "google/gemini-2.5-flash-image"
    with LocalServer(ServerConfig(prices={**DEFAULT_PRICES, model: 0.5})) as dear, LocalServer() as usual:
        twin = make_twin(kind_sync_async, api_key=usual.api_key, base_url=usual.base_url)
        cheap = await twin.estimated_price(model)
        other = twin.with_options(api_key=dear.api_key, base_url=dear.base_url)
        assert await other.estimated_price(model) == pytest.approx(0.5 * 1.2) != cheap
        assert dear.stats.requests.get("models", 0) == 1
