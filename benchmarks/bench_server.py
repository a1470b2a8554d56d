"""(5) The local server: requests per second at concurrency 1 and 32, and per image size.

The server runs in its own process and really draws and encodes every picture (no
cache); the load comes from bare httpx, so the figures are the server's. One image per
request. Distinct prompts, so nothing is served twice.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import httpx
from _common import Remote, median, server_process

from milady_integrations.local import IMAGE_SIZES

_counter = itertools.count()


async def _load(remote: Remote, total: int, concurrency: int, aspect_ratio: str) -> float:
    url = f"{remote.base_url}/api/v1/generate-image"
    headers = {"X-API-Key": remote.api_key}
    gate = asyncio.Semaphore(concurrency)

    async def one(http: httpx.AsyncClient) -> None:
        async with gate:
            body = {"prompt": f"load test picture {next(_counter)}", "aspectRatio": aspect_ratio}
            response = await http.post(url, json=body, headers=headers)
            response.raise_for_status()
            response.json()

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        await one(http)
        started = time.perf_counter()
        await asyncio.gather(*(one(http) for _ in range(total)))
        return total / (time.perf_counter() - started)


def run(quick: bool) -> dict[str, Any]:
    rounds = 1 if quick else 3
    per_size = 4 if quick else 12
    result: dict[str, Any] = {"rounds": rounds, "concurrency": {}, "sizes": {}}
    with server_process(cheap=False) as remote:
        for concurrency, total in ((1, 6 if quick else 24), (32, 16 if quick else 96)):
            rates = [asyncio.run(_load(remote, total, concurrency, "1:1")) for _ in range(rounds)]
            result["concurrency"][concurrency] = median(rates)
        for ratio, (width, height) in IMAGE_SIZES.items():
            rates = [asyncio.run(_load(remote, per_size, 1, ratio)) for _ in range(rounds)]
            result["sizes"][ratio] = {"size": f"{width}x{height}", "rps": median(rates), "ms": 1000 / median(rates)}
    return result


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
