"""The service's contract: order of checks, every exact error body, auth, rate limit."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from milady_integrations.local import LocalServer, ServerConfig
from milady_integrations.schema import MODELS

AUTH = {"error": "Authentication required. Provide a valid session or API key."}
PROMPT_REQUIRED = {"error": "Prompt is required and must be a non-empty string"}
NUM_IMAGES = {"error": "numImages must be an integer between 1 and 4"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "Prompt is required and must be a non-empty string"),
        ({"prompt": ""}, "Prompt is required and must be a non-empty string"),
        ({"prompt": " \t\n\u00a0\ufeff"}, "Prompt is required and must be a non-empty string"),
        ({"prompt": 42}, "Prompt is required and must be a non-empty string"),
        ([1, 2], "Prompt is required and must be a non-empty string"),
        ({"prompt": "x" * 4001}, "Prompt must be 4000 characters or fewer"),
        # JavaScript counts UTF-16 units: 2001 emoji are 4002 characters to the service.
        ({"prompt": "\U0001f600" * 2001}, "Prompt must be 4000 characters or fewer"),
        ({"prompt": "a", "numImages": 0}, "numImages must be an integer between 1 and 4"),
        ({"prompt": "a", "numImages": 5}, "numImages must be an integer between 1 and 4"),
        ({"prompt": "a", "numImages": 1.5}, "numImages must be an integer between 1 and 4"),
        ({"prompt": "a", "numImages": "2"}, "numImages must be an integer between 1 and 4"),
        ({"prompt": "a", "numImages": True}, "numImages must be an integer between 1 and 4"),
        ({"prompt": "a", "numImages": None}, "numImages must be an integer between 1 and 4"),
        ({"prompt": "a", "sourceImage": 7}, "sourceImage must be a base64 data URL string"),
        ({"prompt": "a", "sourceImage": None}, "sourceImage must be a base64 data URL string"),
        ({"prompt": "a", "sourceImage": "x" * 14_000_001}, "sourceImage exceeds maximum allowed size"),
    ],
)
def test_each_refused_body_gets_the_services_exact_400(generate: Any, body: object, error: str) -> None:
    answer = generate(body)
    assert answer.status_code == 400
    assert answer.json() == {"error": error}


def test_limits_are_inclusive(generate: Any) -> None:
    assert generate({"prompt": "x" * 4000}).status_code == 200
    # One JSON number type in the service: 2.0 is the integer 2.
    answer = generate({"prompt": "a", "numImages": 2.0})
    assert answer.status_code == 200 and answer.json()["numImages"] == 2


def test_body_that_is_not_json_is_a_500_with_the_parser_message(generate: Any) -> None:
    # JavaScript's JSON.parse messages, as the service's outer catch answers them.
    answer = generate(raw=b"prompt=hello")
    assert answer.status_code == 500
    assert answer.json() == {"error": "Unexpected token 'p', \"prompt=hello\" is not valid JSON"}
    assert generate(raw=b"").json() == {"error": "Unexpected end of JSON input"}
    assert generate(raw=b'{"prompt": "a"').json() == {"error": "Unexpected end of JSON input"}
    null = generate(raw=b"null")
    assert null.status_code == 500 and "as it is null" in null.json()["error"]


def test_checks_run_rate_limit_then_auth_then_body(key: str) -> None:
    with LocalServer(ServerConfig(rate_limit=2)) as server, httpx.Client(base_url=server.base_url) as http:
        bad_body = {"prompt": ""}
        headers = {"X-API-Key": key}
        assert http.post("/api/v1/generate-image", json=bad_body, headers=headers).status_code == 400
        # A key the server refuses is still counted against its bucket first.
        with_bad_key = LocalServer(ServerConfig(api_keys={"good"}, rate_limit=1))
        with with_bad_key, httpx.Client(base_url=with_bad_key.base_url) as other:
            first = other.post("/api/v1/generate-image", json=bad_body, headers={"X-API-Key": "bad"})
            assert first.status_code == 401 and first.json() == AUTH
            second = other.post("/api/v1/generate-image", json=bad_body, headers={"X-API-Key": "bad"})
            assert second.status_code == 429
        assert http.post("/api/v1/generate-image", json=bad_body, headers=headers).status_code == 400
        third = http.post("/api/v1/generate-image", json=bad_body, headers=headers)
        assert third.status_code == 429
        assert server.stats.generate_validated == 2


def test_no_key_is_401_and_nothing_is_validated(srv: LocalServer, generate: Any) -> None:
    answer = generate({"prompt": ""}, auth=False)
    assert answer.status_code == 401 and answer.json() == AUTH
    assert srv.stats.generate_validated == 0
    not_bearer = generate({"prompt": "a"}, auth=False, headers={"Authorization": "Basic a2V5Og=="})
    assert not_bearer.status_code == 401
    # The service matches "Bearer " exactly.
    assert generate({"prompt": "a"}, auth=False, headers={"Authorization": "bearer k"}).status_code == 401


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_either_auth_header_works(http: httpx.Client, header: str) -> None:
    headers = {"Authorization": "Bearer k1"} if header == "bearer" else {"X-API-Key": "k1"}
    answer = http.post("/api/v1/generate-image", json={"prompt": "a"}, headers=headers)
    assert answer.status_code == 200


def test_configured_keys_refuse_others() -> None:
    with LocalServer(ServerConfig(api_keys={"only-this"})) as server, httpx.Client(base_url=server.base_url) as http:
        assert server.api_key == "only-this"
        refused = http.post("/api/v1/generate-image", json={"prompt": "a"}, headers={"X-API-Key": "other"})
        assert refused.status_code == 401 and refused.json() == AUTH
        ok = http.post("/api/v1/generate-image", json={"prompt": "a"}, headers={"X-API-Key": "only-this"})
        assert ok.status_code == 200
        assert http.get("/api/v1/credits/balance", headers={"X-API-Key": "other"}).status_code == 401


def test_unknown_model_silently_becomes_the_default(srv: LocalServer, generate: Any) -> None:
    answer = generate({"prompt": "a", "model": "openai/gpt-5-nano"})
    assert answer.status_code == 200
    assert srv.requests[0]["model"] == "google/gemini-2.5-flash-image"


def test_the_other_variant_refuses_unknown_models_and_bad_bodies_its_way(key: str) -> None:
    with (
        LocalServer(ServerConfig(response_shape="success")) as server,
        httpx.Client(base_url=server.base_url, headers={"X-API-Key": key}) as http,
    ):
        unknown = http.post("/api/v1/generate-image", json={"prompt": "a", "model": "nope"})
        bad = http.post("/api/v1/generate-image", json={"prompt": "", "numImages": 9})
        short = http.post("/api/v1/generate-image", json={"prompt": "a"}, headers={"X-Milady-Fault-Status": "402"})
        down = http.post("/api/v1/generate-image", json={"prompt": "a"}, headers={"X-Milady-Fault-Status": "503"})
        wrong_method = http.get("/api/v1/generate-image")
    assert unknown.status_code == 400 and unknown.json() == {
        "success": False, "error": "Unsupported image model: nope", "code": "validation_error",
        "details": {"supportedModels": list(MODELS)},
    }
    assert bad.status_code == 400 and bad.json()["error"] == "Validation failed"
    assert [i["path"] for i in bad.json()["details"]["issues"]] == [["prompt"], ["numImages"]]
    assert short.json() == {"success": False, "error": "Insufficient credits", "required": 0.02}
    assert down.status_code == 503
    assert down.json()["error"] == "Image generation is temporarily unavailable. Please try again shortly."
    assert wrong_method.status_code == 405


def test_unknown_ratio_and_preset_put_undefined_in_the_prompt(srv: LocalServer, generate: Any) -> None:
    answer = generate({"prompt": "a fox", "aspectRatio": "2:1", "stylePreset": "watercolour"})
    assert answer.status_code == 200
    assert srv.requests[0]["enhancedPrompt"] == "Generate an image: a fox undefined, undefined"


def test_balance_endpoint(http: httpx.Client, key: str) -> None:
    answer = http.get("/api/v1/credits/balance", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and answer.json() == {"balance": 100}
    unauthenticated = http.get("/api/v1/credits/balance")
    # The shared auth helper's body, not generate-image's own.
    assert unauthenticated.status_code == 401 and unauthenticated.json() == {
        "success": False, "error": "Invalid or expired API key", "code": "authentication_required"}


def test_429_has_the_services_body_and_headers(key: str) -> None:
    with (
        LocalServer(ServerConfig(rate_limit=3, rate_window=60)) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        answers = [
            http.post("/api/v1/generate-image", json={"prompt": "a"}, headers={"X-API-Key": key}) for _ in range(4)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    limited = answers[-1]
    retry_after = int(limited.headers["Retry-After"])
    assert 58 <= retry_after <= 60
    assert limited.json() == {
        "success": False,
        "error": "Too many requests",
        "code": "rate_limit_exceeded",
        "message": "Rate limit exceeded. Maximum 3 requests per 60 seconds.",
        "retryAfter": retry_after,
    }
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Policy"] == "in-memory"
    reset = limited.headers["X-RateLimit-Reset"]
    assert reset.endswith("Z") and len(reset) == len("2025-01-01T00:00:00.000Z")
    moment = datetime.fromisoformat(reset.replace("Z", "+00:00"))
    assert 55 < (moment - datetime.now(timezone.utc)).total_seconds() <= 60


def test_rate_limit_window_resets(key: str) -> None:
    now = [1_800_000_000.0]  # the limiter's clock, moved by the test: no waiting, no race with a busy machine
    with (
        LocalServer(ServerConfig(rate_limit=1, rate_window=60.0, rate_clock=lambda: now[0])) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        send = lambda: http.post("/api/v1/generate-image", json={"prompt": "a"}, headers={"X-API-Key": key})  # noqa: E731
        assert send().status_code == 200
        assert send().headers["Retry-After"] == "60"
        now[0] += 59.5
        assert send().headers["Retry-After"] == "1"  # still the first request's window
        now[0] += 1.0
        assert send().status_code == 200  # a new window


def test_bearer_keys_share_one_bucket_unless_they_look_like_service_keys() -> None:
    # As the service: X-API-Key or an eliza_ Bearer token is its own bucket; other Bearers share "public".
    with LocalServer(ServerConfig(rate_limit=1)) as server, httpx.Client(base_url=server.base_url) as http:
        post = lambda h: http.post("/api/v1/generate-image", json={"prompt": "a"}, headers=h).status_code  # noqa: E731
        assert post({"Authorization": "Bearer a"}) == 200
        assert post({"Authorization": "Bearer b"}) == 429
        assert post({"Authorization": "Bearer eliza_c"}) == 200
        assert post({"X-API-Key": "d"}) == 200


def test_every_answer_has_a_request_id(http: httpx.Client, generate: Any) -> None:
    answers = [
        generate({"prompt": "a"}),
        generate({"prompt": ""}),
        generate({"prompt": "a"}, auth=False),
        http.get("/api/v1/credits/balance"),
        http.get("/images/missing.webp"),
        http.get("/nothing-here"),
        http.get("/openapi.json"),
    ]
    ids = [a.headers.get("x-request-id") for a in answers]
    assert all(ids) and len(set(ids)) == len(ids)
    echoed = generate({"prompt": "a"}, headers={"X-Request-ID": "mine-123"})
    assert echoed.headers["x-request-id"] == "mine-123"


def test_successful_and_refused_answers_carry_rate_limit_headers(generate: Any) -> None:
    for answer in (generate({"prompt": "a"}), generate({"prompt": ""}), generate({"prompt": "a"}, auth=False)):
        assert answer.headers["X-RateLimit-Limit"] == "60"
        assert "X-RateLimit-Reset" in answer.headers and "X-RateLimit-Remaining" in answer.headers
