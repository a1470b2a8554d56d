"""Whose key pays: a visitor's own key, or the app's within limits, in a launched app.

The service is a local server that accepts only the keys named here, and counts
credits per key, so each test can show whose key paid and what reached the service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from gradio_client.exceptions import AppError

from gradio_app import milady_image_block
from milady_integrations import AsyncMiladyClient
from milady_integrations.access import OperatorLimits, limits_line
from milady_integrations.local import LocalServer, ServerConfig

VISITOR_KEY = "visitor-key-9f3c1e7a"
OWNER_KEY = "owner-key-2b8d4c60"


@pytest.fixture
def service() -> Iterator[LocalServer]:
    with LocalServer(ServerConfig(api_keys={VISITOR_KEY, OWNER_KEY})) as running:
        yield running


def _app(client: AsyncMiladyClient, **options: object) -> gr.Blocks:
    with gr.Blocks() as demo:
        milady_image_block(client, examples=None, **options)  # type: ignore[arg-type]
    return demo


def _generated(service: LocalServer) -> int:
    return service.stats.requests.get("generate", 0)


def _spent(service: LocalServer, key: str) -> float:
    return round(ServerConfig().initial_credits - service.credits(key), 6)


def test_the_visitor_key_pays_and_only_it_reaches_the_service(
    service: LocalServer, launch_app: Callable[[gr.Blocks], Any], tmp_path: Path
) -> None:
    app = launch_app(_app(AsyncMiladyClient(api_key="", base_url=service.base_url), pays="visitor"))

    gallery, _text = app.client(tmp_path).predict(
        "a red fox", num_images=2, api_key=VISITOR_KEY, api_name="/generate"
    )

    assert len(gallery) == 2
    assert service.stats.images_billed == 2
    assert _spent(service, VISITOR_KEY) > 0
    assert _spent(service, OWNER_KEY) == 0


def test_a_wrong_visitor_key_gets_the_services_401_line_for_a_visitor(
    service: LocalServer, launch_app: Callable[[gr.Blocks], Any], tmp_path: Path
) -> None:
    app = launch_app(_app(AsyncMiladyClient(api_key="", base_url=service.base_url), pays="visitor"))

    with pytest.raises(AppError) as raised:
        app.client(tmp_path).predict("a red fox", api_key="not-a-key-5521", api_name="/generate")

    message = str(raised.value)
    assert "Enter your own Milady Cloud key in the key field" in message
    assert "not-a-key-5521" not in message
    assert service.stats.images_billed == 0


def test_without_any_key_nothing_is_sent(
    service: LocalServer, launch_app: Callable[[gr.Blocks], Any], tmp_path: Path
) -> None:
    # The app has a key of its own, but "visitor" never lends it.
    app = launch_app(_app(AsyncMiladyClient(api_key=OWNER_KEY, base_url=service.base_url), pays="visitor"))

    with pytest.raises(AppError, match="key field"):
        app.client(tmp_path).predict("a red fox", api_key="", api_name="/generate")

    assert _generated(service) == 0


#: The limits of the app whose own key serves visitors: 3 images per visitor and hour.
LIMITS = {"per_caller": 3, "per_app": 10}
LIMIT_REACHED = rf"limit of {LIMITS['per_caller']} images per hour for each caller"


@pytest.fixture
def lending_app(service: LocalServer, launch_app: Callable[[gr.Blocks], Any]) -> tuple[Any, OperatorLimits]:
    """An app whose own key serves visitors without a key, within ``LIMITS``; and its limits."""
    limits = OperatorLimits(**LIMITS)
    client = AsyncMiladyClient(api_key=OWNER_KEY, base_url=service.base_url)
    return launch_app(_app(client, pays="visitor_or_server", limits=limits)), limits


def test_the_app_key_serves_visitors_within_the_limit_and_then_sends_nothing(
    service: LocalServer, lending_app: tuple[Any, OperatorLimits], tmp_path: Path
) -> None:
    app, limits = lending_app
    gradio = app.client(tmp_path)

    gradio.predict("a red fox", num_images=2, api_key="", api_name="/generate")
    assert (service.stats.images_billed, _spent(service, VISITOR_KEY)) == (2, 0)
    sent = _generated(service)

    with pytest.raises(AppError, match=LIMIT_REACHED + r".*retry in \d+ min"):
        gradio.predict("a red fox", num_images=2, api_key="", api_name="/generate")
    assert _generated(service) == sent

    # The visitor's own key is never limited, and the app's key does not pay for it.
    owner_spent = _spent(service, OWNER_KEY)
    gradio.predict("a red fox", num_images=2, api_key=VISITOR_KEY, api_name="/generate")
    assert _spent(service, OWNER_KEY) == owner_spent
    assert _spent(service, VISITOR_KEY) > 0
    assert limits_line(limits) in httpx.get(f"{app.url}config").text


def test_images_billed_but_unreadable_still_count_against_the_limit(
    service: LocalServer, lending_app: tuple[Any, OperatorLimits], tmp_path: Path
) -> None:
    gradio = lending_app[0].client(tmp_path)
    service.faults.update(image_url="404")  # generated and billed, then not readable

    with pytest.raises(AppError):
        gradio.predict("a red fox", num_images=2, api_key="", api_name="/generate")
    assert service.stats.images_billed == 2
    sent = _generated(service)
    with pytest.raises(AppError, match=LIMIT_REACHED):
        gradio.predict("a red fox", num_images=2, api_key="", api_name="/generate")
    assert _generated(service) == sent


def test_a_key_never_shows_in_config_page_api_info_answers_or_logs(
    service: LocalServer,
    launch_app: Callable[[gr.Blocks], Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    client = AsyncMiladyClient(api_key=OWNER_KEY, base_url=service.base_url)
    app = launch_app(_app(client, pays="visitor_or_server"))
    gradio = app.client(tmp_path)

    answers = [repr(gradio.predict("a red fox", num_images=1, api_key=VISITOR_KEY, api_name="/generate"))]
    service.faults.force_status(402, count=2)
    for key in (VISITOR_KEY, ""):
        with pytest.raises(AppError) as raised:
            gradio.predict("a red fox", api_key=key, api_name="/generate")
        answers.append(str(raised.value))
    info = httpx.get(f"{app.url}gradio_api/info").text
    seen = [
        httpx.get(f"{app.url}config").text,
        httpx.get(app.url).text,
        info,
        *answers,
        caplog.text,
        *capfd.readouterr(),
    ]

    assert _spent(service, VISITOR_KEY) > 0
    assert "a secret" in info
    for text in seen:
        assert VISITOR_KEY not in text
        assert OWNER_KEY not in text
