"""A real browser (Debian's chromium, driven by Playwright) on the standalone demo."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ._browser import MARKS, fill_form, open_page, sync_api

pytestmark = MARKS


@pytest.fixture(scope="module")
def demo_url() -> Iterator[tuple[str, str]]:
    """The demo exactly as `milady demo` builds it with no key: the local server behind it."""
    from gradio_app import close_demo, create_demo, demo_endpoint

    saved = {name: os.environ.pop(name, None) for name in ("MILADY_API_KEY", "MILADY_BASE_URL")}
    demo = create_demo()
    try:
        endpoint = demo_endpoint(demo)
        assert endpoint is not None and endpoint.local and endpoint.base_url
        demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
        yield str(demo.local_url), endpoint.base_url
    finally:
        close_demo(demo)
        os.environ.update({k: v for k, v in saved.items() if v is not None})


@pytest.fixture
def page(browser: Any, demo_url: tuple[str, str]) -> Iterator[Any]:
    opened = open_page(browser, demo_url[0])
    yield opened
    opened.context.close()


def test_generate_three_images_in_the_browser(page: Any, tmp_path: Path, demo_url: tuple[str, str]) -> None:
    expect = sync_api.expect
    expect(page.locator("#milady-local-banner")).to_contain_text("not by a model")

    fill_form(page, "A lighthouse on a cliff in a storm, waves crashing", 3, "origami")
    page.locator("#milady-generate-generate").click()

    gallery_images = page.locator("#milady-generate-gallery img")
    expect(gallery_images).to_have_count(3)
    for index in range(3):
        expect(gallery_images.nth(index)).to_have_js_property("complete", True)
        assert gallery_images.nth(index).evaluate("img => img.naturalWidth") > 0
    built = httpx.get(f"{demo_url[1]}/_local/requests").json()["requests"][0]["enhancedPrompt"]
    assert "in an origami paper-folding style" in built

    # docs/demo.png is re-made on purpose only (scripts/screenshot_demo.py): CI never dirties the tree.
    shot = tmp_path / "demo.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("MILADY_SCREENSHOT_COPY"):  # keep a copy to look at when run by hand
        shutil.copy(shot, os.environ["MILADY_SCREENSHOT_COPY"])


def test_the_longest_style_shows_whole_and_the_banner_uses_the_pages_font(page: Any) -> None:
    fill_form(page, "A neon city", 1, "neon-punk")
    shown = page.locator("#milady-generate-style_preset input")

    assert shown.input_value().startswith("neon-punk ·")
    assert shown.evaluate("e => e.scrollWidth <= e.clientWidth")
    font = "e => getComputedStyle(e).fontFamily + ' ' + getComputedStyle(e).fontWeight"
    banner_font = page.locator("#milady-local-banner div[role=status]").evaluate(font)
    page_font = page.locator("#milady-generate-prompt label span").first.evaluate(font)
    # Same family and weight as the labels: Gradio's semi-bold face lacks most letters.
    assert banner_font == page_font


def test_a_402_shows_its_message_and_clears_the_last_runs_output(page: Any, demo_url: tuple[str, str]) -> None:
    expect = sync_api.expect
    fill_form(page, "A tiny robot watering a bonsai", 2, "low-poly")
    page.locator("#milady-generate-generate").click()
    expect(page.locator("#milady-generate-gallery img")).to_have_count(2)

    httpx.post(f"{demo_url[1]}/_local/faults", json={"force_status": 402}).raise_for_status()
    page.locator("#milady-generate-generate").click()

    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text("Insufficient credits")
    expect(toast).to_contain_text("Add credits to your account")
    expect(page.locator("#milady-generate-gallery img")).to_have_count(0)
    expect(page.locator("#milady-generate-text textarea")).to_have_value("")


def test_stop_clears_and_says_a_sent_request_may_be_billed(page: Any, demo_url: tuple[str, str]) -> None:
    expect = sync_api.expect
    httpx.post(f"{demo_url[1]}/_local/faults", json={"latency": 30}).raise_for_status()
    try:
        fill_form(page, "A bowl of ramen", 1, "photographic")
        page.locator("#milady-generate-generate").click()
        working = page.locator("#milady-generate-gallery .eta-bar, #milady-generate-gallery .progress-text")
        expect(working).not_to_have_count(0)
        page.locator("#milady-generate-stop").click()

        billed = re.compile("may still finish and be billed")
        expect(page.locator("#milady-generate-text textarea")).to_have_value(billed)
        expect(page.locator("#milady-generate-gallery img")).to_have_count(0)
    finally:
        httpx.post(f"{demo_url[1]}/_local/faults", json={"latency": 0}).raise_for_status()


def test_invalid_input_is_explained_next_to_the_field(page: Any) -> None:
    expect = sync_api.expect

    page.locator("#milady-generate-prompt textarea").fill("   ")
    page.locator("#milady-generate-generate").click()

    expect(page.locator("#milady-generate-prompt")).to_contain_text("prompt is empty")
