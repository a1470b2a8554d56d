"""Running the server: start and stop, counters, the OpenAPI document, the blocking serve()."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest

from milady_integrations.local import LocalServer, ServerConfig, create_app, openapi_document


def test_starts_and_stops_without_leaking_threads() -> None:
    with LocalServer() as server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.api_key == "local-key"
        assert httpx.get(server.base_url + "/openapi.json").status_code == 200
        name = f"milady-local-{server.port}"
        assert name in [thread.name for thread in threading.enumerate()]
    assert name not in [thread.name for thread in threading.enumerate()]
    assert not server.running


def test_stops_promptly_while_an_image_url_hangs(key: str) -> None:
    # The hang (600 s) and the reader's patience (300 s) both far outlast the join below: only stopping ends it.
    with LocalServer(ServerConfig(hang_seconds=600)) as server, httpx.Client(base_url=server.base_url) as http:
        url = http.post(
            "/api/v1/generate-image",
            json={"prompt": "a"},
            headers={"X-API-Key": key, "X-Milady-Fault-Image-Url": "hang"},
        ).json()["images"][0]["url"]
        waiting = threading.Thread(target=lambda: httpx.get(url, timeout=300))
        waiting.start()
        for _ in range(1000):  # until the server holds the request (a busy machine may take a while)
            if server.stats.requests.get("image"):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the image request never reached the server")
    waiting.join(timeout=60)  # a generous bound for a busy machine; a stop that did not end the hang never joins
    assert not waiting.is_alive()


async def test_async_context_manager() -> None:
    async with LocalServer() as server, httpx.AsyncClient(base_url=server.base_url) as http:
        answer = await http.post("/api/v1/generate-image", json={"prompt": "a"}, headers={"X-API-Key": "k"})
        assert answer.status_code == 200


def test_stats_count_what_the_server_saw(srv: LocalServer, generate: Any, http: httpx.Client, key: str) -> None:
    assert srv.stats.total_requests == 0
    generate({"prompt": "a", "numImages": 2})
    generate({"prompt": ""})
    generate({"prompt": "a"}, auth=False)
    http.get("/api/v1/credits/balance", headers={"X-API-Key": key})
    stats = srv.stats
    assert stats.requests == {"generate": 3, "balance": 1}
    assert stats.generate_validated == 2
    assert (stats.images_generated, stats.images_billed) == (2, 2)
    assert stats.credits[key] == 99.96
    over_http = http.get("/_local/stats").json()
    assert over_http["generate_requests"] == 3 and over_http["images_billed"] == 2
    assert over_http["credits"][key] == 99.96


def test_credits_can_be_set_over_http(srv: LocalServer, http: httpx.Client, key: str) -> None:
    assert http.post("/_local/credits", json={"key": key, "amount": 0.5}).json()["balance"] == 0.5
    assert srv.credits(key) == 0.5
    assert http.post("/_local/credits", json={"key": key}).status_code == 400


def test_openapi_document_describes_both_endpoints(http: httpx.Client, srv: LocalServer) -> None:
    doc = http.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"][0]["url"] == srv.base_url
    generate = doc["paths"]["/api/v1/generate-image"]["post"]
    assert set(generate["responses"]) >= {"200", "400", "401", "402", "429", "500"}
    assert "Retry-After" in generate["responses"]["429"]["headers"]
    assert "/api/v1/credits/balance" in doc["paths"]
    request = generate["requestBody"]["content"]["application/json"]["schema"]
    assert request["properties"]["numImages"]["maximum"] == 4
    assert "21:9" in request["properties"]["aspectRatio"]["enum"]
    assert doc == openapi_document(srv.base_url)


def test_create_app_gives_independent_servers() -> None:
    first, second = create_app(ServerConfig(initial_credits=1)), create_app(ServerConfig(initial_credits=2))
    assert first.local is not second.local
    assert (first.local.balance("k"), second.local.balance("k")) == (1, 2)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_in_the_foreground_until_interrupted() -> None:
    port = _free_port()
    code = f"from milady_integrations.local import serve; serve(port={port}, log_level='warning')"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/credits/balance", headers={"X-API-Key": "k"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
        assert answer.json() == {"balance": 100}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
