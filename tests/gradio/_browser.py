"""What the browser tests share: Debian's chromium driven by Playwright, a page on an app, the form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)"),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need the 'playwright' package")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium (the ``browser`` fixture of conftest.py)."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, url: str) -> Any:
    """A fresh page on the app at ``url``, once its prompt box is there."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator("#milady-generate-prompt textarea").wait_for()
    return page


def fill_form(page: Any, prompt: str, count: int, preset: str | None = None) -> None:
    page.locator("#milady-generate-prompt textarea").fill(prompt)
    if preset is not None:
        page.locator("#milady-generate-style_preset input").click()
        page.get_by_role("option", name=re.compile(rf"^{re.escape(preset)} ·")).click()
    count_box = page.locator("#milady-generate-num_images input[type=number]")
    count_box.fill(str(count))
    count_box.press("Tab")
