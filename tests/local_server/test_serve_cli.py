"""``milady serve`` as a user runs it: keys, the start-up lines, refusals and a busy port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

SERVE = [sys.executable, "-m", "milady_integrations.cli", "serve"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    process = subprocess.Popen([*SERVE, "--port", str(port), "--api-key", "secret-one", "--api-key", "secret-two"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/openapi.json")
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.communicate()
                time.sleep(0.05)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_with_api_keys_accepts_only_those(served: tuple[str, subprocess.Popen[str]]) -> None:
    base, process = served
    post = lambda key: httpx.post(f"{base}/api/v1/generate-image", json={"prompt": "a"},  # noqa: E731
                                  headers={"Authorization": f"Bearer {key}"})
    assert post("secret-one").status_code == 200 and post("secret-two").status_code == 200
    other = post("guess")
    assert other.status_code == 401
    assert other.json() == {"error": "Authentication required. Provide a valid session or API key."}
    schemes = httpx.get(base + "/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer" and schemes["apiKeyAuth"]["name"] == "X-API-Key"
    process.terminate()
    out, _ = process.communicate(timeout=10)
    assert "only the 2 key(s) given with --api-key" in out and "secret-one" not in out


def test_serve_without_keys_says_any_key_works() -> None:
    port = _free_port()
    with subprocess.Popen([*SERVE, "--port", str(port)], stdout=subprocess.PIPE, text=True) as process:
        first = process.stdout.readline() if process.stdout else ""
        lines = [first] + [process.stdout.readline() for _ in range(3)] if process.stdout else []
        process.terminate()
    text = "".join(lines)
    assert f"http://127.0.0.1:{port}" in first
    assert "MILADY_API_KEY=local-key" in text and "accepts any key" in text


def test_serve_refuses_a_public_host_without_keys() -> None:
    done = subprocess.run([*SERVE, "--host", "0.0.0.0", "--port", str(_free_port())], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: refusing to serve 0.0.0.0 to others with no key: add --api-key KEY (or --allow-any-key)"]


def test_a_busy_port_is_one_clear_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*SERVE, "--port", str(port)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == f"error: port {port} is in use: choose another with --port"
