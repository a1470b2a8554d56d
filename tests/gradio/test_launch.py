"""`python -m gradio_app` and `milady demo` start the demo on loopback, local server behind it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from milady_integrations.offline import LOCAL_BANNER

from .conftest import free_port, wait_for_page

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "command",
    [["-m", "gradio_app"], ["-m", "milady_integrations.cli", "demo"]],
    ids=["python -m gradio_app", "milady demo"],
)
def test_the_demo_starts_on_loopback_with_the_local_server(command: list[str]) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MILADY_API_KEY", "MILADY_BASE_URL")}
    process = subprocess.Popen(
        [sys.executable, *command, "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        page = wait_for_page(process, f"http://127.0.0.1:{port}/config")
        assert page.status_code == 200
        assert LOCAL_BANNER in page.text
        api = httpx.get(f"http://127.0.0.1:{port}/gradio_api/info").json()
        assert "/generate" in api["named_endpoints"]
        process.send_signal(signal.SIGINT)  # Ctrl+C: the app and its local server stop quietly
        assert process.wait() == 130
        output = process.stdout.read().decode() if process.stdout else ""
        assert "Traceback" not in output
        assert "KeyboardInterrupt" not in output
        assert "Keyboard interruption" not in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
