"""(1) Client overhead: generate_image on both clients vs a bare httpx POST parsed to JSON.

The server runs in its own process with ``--cheap`` (each picture drawn once, the same
bytes served again), so the loop measures HTTP on loopback plus each side's own work.
Variants are interleaved round by round; requests/s are medians over rounds, ratios the
median of each round's ratio.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from _common import Remote, median, server_process

from milady_integrations import AsyncMiladyClient, MiladyClient

PROMPT = "a lighthouse at dusk"


def _body() -> dict[str, Any]:
    return MiladyClient(api_key="x").build_request(PROMPT).to_wire()


def _headers(remote: Remote) -> dict[str, str]:
    return {"Authorization": f"Bearer {remote.api_key}", "X-API-Key": remote.api_key}


def bare_sync(remote: Remote, n: int) -> float:
    url, body, headers = f"{remote.base_url}/api/v1/generate-image", _body(), _headers(remote)
    with httpx.Client() as http:
        http.post(url, json=body, headers=headers).json()  # warm the connection
        started = time.perf_counter()
        for _ in range(n):
            response = http.post(url, json=body, headers=headers)
            response.raise_for_status()
            response.json()
        return n / (time.perf_counter() - started)


def client_sync(remote: Remote, n: int) -> float:
    with MiladyClient(api_key=remote.api_key, base_url=remote.base_url) as client:
        client.generate_image(PROMPT)
        started = time.perf_counter()
        for _ in range(n):
            client.generate_image(PROMPT)
        return n / (time.perf_counter() - started)


async def _bare_async(remote: Remote, n: int) -> float:
    url, body, headers = f"{remote.base_url}/api/v1/generate-image", _body(), _headers(remote)
    async with httpx.AsyncClient() as http:
        (await http.post(url, json=body, headers=headers)).json()
        started = time.perf_counter()
        for _ in range(n):
            response = await http.post(url, json=body, headers=headers)
            response.raise_for_status()
            response.json()
        return n / (time.perf_counter() - started)


async def _client_async(remote: Remote, n: int) -> float:
    async with AsyncMiladyClient(api_key=remote.api_key, base_url=remote.base_url) as client:
        await client.generate_image(PROMPT)
        started = time.perf_counter()
        for _ in range(n):
            await client.generate_image(PROMPT)
        return n / (time.perf_counter() - started)


def bare_async(remote: Remote, n: int) -> float:
    return asyncio.run(_bare_async(remote, n))


def client_async(remote: Remote, n: int) -> float:
    return asyncio.run(_client_async(remote, n))


VARIANTS = {
    "bare httpx (sync)": bare_sync,
    "MiladyClient": client_sync,
    "bare httpx (async)": bare_async,
    "AsyncMiladyClient": client_async,
}


def run(quick: bool) -> dict[str, Any]:
    n, rounds = (100, 3) if quick else (300, 9)
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with server_process(cheap=True) as remote:
        for _ in range(rounds):
            for name, variant in VARIANTS.items():
                rates[name].append(variant(remote, n))
    result = {name: median(values) for name, values in rates.items()}

    def paired(ours: str, bare: str) -> float:
        # Per-round ratios of neighbouring runs: drift in a shared machine's load cancels out.
        return median([a / b for a, b in zip(rates[ours], rates[bare], strict=True)])

    return {
        "requests_per_round": n,
        "rounds": rounds,
        "rps": result,
        "sync_ratio": paired("MiladyClient", "bare httpx (sync)"),
        "async_ratio": paired("AsyncMiladyClient", "bare httpx (async)"),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
