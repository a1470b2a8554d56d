"""`milady batch` in its own process: the first Ctrl-C starts nothing new, what runs is saved and
counted, and the manifest says what each line cost and whether its URLs still work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from milady_integrations.local import LocalServer, ServerConfig

from ._proc import clean_env, interrupt, milady, no_traceback, start, wait_for


@pytest.fixture
def own_server() -> Iterator[LocalServer]:
    with LocalServer(ServerConfig(rate_limit=1_000_000)) as running:
        yield running


def _prompts(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"a fox number {i}"}) + "\n" for i in range(count)))
    return path


def _records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("concurrency", [2, 4])
def test_the_first_ctrl_c_starts_nothing_new_and_saves_what_runs(
    own_server: LocalServer, tmp_path: Path, concurrency: int
) -> None:
    # Each request takes long enough that Ctrl-C lands while the first ones are still running,
    # and workers beyond the concurrency already hold a line and wait for a slot.
    own_server.faults.update(latency=3)
    out = tmp_path / "out"
    env = clean_env(MILADY_API_KEY=own_server.api_key, MILADY_BASE_URL=own_server.base_url)
    process = start("batch", str(_prompts(tmp_path, 12)), "-o", str(out), "--concurrency", str(concurrency), env=env)
    wait_for(lambda: own_server.stats.generate_requests == concurrency, "the first requests reached the server")
    code, _, err = interrupt(process)

    assert code == 130, err
    assert no_traceback(err)
    sent = own_server.stats.generate_requests
    assert sent == concurrency, f"{sent} requests were sent, {concurrency} were running at Ctrl-C"
    records = _records(out)
    assert len(records) == concurrency and all(r["status"] == "done" for r in records)
    assert len(list(out.glob("*.webp"))) == own_server.stats.images_billed == concurrency
    # The last progress line and the summary count the same lines.
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert f" {concurrency}/12 lines" in progress[-1], err
    assert f"12 lines: {concurrency} done now, 0 done before (skipped), 0 failed, {12 - concurrency} not started" in err
    assert "every request that had been sent finished and was saved" in err
    # The standard answer carries no cost: null, and the reason, never an estimate.
    assert all(r["credits"] is None for r in records)
    assert all(r["credits_note"].startswith("not reported") for r in records)
    assert all(r["urls_temporary"] is False and r["urls_note"] is None for r in records)

    # The next run does the rest and nothing twice.
    own_server.faults.update(latency=0)
    again = milady("batch", str(tmp_path / "prompts.jsonl"), "-o", str(out), env=env)
    assert again.returncode == 0, again.stderr
    assert own_server.stats.generate_requests == 12
    assert len(list(out.glob("*.webp"))) == 12


def test_a_reported_cost_is_recorded_per_line(own_server: LocalServer, tmp_path: Path) -> None:
    own_server.faults.update(response_shape="success")  # the variant whose answer carries the cost
    out = tmp_path / "out"
    env = clean_env(MILADY_API_KEY=own_server.api_key, MILADY_BASE_URL=own_server.base_url)
    done = milady("batch", str(_prompts(tmp_path, 3)), "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr
    records = _records(out)
    assert [r["credits"] for r in records] == [pytest.approx(0.02)] * 3
    assert all(r["credits_note"] is None for r in records)
    assert own_server.stats.credits_billed == pytest.approx(0.06)
    assert "credits: 0.06 billed for this run's lines, as the service reported" in done.stderr


def test_urls_of_the_built_in_server_are_marked_temporary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = milady("batch", str(_prompts(tmp_path, 2)), "-o", str(out))  # no key, no URL: in-process server
    assert done.returncode == 0, done.stderr
    records = _records(out)
    assert all(r["urls_temporary"] is True and r["urls"] for r in records)
    assert all("stopped when this command ended" in r["urls_note"] for r in records)
    assert "note: the image URLs are those of the built-in local server" in done.stderr
    assert sorted(name for r in records for name in r["files"]) == sorted(p.name for p in out.glob("*.webp"))
