"""A real browser on an app where visitors bring their own key, and on the README's example."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from gradio_app import milady_image_block
from milady_integrations import AsyncMiladyClient
from milady_integrations.local import LocalServer, ServerConfig

from ._browser import MARKS, fill_form, open_page, sync_api

REPO = Path(__file__).resolve().parents[2]
VISITOR_KEY = "visitor-key-browser-71c2"
pytestmark = MARKS


def _open(browser: Any, demo: gr.Blocks) -> Any:
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    return open_page(browser, str(demo.local_url))


def test_a_visitor_types_a_key_generates_two_images_and_a_wrong_key_shows_the_401_line(browser: Any) -> None:
    expect = sync_api.expect
    with LocalServer(ServerConfig(api_keys={VISITOR_KEY})) as service:
        with gr.Blocks() as demo:
            milady_image_block(AsyncMiladyClient(api_key="", base_url=service.base_url), pays="visitor")
        try:
            page = _open(browser, demo)
            key_box = page.locator("#milady-generate-api_key input")
            expect(key_box).to_have_attribute("type", "password")
            key_box.fill(VISITOR_KEY)
            fill_form(page, "A red fox reading under a lantern", 2)
            page.locator("#milady-generate-generate").click()
            expect(page.locator("#milady-generate-gallery img")).to_have_count(2)
            assert service.stats.images_billed == 2
            assert VISITOR_KEY not in page.content()
            assert (
                page.evaluate("() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})").find(
                    VISITOR_KEY
                )
                == -1
            )

            key_box.fill("wrong-key-0000")
            page.locator("#milady-generate-generate").click()
            toast = page.get_by_test_id("toast-body")
            expect(toast).to_contain_text("Enter your own Milady Cloud key in the key field")
            expect(page.locator("#milady-generate-gallery img")).to_have_count(0)
            assert service.stats.images_billed == 2
        finally:
            demo.close(verbose=False)


def _readme_example() -> str:
    text = (REPO / "gradio_app" / "README.md").read_text()
    section = text.split("## The block in your own app", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    return code.group(1).replace("demo.launch()", "")


def test_the_readme_example_counts_the_images_shown(browser: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    expect = sync_api.expect
    with LocalServer() as service:
        monkeypatch.setenv("MILADY_API_KEY", service.api_key)
        monkeypatch.setenv("MILADY_BASE_URL", service.base_url)
        scope: dict[str, Any] = {}
        exec(compile(_readme_example(), "gradio_app/README.md", "exec"), scope)
        demo = scope["demo"]
        try:
            page = _open(browser, demo)
            fill_form(page, "A tiny robot watering a bonsai", 3)
            page.locator("#milady-generate-generate").click()
            expect(page.locator("#milady-generate-gallery img")).to_have_count(3)
            expect(page.get_by_label("Images shown")).to_have_value("3")
        finally:
            demo.close(verbose=False)
