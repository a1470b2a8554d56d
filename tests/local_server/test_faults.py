"""Faults injected on purpose, by header, from Python and through ``POST /_local/faults``."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from milady_integrations.local import FaultError, Faults, LocalServer


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "Prompt is required and must be a non-empty string"}),
        (401, {"error": "Authentication required. Provide a valid session or API key."}),
        (402, {"error": "Insufficient credits for image generation", "required": 0.06}),
        (500, {"error": "No images were generated"}),
        (503, {"error": "Image generation service is not configured"}),
    ],
)
def test_forced_status_has_the_services_body(srv: LocalServer, generate: Any, key: str, status: int, body: Any) -> None:
    srv.faults.force_status(status)
    answer = generate({"prompt": "a", "numImages": 3})
    assert answer.status_code == status and answer.json() == body
    assert srv.credits(key) == 100 and srv.stats.images_generated == 0
    assert generate({"prompt": "a"}).status_code == 200  # count=1: only the next request


def test_forced_429_with_and_without_retry_after(generate: Any) -> None:
    limited = generate({"prompt": "a"}, headers={"X-Milady-Fault-Status": "429", "X-Milady-Fault-Retry-After": "7"})
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7" and limited.json()["retryAfter"] == 7
    assert limited.json()["code"] == "rate_limit_exceeded"
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Policy"):
        assert header in limited.headers
    bare = generate({"prompt": "a"}, headers={"X-Milady-Fault-Status": "429", "X-Milady-Fault-Retry-After": "none"})
    assert bare.status_code == 429
    assert "Retry-After" not in bare.headers and "retryAfter" not in bare.json()


@pytest.mark.parametrize("status", [502, 503, 504])
def test_proxy_pages_and_empty_bodies(generate: Any, status: int) -> None:
    page = generate(
        {"prompt": "a"}, headers={"X-Milady-Fault-Status": str(status), "X-Milady-Fault-Status-Body": "html"}
    )
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert f"<title>{status} " in page.text
    empty = generate(
        {"prompt": "a"}, headers={"X-Milady-Fault-Status": str(status), "X-Milady-Fault-Status-Body": "empty"}
    )
    assert empty.status_code == status and empty.content == b""


def test_502_is_a_proxy_page_by_default(generate: Any) -> None:
    answer = generate({"prompt": "a"}, headers={"X-Milady-Fault-Status": "502"})
    assert "Bad Gateway" in answer.text


def test_forced_statuses_are_counted_down(srv: LocalServer, generate: Any) -> None:
    srv.faults.force_status(503, count=2)
    assert srv.faults.pending_statuses == [503, 503]
    assert [generate({"prompt": "a"}).status_code for _ in range(3)] == [503, 503, 200]
    assert srv.stats.generate_requests == 3 and srv.stats.images_billed == 1


def test_latency_delays_the_answer(srv: LocalServer, generate: Any, http: httpx.Client, key: str) -> None:
    started = time.monotonic()
    assert generate({"prompt": "a"}, headers={"X-Milady-Fault-Latency": "0.3"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            "/api/v1/generate-image",
            json={"prompt": "a"},
            timeout=0.1,
            headers={"X-API-Key": key, "X-Milady-Fault-Latency": "0.4"},
        )
    # The client gave up; the server still finishes and bills (the reason not to resend blindly).
    for _ in range(200):
        if srv.stats.images_billed == 2:
            break
        time.sleep(0.05)
    assert srv.stats.images_billed == 2


def test_dropped_connection_before_the_response(srv: LocalServer, generate: Any, key: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        generate({"prompt": "a"}, headers={"X-Milady-Fault-Drop": "before-response"})
    # The work was done and billed: the reason a client must not blindly repeat it.
    assert srv.stats.images_billed == 1 and srv.credits(key) == pytest.approx(99.98)


def test_dropped_connection_in_the_middle_of_the_body(generate: Any) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
        generate({"prompt": "a"}, headers={"X-Milady-Fault-Drop": "mid-body"})
    assert generate({"prompt": "a"}).status_code == 200  # the server is fine afterwards


@pytest.mark.parametrize("kind", ["truncated", "invalid-json"])
def test_broken_json_bodies(generate: Any, kind: str) -> None:
    answer = generate({"prompt": "a"}, headers={"X-Milady-Fault-Body": kind})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.text.startswith('{"images":')
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


def test_bodies_missing_fields_and_zero_images(srv: LocalServer, generate: Any, key: str) -> None:
    assert generate({"prompt": "a"}, headers={"X-Milady-Fault-Body": "empty-object"}).json() == {}
    no_url = generate({"prompt": "a"}, headers={"X-Milady-Fault-Body": "no-url"}).json()
    assert no_url["numImages"] == 1 and "url" not in no_url["images"][0] and "image" not in no_url["images"][0]
    billed = srv.stats.images_billed
    zero = generate({"prompt": "a", "numImages": 2}, headers={"X-Milady-Fault-Body": "zero-images"})
    assert zero.status_code == 200 and zero.json() == {"images": [], "numImages": 0}
    assert srv.stats.images_billed == billed


def _url(generate: Any, fault: str) -> str:
    return str(generate({"prompt": "a"}, headers={"X-Milady-Fault-Image-Url": fault}).json()["images"][0]["url"])


def test_image_url_404_and_not_an_image(generate: Any, http: httpx.Client, h: Any) -> None:
    assert http.get(_url(generate, "404")).status_code == 404
    bad = http.get(_url(generate, "not-image"))
    assert bad.status_code == 200 and bad.headers["content-type"] == "image/webp"
    with pytest.raises(OSError):
        h.decode(bad.content)


def test_image_url_that_hangs_until_the_client_gives_up(srv: LocalServer, generate: Any, http: httpx.Client) -> None:
    url = _url(generate, "hang")
    with pytest.raises(httpx.ReadTimeout):
        http.get(url, timeout=0.3)


@pytest.mark.parametrize("fault", ["oversize", "oversize-chunked"])
def test_image_url_that_serves_more_than_a_client_cap(generate: Any, http: httpx.Client, fault: str) -> None:
    cap = 60_000_000
    with http.stream("GET", _url(generate, fault)) as stream:
        length = stream.headers.get("content-length")
        if fault == "oversize":
            assert int(length) > cap
        else:
            assert length is None
        seen = 0
        for chunk in stream.iter_bytes():
            seen += len(chunk)
            if seen > cap:
                break
    assert seen > cap


def test_faults_over_http(srv: LocalServer, http: httpx.Client, generate: Any) -> None:
    set_faults = http.post(
        "/_local/faults",
        json={"reset": True, "fail_images": 1, "force_status": {"status": 429, "count": 1, "retry_after": 3}},
    )
    assert set_faults.status_code == 200
    assert set_faults.json()["fail_images"] == 1 and set_faults.json()["forced_statuses"][0]["status"] == 429
    assert srv.faults.fail_images == 1
    assert generate({"prompt": "a"}).headers["Retry-After"] == "3"
    partial = generate({"prompt": "a", "numImages": 2}).json()
    assert partial["numImages"] == 1
    assert http.post("/_local/faults", json={"reset": True}).json()["fail_images"] == 0
    refused = http.post("/_local/faults", json={"latency": "slow"})
    assert refused.status_code == 400 and "latency" in refused.json()["error"]
    assert http.post("/_local/faults", json={"nonsense": 1}).status_code == 400


def test_header_none_switches_a_configured_fault_off(srv: LocalServer, generate: Any) -> None:
    srv.faults.storage_failure = True
    item = generate({"prompt": "a"}, headers={"X-Milady-Fault-Storage": "none"}).json()["images"][0]
    assert "url" in item


def test_bad_fault_header_is_explained(generate: Any) -> None:
    answer = generate({"prompt": "a"}, headers={"X-Milady-Fault-Drop": "sometimes"})
    assert answer.status_code == 400 and "drop" in answer.json()["error"]


def test_faults_object_checks_its_settings() -> None:
    with pytest.raises(FaultError):
        Faults(failure_rate=2.0)
    faults = Faults()
    with pytest.raises(FaultError):
        faults.force_status(200)
    with pytest.raises(FaultError):
        faults.update(image_url="sometimes")
    faults.update(latency=1, drop="mid-body")
    faults.force_status(503, count=2, body="empty")
    assert faults.to_dict()["latency"] == 1.0 and len(faults.to_dict()["forced_statuses"]) == 2
    faults.clear()
    assert faults.to_dict() == Faults().to_dict()


@pytest.mark.parametrize(
    ("python", "json_body", "headers"),
    [
        ({"latency": 0.01}, {"latency": 0.01}, {"X-Milady-Fault-Latency": "0.01"}),
        ({"fail_images": 1}, {"fail_images": 1}, {"X-Milady-Fault-Fail-Images": "1"}),
        ({"storage_failure": True}, {"storage_failure": True}, {"X-Milady-Fault-Storage": "true"}),
        ({"body": "no-url"}, {"body": "no-url"}, {"X-Milady-Fault-Body": "no-url"}),
        ({"text": "hi"}, {"text": "hi"}, {"X-Milady-Fault-Text": "hi"}),
        ({"response_shape": "success"}, {"response_shape": "success"}, {"X-Milady-Fault-Response-Shape": "success"}),
    ],
)
def test_one_fault_three_ways_gives_one_answer(
    srv: LocalServer, http: httpx.Client, generate: Any, python: Any, json_body: Any, headers: Any
) -> None:
    def shape(answer: httpx.Response) -> Any:
        body = answer.json()
        return answer.status_code, [sorted(i) for i in body["images"]], [i.get("text") for i in body["images"]]

    plain = shape(generate({"prompt": "a", "numImages": 2}))
    by_header = shape(generate({"prompt": "a", "numImages": 2}, headers=headers))
    srv.faults.update(**python)
    by_python = shape(generate({"prompt": "a", "numImages": 2}))
    srv.faults.clear()
    http.post("/_local/faults", json=json_body).raise_for_status()
    assert by_header == by_python == shape(generate({"prompt": "a", "numImages": 2}))
    assert srv.faults.to_dict() == {**Faults().to_dict(), **{k: float(v) if k == "latency" else v
                                                            for k, v in python.items()}}
    assert (by_header != plain) != ("latency" in python)  # latency changes when, not what


@pytest.mark.parametrize("name", ["latency", "fail_images", "drop", "text"])
def test_a_bad_value_is_refused_the_same_way_everywhere(srv: LocalServer, http: httpx.Client, name: str) -> None:
    bad = {"latency": -1, "fail_images": 1.5, "drop": "sometimes", "text": 3}[name]
    with pytest.raises(FaultError, match=name):
        srv.faults.update(**{name: bad})
    answer = http.post("/_local/faults", json={name: bad})
    assert answer.status_code == 400 and name in answer.json()["error"]


@pytest.mark.parametrize(
    ("route", "path", "status", "body"),
    [
        ("gallery", "/api/v1/gallery", 503, {"error": "Service Unavailable"}),
        ("pricing", "/api/v1/pricing/summary", 500, {"error": "Internal Server Error"}),
        ("balance", "/api/v1/credits/balance", 429, None),
    ],
)
def test_down_takes_one_account_route_down_and_no_other(
    srv: LocalServer, http: httpx.Client, generate: Any, key: str, route: str, path: str, status: int, body: Any
) -> None:
    srv.faults.update(down=route, down_status=status)
    down = http.get(path, headers={"X-API-Key": key})
    assert down.status_code == status
    if body is None:  # a 429 is the rate limiter's, with its wait
        assert down.json()["code"] == "rate_limit_exceeded" and down.headers["Retry-After"] == "30"
    else:
        assert down.json() == body  # not generate's "No images were generated"
    assert generate({"prompt": "a"}).status_code == 200
    assert http.post("/api/v1/models/status", json={"modelIds": ["google/gemini-2.5-flash-image"]}).status_code == 200
    srv.faults.update(down=None)
    assert http.get(path, headers={"X-API-Key": key}).status_code == 200


def test_down_by_header_and_json_and_a_bad_route_named(srv: LocalServer, http: httpx.Client) -> None:
    by_header = http.get("/api/v1/pricing/summary", headers={"X-Milady-Fault-Down": "pricing"})
    assert by_header.status_code == 503 and http.get("/api/v1/pricing/summary").status_code == 200
    http.post("/_local/faults", json={"down": "models", "down_status": 502}).raise_for_status()
    assert http.post("/api/v1/models/status", json={"modelIds": ["x"]}).status_code == 502
    assert http.get("/api/v1/models").status_code == 502
    refused = http.get("/api/v1/pricing/summary", headers={"X-Milady-Fault-Down": "generate"})
    assert refused.status_code == 400 and "down" in refused.json()["error"] and "'pricing'" in refused.json()["error"]
