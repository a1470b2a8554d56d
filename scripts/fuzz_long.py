"""The long hardening run: fuzzing with many examples and the 1,000-request load, with figures.

    python scripts/fuzz_long.py                   # defaults below
    python scripts/fuzz_long.py --examples 5000 --api-examples 400 --requests 1000 --concurrency 32

CI runs the same code, bounded (tests/hardening/test_fuzz.py and test_load.py).
Exit status 1 when any failure was found or any request was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "hardening"))
os.environ.pop("MILADY_API_KEY", None)
os.environ.pop("MILADY_BASE_URL", None)

from _fuzz import (  # noqa: E402
    Figures,
    fuzz_error_table,
    fuzz_openapi,
    fuzz_request_schema,
    fuzz_response_parser,
)
from _load import run_load  # noqa: E402

from milady_integrations.local import LocalServer, ServerConfig  # noqa: E402

FUZZ_KEY = "fuzz-key-0123456789abcdef"


def _guarded(name: str, run: object) -> Figures:
    """Run one fuzzing run; a property failure found by hypothesis is counted, not fatal."""
    started = time.monotonic()
    try:
        return run()  # type: ignore[operator,no-any-return]
    except Exception as exc:  # hypothesis re-raises the shrunk failing example
        figures = Figures(name, seconds=time.monotonic() - started)
        figures.failures.append(f"{type(exc).__name__}: {str(exc)[:2000]}")
        return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="hypothesis examples per property")
    parser.add_argument("--api-examples", type=int, default=300, help="schemathesis examples per operation and mode")
    parser.add_argument("--requests", type=int, default=1000, help="load: generate requests")
    parser.add_argument("--concurrency", type=int, default=32, help="load: requests in flight")
    args = parser.parse_args(argv)

    results: list[Figures] = []
    results.append(_guarded("GenerateImageRequest.create", lambda: fuzz_request_schema(args.examples)))
    results.append(_guarded("parse_generation_body", lambda: fuzz_response_parser(args.examples)))
    results.append(_guarded("error_from_response", lambda: fuzz_error_table(args.examples)))
    config = ServerConfig(api_keys={FUZZ_KEY}, rate_limit=10**9, initial_credits=1e12)
    with LocalServer(config) as server:
        results.append(_guarded("schemathesis", lambda: fuzz_openapi(server, args.api_examples, fail_fast=False)))
    with LocalServer(ServerConfig(rate_limit=10**9, initial_credits=1e12, webp_quality=10)) as server:
        load = asyncio.run(run_load(server, requests=args.requests, concurrency=args.concurrency))

    failed = False
    for figures in results:
        print(figures.line())
        for failure in figures.failures[:20]:
            print(f"  FAILURE {failure}")
        failed |= bool(figures.failures)
    print(load.line())
    lost = (
        load.answered != args.requests
        or load.server_generate_requests != args.requests
        or load.server_images_billed != load.images_returned
        or len(load.request_ids) != load.answered
    )
    for error in load.errors[:20]:
        print(f"  ERROR {error}")
    total = sum(f.examples for f in results)
    print(
        f"total: {total} fuzz examples, {sum(len(f.failures) for f in results)} failures; "
        f"load {'LOST OR MISCOUNTED REQUESTS' if lost else 'all requests answered and accounted for'}"
    )
    return 1 if failed or lost or load.errors else 0


if __name__ == "__main__":
    sys.exit(main())
