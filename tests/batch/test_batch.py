"""`milady batch`: check everything first, run concurrently, record each line, resume."""

from __future__ import annotations

import asyncio
import json

import pytest
from PIL import Image

from milady_integrations.batch import read_batch, run_batch
from milady_integrations.local import LocalServer, ServerConfig

from .conftest import image_files, manifest_records

GOOD = [
    {"prompt": "a red fox in snow", "num_images": 2},
    "a blue whale",
    {"prompt": "a neon cat", "aspect_ratio": "16:9", "style_preset": "neon-punk", "id": "cat"},
    {"prompt": "a lighthouse", "model": "openai/gpt-image-2", "num_images": 3},
]


def test_good_lines_write_images_and_a_manifest(server, write_jsonl, run_cli, tmp_path):
    out = tmp_path / "out"
    before = server.stats.generate_requests
    result = run_cli(server, "batch", str(write_jsonl(GOOD)), "-o", str(out), "--concurrency", "3")

    assert result.code == 0, result.err
    assert server.stats.generate_requests - before == 4
    records = manifest_records(out)
    assert sorted(r["line"] for r in records) == [1, 2, 3, 4]
    assert all(r["status"] == "done" and r["error"] is None for r in records)
    by_id = {r["id"]: r for r in records}
    assert len(by_id["line-00001"]["files"]) == 2 and len(by_id["line-00004"]["files"]) == 3
    assert by_id["cat"]["files"][0].startswith("cat-")
    # Every file the manifest names exists and is a whole image of the asked shape.
    named = [name for r in records for name in r["files"]]
    assert sorted(named) == [p.name for p in image_files(out)]
    with Image.open(out / by_id["cat"]["files"][0]) as picture:
        assert picture.width > picture.height
    assert all(len(r["urls"]) == len(r["files"]) and r["request_ids"] for r in records)
    assert "7 images written" in result.err
    assert "down 0.26 (two readings" in result.err  # 4 images at 0.02 and 3 at 0.06 (the local prices)


def test_bad_lines_are_all_reported_and_nothing_is_sent(server, write_jsonl, run_cli, tmp_path):
    rows = [
        {"prompt": "fine"},
        {"prompt": "", "num_images": 7},
        "=this is not json",
        {"prompt": "ok", "aspect_ratio": "5:4", "colour": "red"},
        {"prompt": "ok", "source_image": "missing.png"},
        {"prompt": "ok", "model": "someone/unknown-model"},
        {"prompt": "one", "id": "same"},
        {"prompt": "two", "id": "same"},
    ]
    out = tmp_path / "out"
    before = server.stats.total_requests
    result = run_cli(server, "batch", str(write_jsonl(rows)), "-o", str(out))

    assert result.code == 2
    assert server.stats.total_requests == before
    assert not out.exists()
    report = result.err
    assert "8 invalid lines, nothing was sent" in report
    for expected in (
        "line 2: prompt is empty",
        "line 2: num_images=7 is not allowed",
        "line 3: is not JSON",
        "line 4: aspect_ratio='5:4' is not allowed: choose one of 1:1, 16:9",
        "line 4: unknown field 'colour'",
        "line 5: source_image names no readable file",
        "line 6: model='someone/unknown-model' is not a known model",
        "line 8: id 'same' is also used on line 7",
    ):
        assert expected in report
    assert "line 1:" not in report and "line 7:" not in report


def test_a_second_run_skips_finished_lines_and_writes_nothing_twice(server, write_jsonl, run_cli, tmp_path):
    prompts, out = write_jsonl(GOOD), tmp_path / "out"
    assert run_cli(server, "batch", str(prompts), "-o", str(out)).code == 0
    files = {p.name: p.stat().st_mtime_ns for p in image_files(out)}
    manifest = (out / "manifest.jsonl").read_text()
    before = server.stats.total_requests

    again = run_cli(server, "batch", str(prompts), "-o", str(out))

    assert again.code == 0
    assert server.stats.total_requests == before
    assert {p.name: p.stat().st_mtime_ns for p in image_files(out)} == files
    assert (out / "manifest.jsonl").read_text() == manifest
    assert "4 done before (skipped)" in again.err


def test_an_edited_line_runs_again_without_touching_the_old_files(server, write_jsonl, run_cli, tmp_path):
    out = tmp_path / "out"
    assert run_cli(server, "batch", str(write_jsonl(["a fox", "a cat"])), "-o", str(out)).code == 0
    old = {p.name for p in image_files(out)}
    before = server.stats.generate_requests

    assert run_cli(server, "batch", str(write_jsonl(["a fox", "a dog"])), "-o", str(out)).code == 0

    assert server.stats.generate_requests - before == 1
    assert old < {p.name for p in image_files(out)}
    assert len(image_files(out)) == 3


def test_a_failed_line_is_recorded_the_others_finish_and_a_rerun_retries_it(server, write_jsonl, run_cli, tmp_path):
    prompts, out = write_jsonl(["one", "two", "three", "four"]), tmp_path / "out"
    server.faults.force_status(402, count=1)

    result = run_cli(server, "batch", str(prompts), "-o", str(out), "--concurrency", "1")

    assert result.code == 4  # as `milady generate` answers a 402
    records = manifest_records(out)
    failed = [r for r in records if r["status"] == "failed"]
    assert len(records) == 4 and len(failed) == 1
    assert failed[0]["error"]["type"] == "InsufficientCreditsError"
    assert failed[0]["error"]["status"] == 402 and failed[0]["files"] == []
    assert len(image_files(out)) == 3
    assert f"failed line {failed[0]['line']}" in result.err

    before = server.stats.generate_requests
    rerun = run_cli(server, "batch", str(prompts), "-o", str(out))
    assert rerun.code == 0
    assert server.stats.generate_requests - before == 1
    assert len(image_files(out)) == 4


async def test_cancelling_mid_run_leaves_a_consistent_manifest_and_no_partial_files(server, write_jsonl, tmp_path):
    lines = read_batch(write_jsonl([f"picture {i}" for i in range(10)]))
    out = tmp_path / "out"
    server.faults.update(latency=0.3)
    two_done = asyncio.Event()

    def progress(state):
        if state.finished >= 2:
            two_done.set()

    task = asyncio.create_task(
        run_batch(lines, out, api_key=server.api_key, base_url=server.base_url, concurrency=2, progress=progress)
    )
    await two_done.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    records = manifest_records(out)  # every line parses
    assert 2 <= len(records) < 10
    assert not list(out.glob("*.part")) and not list(out.glob(".*"))
    named = sorted(name for r in records for name in r["files"])
    assert named == [p.name for p in image_files(out)]  # nothing written that is not recorded
    for name in named:
        with Image.open(out / name) as picture:
            picture.load()  # whole files only

    server.faults.clear()
    summary = await run_batch(lines, out, api_key=server.api_key, base_url=server.base_url)
    assert summary.skipped == len(records) and summary.done == 10 - len(records)
    assert len(image_files(out)) == 10
    assert len({r["id"] for r in manifest_records(out)}) == 10


async def test_stop_lets_requests_in_flight_finish_and_records_them(server, write_jsonl, tmp_path):
    lines = read_batch(write_jsonl([f"picture {i}" for i in range(8)]))
    out, stop = tmp_path / "out", asyncio.Event()
    server.faults.update(latency=0.3)
    seen = []

    def progress(state):
        seen.append(state.finished)
        if state.finished >= 1:
            stop.set()

    summary = await run_batch(
        lines, out, api_key=server.api_key, base_url=server.base_url, concurrency=2, progress=progress, stop=stop
    )

    assert summary.stopped == "interrupted"
    assert 1 <= summary.done < 8 and not summary.failed
    assert len(manifest_records(out)) == summary.done
    assert len(image_files(out)) == summary.done


async def test_a_small_rate_limit_slows_the_batch_but_every_line_finishes(write_jsonl, tmp_path):
    lines = read_batch(write_jsonl([f"picture {i}" for i in range(9)]))
    out = tmp_path / "out"
    async with LocalServer(ServerConfig(rate_limit=3, rate_window=1.0)) as small:
        summary = await run_batch(lines, out, api_key=small.api_key, base_url=small.base_url, concurrency=4)
        balance_requests = small.stats.requests.get("balance", 0)
        generate_requests = small.stats.generate_requests

    assert summary.done == 9 and not summary.failed and summary.ok
    assert summary.rate_limited >= 1
    assert generate_requests >= 9 and balance_requests == 2
    assert len(image_files(out)) == 9


def test_a_partial_answer_is_done_and_says_so(server, write_jsonl, run_cli, tmp_path):
    out = tmp_path / "out"
    server.faults.update(fail_images=1)
    result = run_cli(server, "batch", str(write_jsonl([{"prompt": "two please", "num_images": 2}])), "-o", str(out))

    assert result.code == 0
    (record,) = manifest_records(out)
    assert record["status"] == "done" and record["requested"] == 2 and record["returned"] == 1
    assert "1 of them with fewer images than asked" in result.err


def test_an_image_that_cannot_be_read_costs_none_of_the_others(write_jsonl, run_cli, tmp_path):
    out = tmp_path / "out"
    with LocalServer(ServerConfig(image_store_bytes=1)) as forgetful:  # keeps only its newest image
        result = run_cli(forgetful, "batch", str(write_jsonl([{"prompt": "three please", "num_images": 3}])), "-o",
                         str(out))
    (record,) = manifest_records(out)
    assert record["status"] == "failed" and record["returned"] == 3 and len(record["urls"]) == 3
    assert len(image_files(out)) == 1 and record["files"] == [image_files(out)[0].name]
    assert "1 image" in result.err  # written, of 3 billed


def test_source_images_are_paths_relative_to_the_file(server, write_jsonl, run_cli, tmp_path):
    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / "red.png")
    out = tmp_path / "out"
    result = run_cli(
        server, "batch", str(write_jsonl([{"prompt": "make it blue", "source_image": "red.png"}])), "-o", str(out)
    )
    assert result.code == 0, result.err
    assert len(image_files(out)) == 1


def test_without_a_key_it_runs_on_the_local_server_and_says_so(write_jsonl, tmp_path, monkeypatch):
    import io

    from milady_integrations.cli import main

    monkeypatch.delenv("MILADY_API_KEY", raising=False)
    monkeypatch.delenv("MILADY_BASE_URL", raising=False)
    err = io.StringIO()
    code = main(["batch", str(write_jsonl(["a fox"])), "-o", str(tmp_path / "out")], out=io.StringIO(), err=err)
    assert code == 0
    assert "drawn locally" in err.getvalue()
    assert json.loads((tmp_path / "out" / "manifest.jsonl").read_text())["status"] == "done"
