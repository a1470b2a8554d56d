"""The sync and async clients against the real local server over loopback HTTP.

Every test runs twice, once per client (the ``twin`` fixture); the server's counters
prove what was sent (no retry on 402, no repeat after a read timeout, nothing sent
on bad input).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import logging
import socket

import httpx
import pytest
from PIL import Image

from milady_integrations import (
    ASPECT_RATIOS,
    MODELS,
    STYLE_PRESETS,
    AuthenticationError,
    GenerationFailedError,
    ImageDownloadError,
    InsufficientCreditsError,
    InvalidRequestError,
    RateLimitError,
    UnexpectedResponseError,
)
from milady_integrations.local import IMAGE_SIZES, LocalServer, ServerConfig
from tests.service_words import STYLE_WORDS as REFERENCE_STYLE_WORDS


def built_prompt(server: LocalServer, prompt: str) -> str:
    """The prompt the server built for the latest request with ``prompt`` (GET /_local/requests)."""
    return str(next(r["enhancedPrompt"] for r in server.requests if r["prompt"] == prompt))


async def test_text_to_image_returns_a_readable_webp_of_the_ratio_size(twin, server: LocalServer) -> None:
    result = await twin.generate_image("a red fox in snow", aspect_ratio="16:9")
    assert result.returned == 1 and not result.partial
    image = result.images[0]
    assert image.url and image.url.startswith("http://127.0.0.1:")
    assert image.mime_type == "image/webp"
    assert image.text == ""  # the model's own text: none here
    built = built_prompt(server, "a red fox in snow")
    assert built == "Generate an image: a red fox in snow, wide landscape composition"
    data = await twin.read(image)
    assert image.file_size == len(data)
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "WEBP" and picture.size == IMAGE_SIZES["16:9"]


@pytest.mark.parametrize("ratio", ASPECT_RATIOS)
async def test_every_aspect_ratio_gives_its_size(twin, ratio: str) -> None:
    result = await twin.generate_image("a lighthouse", aspect_ratio=ratio)
    picture = Image.open(io.BytesIO(await twin.read(result.images[0])))
    assert picture.size == IMAGE_SIZES[ratio]


@pytest.mark.parametrize("preset", STYLE_PRESETS)
async def test_every_style_preset_reaches_the_prompt(twin, server: LocalServer, preset: str) -> None:
    await twin.generate_image("a lighthouse", style_preset=preset)
    words = f" {REFERENCE_STYLE_WORDS[preset]}" if REFERENCE_STYLE_WORDS[preset] else ""
    assert built_prompt(server, "a lighthouse") == f"Generate an image: a lighthouse{words}, square composition"


@pytest.mark.parametrize("model", MODELS)
async def test_every_known_model_is_sent_and_reported(twin, model: str) -> None:
    result = await twin.generate_image("a lighthouse", model=model)
    assert result.model == model and result.returned == 1


async def test_four_images_in_one_request_are_all_different(twin, server: LocalServer) -> None:
    before = server.stats.generate_requests
    result = await twin.generate_image("four cats", num_images=4)
    assert result.returned == 4 and len(set(result.urls)) == 4
    datas = await twin.read_images(result)
    assert len(set(datas)) == 4
    assert server.stats.generate_requests == before + 1


async def test_image_to_image_from_a_pil_image(twin, server: LocalServer) -> None:
    source = Image.new("RGB", (64, 48), (0, 90, 200))
    await twin.generate_image("make it stormy", source_image=source)
    assert built_prompt(server, "make it stormy").startswith("Using the provided image as a reference")


async def test_generate_images_splits_into_requests_of_four(twin, server: LocalServer) -> None:
    before = server.stats.generate_requests
    result = await twin.generate_images("tiles", num_images=6, concurrency=2)
    assert result.requested == 6 and result.returned == 6 and not result.errors
    assert server.stats.generate_requests == before + 2


async def test_partial_success_exposes_asked_and_returned(twin, server: LocalServer) -> None:
    server.faults.update(fail_images=1)
    result = await twin.generate_image("three moons", num_images=3)
    assert (result.requested, result.returned, result.partial) == (3, 2, True)


async def test_data_url_fallback_is_readable_without_network(twin, server: LocalServer) -> None:
    server.faults.update(storage_failure=True)
    result = await twin.generate_image("a kite", num_images=2)
    assert all(image.url is None and image.data_url for image in result.images)
    data = await twin.read(result.images[0])
    assert Image.open(io.BytesIO(data)).format == "PNG"


async def test_the_other_response_shape_is_read(twin, server: LocalServer) -> None:
    server.faults.update(response_shape="success")
    result = await twin.generate_image("a kite", num_images=2)
    assert result.returned == 2 and result.model == "google/gemini-2.5-flash-image"


async def test_a_wrong_mime_label_is_corrected_by_the_bytes(twin, server: LocalServer, tmp_path) -> None:
    server.faults.update(wrong_mime=True)
    result = await twin.generate_image("a kite")
    assert result.images[0].mime_type == "image/png"
    data = await twin.read(result.images[0])
    from milady_integrations.images import write_image

    assert write_image(tmp_path / "kite", data).suffix == ".webp"


@pytest.mark.parametrize(
    ("status", "error_class", "words"),
    [
        (400, InvalidRequestError, "Prompt"),
        (401, AuthenticationError, "Authentication required"),
        (402, InsufficientCreditsError, "required. Add credits to your account."),
    ],
)
async def test_client_errors_are_never_retried(twin, server: LocalServer, status, error_class, words) -> None:
    server.faults.force_status(status, count=3)
    before = server.stats.generate_requests
    with pytest.raises(error_class) as caught:
        await twin.generate_image("a fox")
    assert words in str(caught.value)
    assert caught.value.status_code == status and caught.value.request_id
    assert server.stats.generate_requests == before + 1


async def test_402_carries_the_credits_required(twin, server: LocalServer) -> None:
    server.faults.force_status(402)
    with pytest.raises(InsufficientCreditsError) as caught:
        await twin.generate_image("a fox", num_images=2)
    assert caught.value.required == pytest.approx(0.04)


@pytest.mark.parametrize("fault", ["truncated", "invalid-json", "empty-object"])
async def test_broken_bodies_give_a_clear_error(twin, server: LocalServer, fault: str) -> None:
    server.faults.update(body=fault)
    with pytest.raises(UnexpectedResponseError):
        await twin.generate_image("a fox")


async def test_zero_images_is_a_generation_failure(twin, server: LocalServer) -> None:
    server.faults.update(body="zero-images")
    with pytest.raises(GenerationFailedError, match="no images"):
        await twin.generate_image("a fox")


@pytest.mark.parametrize(
    ("fault", "words"), [("404", "HTTP 404"), ("not-image", "does not decode"), ("oversize", "download cap")]
)
async def test_bad_image_urls_fail_on_read_with_a_clear_error(twin, server: LocalServer, fault, words) -> None:
    server.faults.update(image_url=fault)
    result = await twin.with_options(max_download_bytes=5_000_000).generate_image("a fox")
    with pytest.raises(ImageDownloadError, match=words):
        await twin.read(result.images[0])


async def test_missing_key_fails_before_anything_is_sent(kind_sync_async: str, server: LocalServer, make_twin) -> None:
    before = server.stats.total_requests
    twin = make_twin(kind_sync_async, api_key=None, base_url=server.base_url)
    with pytest.raises(AuthenticationError, match="MILADY_API_KEY"):
        await twin.generate_image("a fox")
    assert server.stats.total_requests == before


async def test_bad_input_sends_nothing(twin, server: LocalServer) -> None:
    before = server.stats.total_requests
    for kwargs in ({"num_images": 5}, {"aspect_ratio": "2:1"}, {"style_preset": "x"}, {"model": "a/b"}):
        with pytest.raises(InvalidRequestError):
            await twin.generate_image("a fox", **kwargs)
    with pytest.raises(InvalidRequestError):
        await twin.generate_image("   ")
    assert server.stats.total_requests == before


async def test_credits_balance_drops_by_the_price_of_each_image(twin, server: LocalServer) -> None:
    start = await twin.credits_balance()
    await twin.generate_image("a fox", num_images=3)
    assert await twin.credits_balance() == pytest.approx(start - 0.06)


async def test_the_key_never_shows_in_logs_reprs_or_errors(
    kind_sync_async: str, server: LocalServer, caplog, make_twin
) -> None:
    secret = "sk-live-0123456789-secret"
    local = LocalServer(ServerConfig(api_keys={secret}))
    with local, caplog.at_level(logging.DEBUG):
        twin = make_twin(kind_sync_async, api_key=secret, base_url=local.base_url)
        result = await twin.generate_image("a fox")
        local.faults.force_status(402)
        with pytest.raises(InsufficientCreditsError) as caught:
            await twin.generate_image("a fox")
    # Serialisers that walk dataclasses (structured loggers, JSON encoders) see no key either.
    config = twin.inner.config
    texts = [caplog.text, repr(twin.inner), str(caught.value), repr(caught.value), repr(result),
             repr(dataclasses.asdict(config)), repr(copy.deepcopy(config)), str(config.api_key),
             json.dumps(dataclasses.asdict(config), default=lambda o: getattr(o, "__dict__", repr(o)))]
    assert config.api_key is not None and config.api_key.get_secret_value() == secret
    assert "Authorization" in caplog.text or "authorization" in caplog.text
    assert all(secret not in text for text in texts)


async def test_a_wrong_key_is_an_authentication_error(kind_sync_async: str, make_twin) -> None:
    with LocalServer(ServerConfig(api_keys={"right"})) as local:
        twin = make_twin(kind_sync_async, api_key="wrong", base_url=local.base_url)
        with pytest.raises(AuthenticationError, match="Authentication required"):
            await twin.generate_image("a fox")


async def test_trailing_slashes_in_the_base_url_work(kind_sync_async: str, server: LocalServer, make_twin) -> None:
    twin = make_twin(kind_sync_async, api_key=server.api_key, base_url=server.base_url + "//")
    assert (await twin.generate_image("a fox")).returned == 1


async def test_a_callers_own_http_client_is_used_and_left_open(server: LocalServer) -> None:
    from milady_integrations import AsyncMiladyClient, MiladyClient

    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(str(r.url))]}) as http:
        with MiladyClient(api_key=server.api_key, base_url=server.base_url, http_client=http) as client:
            client.generate_image("a fox")
        assert not http.is_closed and any("generate-image" in u for u in seen)
    async with httpx.AsyncClient() as ahttp:
        async with AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url, http_client=ahttp) as aclient:
            await aclient.generate_image("a fox")
        assert not ahttp.is_closed


async def test_rate_limit_from_the_server_is_honoured_per_key(kind_sync_async: str, make_twin) -> None:
    with LocalServer(ServerConfig(rate_limit=2, rate_window=1.0)) as local:
        twin = make_twin(kind_sync_async, api_key=local.api_key, base_url=local.base_url, max_retries=0)
        await twin.generate_image("one")
        await twin.generate_image("two")
        with pytest.raises(RateLimitError) as caught:
            await twin.generate_image("three")
        assert caught.value.limit == 2 and caught.value.retry_after is not None
        retrying = make_twin(kind_sync_async, api_key=local.api_key, base_url=local.base_url, max_retries=2)
        assert (await retrying.generate_image("four")).returned == 1


async def test_both_auth_headers_and_our_user_agent_are_sent(server: LocalServer) -> None:
    from milady_integrations import MiladyClient, __version__

    sent: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [sent.append]}) as http:
        MiladyClient(api_key="k-123", base_url=server.base_url, http_client=http).generate_image("a fox")
    headers = sent[0].headers
    assert headers["authorization"] == "Bearer k-123" and headers["x-api-key"] == "k-123"
    assert headers["user-agent"].startswith(f"milady-integrations/{__version__}")


def test_a_path_prefix_in_the_base_url_is_kept() -> None:
    from milady_integrations._config import ClientConfig

    config = ClientConfig.from_arguments(api_key="k", base_url="https://proxy.example/milady/")
    assert config.url("/api/v1/generate-image") == "https://proxy.example/milady/api/v1/generate-image"


async def test_images_convert_to_pil_and_save_with_the_real_suffix(twin, tmp_path) -> None:
    result = await twin.generate_image("a fox", aspect_ratio="3:4")
    image = result.images[0]
    path = await twin.save_image(image, tmp_path / "fox")
    assert path.suffix == ".webp" and Image.open(path).size == IMAGE_SIZES["3:4"]


def test_a_remote_services_url_whose_name_resolves_to_this_machine_is_refused(server: LocalServer) -> None:
    from milady_integrations import MiladyClient

    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    if not any(a.startswith("127.") or a == "::1" for a in addresses):
        pytest.skip(f"this machine's name {name!r} resolves to {addresses}, not to loopback")
    url = f"http://{name}:{server.base_url.rsplit(':', 1)[1]}/openapi.json"
    with (
        MiladyClient(api_key="k", base_url="https://cloud.milady.example") as remote,
        pytest.raises(ImageDownloadError, match="resolves to local address"),
    ):
        remote.read_url(url)
    before = server.stats.total_requests
    with (
        MiladyClient(api_key="k", base_url=server.base_url) as local,
        pytest.raises(ImageDownloadError, match="does not decode"),
    ):
        local.read_url(url)  # a local service may name local hosts: fetched, then judged by its bytes
    assert server.stats.total_requests == before + 1
