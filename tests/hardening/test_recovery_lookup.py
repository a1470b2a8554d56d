"""A failed gallery look-up never hides that a request may have run.

After an answer that leaves the outcome unknown (a 504 from the proxy), the client looks for
the request in the gallery. When that look-up fails too, the error raised must still be the
request's own ("may have been charged"), never the look-up's: a 429 there reads as "safe to
send again", and the batch's rate gate would send a request that may have been billed twice.
The local server plays both: a forced 504 for generate, and its gallery taken down.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from milady_integrations import MiladyClient, OutcomeUnknownError
from milady_integrations.batch import read_batch, run_batch
from milady_integrations.local import LocalServer


@pytest.fixture(params=[429, 500, 503])
def gallery_down(request: pytest.FixtureRequest, server: LocalServer) -> LocalServer:
    """The next generate request answers a proxy's 504 (nothing made); the gallery answers ``param``."""
    server.faults.force_status(504)
    server.faults.update(down="gallery", down_status=request.param)
    return server


def test_the_request_s_own_error_is_raised_when_the_gallery_look_up_fails(gallery_down: LocalServer) -> None:
    sent, looked = gallery_down.stats.generate_requests, gallery_down.stats.requests.get("gallery", 0)
    client = MiladyClient(gallery_down.api_key, base_url=gallery_down.base_url, recover_for=1, max_retries=0,
                          retry_rate_limits=False)
    with client, pytest.raises(OutcomeUnknownError) as caught:
        client.generate_image("a fox")
    assert caught.value.may_have_run
    assert "may have been charged" in str(caught.value)
    assert gallery_down.stats.requests["gallery"] > looked  # it did look
    assert gallery_down.stats.generate_requests == sent + 1


async def test_a_batch_line_that_may_have_run_is_not_sent_again_when_the_gallery_refuses(
    gallery_down: LocalServer, tmp_path: Path
) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "a fox"}\n')
    sent = gallery_down.stats.generate_requests
    summary = await run_batch(read_batch(prompts), tmp_path / "out", api_key=gallery_down.api_key,
                              base_url=gallery_down.base_url, client_options={"max_retries": 0})
    assert gallery_down.stats.generate_requests == sent + 1  # never paid twice
    assert len(summary.failed) == 1
