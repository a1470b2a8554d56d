"""A bounded loopback load on the local server through the async client (CI and the long run)."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

from milady_integrations import AsyncMiladyClient, MiladyError
from milady_integrations.local import LocalServer


@dataclass
class LoadFigures:
    """What the client saw, and what the server counted, for one load run."""

    requests: int
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    images_returned: int = 0
    request_ids: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    server_generate_requests: int = 0
    server_images_billed: int = 0

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] if self.latencies else 0.0

    def line(self) -> str:
        return (
            f"load: {self.requests} requests at concurrency {self.concurrency}: {self.answered} answered, "
            f"{len(self.errors)} errors, {self.per_second:.0f} requests/s, "
            f"p50 {self.percentile(50) * 1000:.0f} ms, p95 {self.percentile(95) * 1000:.0f} ms; "
            f"server counted {self.server_generate_requests} requests, billed {self.server_images_billed} images"
        )


async def run_load(server: LocalServer, *, requests: int, concurrency: int) -> LoadFigures:
    """``requests`` generations of one image each, at most ``concurrency`` at once, no retries."""
    figures = LoadFigures(requests, concurrency)
    before = server.stats
    gate = asyncio.Semaphore(concurrency)
    async with AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url, max_retries=0) as client:

        async def one(index: int) -> None:
            async with gate:
                started = time.perf_counter()
                try:
                    result = await client.generate_image(f"load test {index}", aspect_ratio="1:1")
                except MiladyError as err:
                    figures.errors.append(f"{index}: {err}")
                    return
                figures.latencies.append(time.perf_counter() - started)
                figures.images_returned += result.returned
                figures.request_ids.update(result.request_ids)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        figures.seconds = time.perf_counter() - started
    after = server.stats
    figures.server_generate_requests = after.generate_requests - before.generate_requests
    figures.server_images_billed = after.images_billed - before.images_billed
    return figures
