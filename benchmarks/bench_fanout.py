"""(2) Fan-out: many images at once, with 250 ms of server latency per request.

16 images = 4 requests of 4 sent together: wall time over one 4-image request's time
(ideal 1.0). 64 images = 16 requests at concurrency 8: wall time over the ideal, two
rounds of one request. The server runs in its own process with ``--cheap`` pictures so
the figure shows our fan-out, not the local server drawing 64 pictures on this machine.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from _common import Remote, median, server_process

from milady_integrations import AsyncMiladyClient, MiladyClient

LATENCY = 0.25
PROMPT = "a field of sunflowers"


def _sync(remote: Remote, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"one": [], "16": [], "64": []}
    with MiladyClient(api_key=remote.api_key, base_url=remote.base_url) as client:
        client.generate_images(PROMPT, count=16, concurrency=8)  # warm connections and the picture cache
        for _ in range(rounds):
            started = time.perf_counter()
            client.generate_image(PROMPT, num_images=4)
            out["one"].append(time.perf_counter() - started)
            started = time.perf_counter()
            assert client.generate_images(PROMPT, count=16, concurrency=4).returned == 16
            out["16"].append(time.perf_counter() - started)
            started = time.perf_counter()
            assert client.generate_images(PROMPT, count=64, concurrency=8).returned == 64
            out["64"].append(time.perf_counter() - started)
    return out


async def _async(remote: Remote, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"one": [], "16": [], "64": []}
    async with AsyncMiladyClient(api_key=remote.api_key, base_url=remote.base_url) as client:
        await client.generate_images(PROMPT, count=16, concurrency=8)
        for _ in range(rounds):
            started = time.perf_counter()
            await client.generate_image(PROMPT, num_images=4)
            out["one"].append(time.perf_counter() - started)
            started = time.perf_counter()
            assert (await client.generate_images(PROMPT, count=16, concurrency=4)).returned == 16
            out["16"].append(time.perf_counter() - started)
            started = time.perf_counter()
            assert (await client.generate_images(PROMPT, count=64, concurrency=8)).returned == 64
            out["64"].append(time.perf_counter() - started)
    return out


def run(quick: bool) -> dict[str, Any]:
    rounds = 2 if quick else 7
    with server_process(cheap=True) as remote:
        remote.set_faults(latency=LATENCY)
        kinds = {"sync": _sync(remote, rounds), "async": asyncio.run(_async(remote, rounds))}
    result: dict[str, Any] = {"latency": LATENCY, "rounds": rounds}
    for kind, times in kinds.items():
        one = median(times["one"])
        ideal_64 = math.ceil(16 / 8) * one
        result[kind] = {
            "one_request_s": one,
            "wall_16_s": median(times["16"]),
            "ratio_16": median(times["16"]) / one,
            "wall_64_s": median(times["64"]),
            "ideal_64_s": ideal_64,
            "ratio_64": median(times["64"]) / ideal_64,
        }
    return result


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
