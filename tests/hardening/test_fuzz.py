"""Bounded fuzzing in CI (a few seconds each, derandomized); `python scripts/fuzz_long.py` runs longer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("schemathesis", reason="contract fuzzing needs schemathesis (the 'dev' extra)")

from milady_integrations.local import LocalServer, ServerConfig

from ._fuzz import fuzz_error_table, fuzz_openapi, fuzz_request_schema, fuzz_response_parser

FUZZ_KEY = "fuzz-key-0123456789abcdef"


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[LocalServer]:
    """Its own server: only one key is accepted (so bad keys must be refused), credits never run out."""
    with LocalServer(ServerConfig(api_keys={FUZZ_KEY}, rate_limit=10**9, initial_credits=1e9)) as running:
        yield running


def test_the_local_server_keeps_its_openapi_contract(fuzz_server: LocalServer) -> None:
    figures = fuzz_openapi(fuzz_server, max_examples=15)
    assert figures.failures == []
    assert figures.examples >= 60
    # The positive cases really generated images, and refused bodies really were refused.
    assert figures.statuses["200"] > 0 and figures.statuses["400"] + figures.statuses["401"] > 0


def test_request_schema_accepts_only_what_the_service_accepts() -> None:
    figures = fuzz_request_schema(max_examples=300)
    assert figures.statuses["accepted"] > 0 and figures.statuses["refused"] > 0


def test_response_parser_never_crashes() -> None:
    figures = fuzz_response_parser(max_examples=300)
    assert figures.statuses["parsed"] > 0 and figures.statuses["refused"] > 0


def test_error_table_maps_anything_to_one_readable_error() -> None:
    figures = fuzz_error_table(max_examples=300)
    assert len(figures.statuses) >= 5
