"""Re-make docs/demo.png: the standalone demo after generating three images.

    python scripts/screenshot_demo.py [--out docs/demo.png]

Runs the demo on the built-in local server (no key, nothing billed) and drives Debian's
chromium (/usr/bin/chromium) through Playwright, as the browser tests do. Run by hand
when the page changes; CI never rewrites tracked files.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PROMPT = "A lighthouse on a cliff in a storm, waves crashing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Re-make the demo screenshot.")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "demo.png", help="default: docs/demo.png")
    args = parser.parse_args(argv)
    for name in ("MILADY_API_KEY", "MILADY_BASE_URL"):
        os.environ.pop(name, None)  # the picture shows the offline demo, with its banner

    from gradio_app import close_demo, create_demo

    demo = create_demo()
    try:
        demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(str(demo.local_url))
            page.locator("#milady-generate-prompt textarea").fill(PROMPT)
            page.locator("#milady-generate-style_preset input").click()
            page.get_by_role("option", name=re.compile(r"^origami ·")).click()
            count = page.locator("#milady-generate-num_images input[type=number]")
            count.fill("3")
            count.press("Tab")
            page.locator("#milady-generate-generate").click()
            images = page.locator("#milady-generate-gallery img")
            expect(images).to_have_count(3)
            for index in range(3):
                expect(images.nth(index)).to_have_js_property("complete", True)
            page.mouse.move(0, 0)  # no hover highlight in the picture
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            browser.close()
    finally:
        close_demo(demo)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
