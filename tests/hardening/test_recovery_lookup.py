"""A failed gallery look-up never hides that a request may have run.

After an answer that leaves the outcome unknown (a 504 from the proxy), the client looks for
the request in the gallery. When that look-up fails too, the error raised must still be the
request's own ("may have been charged"), never the look-up's: a 429 there reads as "safe to
send again", and the batch's rate gate would send a request that may have been billed twice.

The local server's gallery cannot be made to fail, so a small scripted service on loopback
plays both routes and counts the generate requests it receives.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from milady_integrations import MiladyClient, OutcomeUnknownError
from milady_integrations.batch import read_batch, run_batch

PROXY_504 = b"<html><head><title>504 Gateway Time-out</title></head><body>nginx</body></html>"


class ScriptedService:
    """generate-image answers 504 (the outcome is unknown); the gallery answers ``gallery_status``."""

    def __init__(self, gallery_status: int) -> None:
        self.hits: Counter[str] = Counter()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: bytes, kind: str, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in {"Content-Type": kind, "Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.hits[self.path] += 1
                self._answer(504, PROXY_504, "text/html", {})

            def do_GET(self) -> None:
                service.hits[self.path.split("?")[0]] += 1
                body = json.dumps({"success": False, "error": "Too many requests", "code": "rate_limit_exceeded"})
                retry = {"Retry-After": "1"} if gallery_status == 429 else {}
                self._answer(gallery_status, body.encode(), "application/json", retry)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def generate_requests(self) -> int:
        return self.hits["/api/v1/generate-image"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(params=[429, 500, 503])
def service(request: pytest.FixtureRequest) -> Iterator[ScriptedService]:
    scripted = ScriptedService(request.param)
    yield scripted
    scripted.close()


def test_the_request_s_own_error_is_raised_when_the_gallery_look_up_fails(service: ScriptedService) -> None:
    client = MiladyClient("mk-test", base_url=service.base_url, recover_for=1, max_retries=0, retry_rate_limits=False)
    with client, pytest.raises(OutcomeUnknownError) as caught:
        client.generate_image("a fox")
    assert caught.value.may_have_run
    assert "may have been charged" in str(caught.value)
    assert service.hits["/api/v1/gallery"] >= 1  # it did look
    assert service.generate_requests == 1


async def test_a_batch_line_that_may_have_run_is_not_sent_again_when_the_gallery_refuses(
    service: ScriptedService, tmp_path: Path
) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "a fox"}\n')
    summary = await run_batch(read_batch(prompts), tmp_path / "out", api_key="mk-test", base_url=service.base_url,
                              client_options={"max_retries": 0})
    assert service.generate_requests == 1  # never paid twice
    assert len(summary.failed) == 1
