"""(1) Client overhead: both clients against bare httpx, on a server whose own cost is tiny.

The server is the standard library's ``ThreadingHTTPServer`` in its own process with
canned JSON answers (``_server.py --plain``: HTTP/1.1 keep-alive, Content-Length), so
a request's time is loopback HTTP plus the caller's own work. A block is ``n`` requests,
alternately ``generate_image`` and a balance call; bare httpx does what a careful
hand-written caller does (send the key, post the JSON body, check the status, parse the
JSON, pick out the image URL or the balance). Both sides keep one connection open.

A run is ``pairs`` pairs of blocks, bare httpx and the client interleaved (the order
alternates pair by pair); its ratio is the median of its pairs' requests/s ratios, so a
burst of load from elsewhere on a shared machine spoils one pair, not the run. The
result is the median of the runs' ratios, with their spread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from _common import Remote, median, server_process

from milady_integrations import AsyncMiladyClient, MiladyClient

PROMPT = "a lighthouse at dusk"
GENERATE = "/api/v1/generate-image"
BALANCE = "/api/v1/credits/balance"
WARM = 20  # requests per side before measuring (connections open, code paths loaded)

#: One block's (requests/s, this process's CPU microseconds per request).
Measure = tuple[float, float]


def _body() -> dict[str, Any]:
    return MiladyClient(api_key="x").build_request(PROMPT).to_wire()


def _headers(remote: Remote) -> dict[str, str]:
    return {"Authorization": f"Bearer {remote.api_key}", "X-API-Key": remote.api_key}


def _image_url(response: httpx.Response) -> str:
    response.raise_for_status()
    return str(response.json()["images"][0]["url"])


def _balance(response: httpx.Response) -> float:
    response.raise_for_status()
    return float(response.json()["balance"])


def _measure(started: float, cpu: float, n: int) -> Measure:
    return n / (time.perf_counter() - started), (time.process_time() - cpu) / n * 1e6


def _sync_pairs(remote: Remote, n: int, pairs: int) -> list[tuple[Measure, Measure]]:
    """(bare, client) per pair of blocks."""
    body, headers = _body(), _headers(remote)
    generate, balance = remote.base_url + GENERATE, remote.base_url + BALANCE
    with httpx.Client() as http, MiladyClient(api_key=remote.api_key, base_url=remote.base_url) as client:

        def bare(count: int) -> Measure:
            started, cpu = time.perf_counter(), time.process_time()
            for i in range(count):
                if i % 2:
                    _balance(http.get(balance, headers=headers))
                else:
                    _image_url(http.post(generate, json=body, headers=headers))
            return _measure(started, cpu, count)

        def ours(count: int) -> Measure:
            started, cpu = time.perf_counter(), time.process_time()
            for i in range(count):
                if i % 2:
                    client.credits_balance()
                else:
                    client.generate_image(PROMPT).images[0].url  # noqa: B018 - what a caller reads
            return _measure(started, cpu, count)

        bare(WARM), ours(WARM)
        measured = []
        for p in range(pairs):
            if p % 2:
                b = ours(n)
                measured.append((bare(n), b))
            else:
                a = bare(n)
                measured.append((a, ours(n)))
        return measured


async def _async_pairs(remote: Remote, n: int, pairs: int) -> list[tuple[Measure, Measure]]:
    body, headers = _body(), _headers(remote)
    generate, balance = remote.base_url + GENERATE, remote.base_url + BALANCE
    async with (
        httpx.AsyncClient() as http,
        AsyncMiladyClient(api_key=remote.api_key, base_url=remote.base_url) as client,
    ):

        async def bare(count: int) -> Measure:
            started, cpu = time.perf_counter(), time.process_time()
            for i in range(count):
                if i % 2:
                    _balance(await http.get(balance, headers=headers))
                else:
                    _image_url(await http.post(generate, json=body, headers=headers))
            return _measure(started, cpu, count)

        async def ours(count: int) -> Measure:
            started, cpu = time.perf_counter(), time.process_time()
            for i in range(count):
                if i % 2:
                    await client.credits_balance()
                else:
                    (await client.generate_image(PROMPT)).images[0].url  # noqa: B018
            return _measure(started, cpu, count)

        await bare(WARM)
        await ours(WARM)
        measured = []
        for p in range(pairs):
            if p % 2:
                b = await ours(n)
                measured.append((await bare(n), b))
            else:
                a = await bare(n)
                measured.append((a, await ours(n)))
        return measured


def _runs(one_run: Callable[[], list[tuple[Measure, Measure]]], runs: int) -> dict[str, Any]:
    ratios, bare_rps, ours_rps, bare_cpu, ours_cpu = [], [], [], [], []
    for _ in range(runs):
        pairs = one_run()
        ratios.append(median([ours[0] / bare[0] for bare, ours in pairs]))
        bare_rps.append(median([bare[0] for bare, _ in pairs]))
        ours_rps.append(median([ours[0] for _, ours in pairs]))
        bare_cpu.append(median([bare[1] for bare, _ in pairs]))
        ours_cpu.append(median([ours[1] for _, ours in pairs]))
    return {
        "ratio": median(ratios),
        "ratios": ratios,
        "bare_rps": median(bare_rps),
        "client_rps": median(ours_rps),
        "bare_cpu_us": median(bare_cpu),
        "client_cpu_us": median(ours_cpu),
    }


def run(quick: bool, *, n: int = 50, pairs: int | None = None, runs: int | None = None) -> dict[str, Any]:
    pairs = pairs or (6 if quick else 20)
    runs = runs or (3 if quick else 7)

    with server_process(plain=True) as remote:
        sync = _runs(lambda: _sync_pairs(remote, n, pairs), runs)
        async_ = _runs(lambda: asyncio.run(_async_pairs(remote, n, pairs)), runs)
    return {
        "requests_per_block": n,
        "pairs": pairs,
        "runs": runs,
        "sync": sync,
        "async": async_,
        "sync_ratio": sync["ratio"],
        "async_ratio": async_["ratio"],
    }


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-n", type=int, default=50, help="requests per block")
    parser.add_argument("--pairs", type=int, default=None, help="pairs of blocks per run")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.quick, n=args.n, pairs=args.pairs, runs=args.runs), indent=2))
