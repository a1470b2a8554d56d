"""What the billing work needs from the local server: the model's text, the prompt it built, the
failures that keep the charge, and the gallery that finds what they produced."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from milady_integrations.local import LocalServer, ServerConfig
from tests.service_words import RATIO_WORDS, STYLE_WORDS

GALLERY = "/api/v1/gallery"


def _gallery(http: httpx.Client, key: str, **query: Any) -> httpx.Response:
    return http.get(GALLERY, params=query, headers={"X-API-Key": key})


def _items(http: httpx.Client, key: str) -> list[dict[str, Any]]:
    return list(_gallery(http, key).json()["items"])


@pytest.mark.parametrize("preset", list(STYLE_WORDS))
@pytest.mark.parametrize("ratio", ["1:1", "21:9"])
def test_requests_route_shows_the_prompt_the_service_builds(
    http: httpx.Client, generate: Any, preset: str, ratio: str
) -> None:
    answer = generate({"prompt": "a fox", "stylePreset": preset, "aspectRatio": ratio, "numImages": 2})
    assert answer.status_code == 200 and [i["text"] for i in answer.json()["images"]] == ["", ""]
    latest = http.get("/_local/requests").json()["requests"][0]
    style = f" {STYLE_WORDS[preset]}" if STYLE_WORDS[preset] else ""
    assert latest["enhancedPrompt"] == f"Generate an image: a fox{style}, {RATIO_WORDS[ratio]}"
    assert {k: latest[k] for k in ("prompt", "model", "aspectRatio", "stylePreset", "numImages", "status")} == {
        "prompt": "a fox", "model": "google/gemini-2.5-flash-image", "aspectRatio": ratio, "stylePreset": preset,
        "numImages": 2, "status": 200}
    assert not any("key" in name.lower() for name in latest)


def test_image_to_image_prompt_and_refused_requests_in_the_log(srv: LocalServer, generate: Any, h: Any) -> None:
    generate({"prompt": "bluer", "sourceImage": h.png_data_url((1, 2, 3))})
    assert srv.requests[0]["enhancedPrompt"] == (
        "Using the provided image as a reference, generate a new image: bluer, square composition")
    srv.set_credits(srv.requests[0]["prompt"], 0)  # any key: just a fresh balance
    generate({"prompt": "pricey", "numImages": 4}, headers={"X-Milady-Fault-Fail-Images": "4"})
    assert srv.requests[0]["status"] == 500


def test_text_is_the_models_text_settable_by_config_fault_and_header(srv: LocalServer, generate: Any, key: str) -> None:
    with LocalServer(ServerConfig(text="from config")) as other:
        answer = httpx.post(f"{other.base_url}/api/v1/generate-image", json={"prompt": "a"}, headers={"X-API-Key": key})
        assert answer.json()["images"][0]["text"] == "from config"
    srv.faults.update(text="from Python")
    assert generate({"prompt": "a"}).json()["images"][0]["text"] == "from Python"
    assert generate({"prompt": "a"}, headers={"X-Milady-Fault-Text": "from a header"}).json()["images"][0]["text"] == (
        "from a header")


def test_catch_all_500_keeps_the_charge_and_the_images_are_in_the_gallery(
    srv: LocalServer, http: httpx.Client, generate: Any, key: str
) -> None:
    srv.faults.force_status(500, message="Failed to record generation", ran=True)
    answer = generate({"prompt": "a kept fox", "numImages": 2})
    assert answer.status_code == 500 and answer.json() == {"error": "Failed to record generation"}
    assert srv.stats.images_billed == 2 and srv.credits(key) == pytest.approx(99.96)
    items = _items(http, key)
    assert [i["prompt"] for i in items] == ["a kept fox", "a kept fox"]
    assert all(http.get(i["url"]).status_code == 200 for i in items)


def test_catch_all_mentioning_an_api_key_is_a_401(srv: LocalServer, generate: Any) -> None:
    answer = generate({"prompt": "a"}, headers={"X-Milady-Fault-Status": "500", "X-Milady-Fault-Status-Ran": "true",
                                                "X-Milady-Fault-Status-Message": "Invalid API key for the gateway"})
    assert answer.status_code == 401 and answer.json() == {"error": "Invalid API key for the gateway"}
    assert srv.stats.images_billed == 1


@pytest.mark.parametrize(("status", "body"), [(500, {"error": "No images were generated"}),
                                              (503, {"error": "Image generation service is not configured"})])
def test_refunded_500_and_503_charge_nothing(
    srv: LocalServer, http: httpx.Client, generate: Any, key: str, status: int, body: Any
) -> None:
    srv.faults.force_status(status)
    answer = generate({"prompt": "a"})
    assert (answer.status_code, answer.json()) == (status, body)
    assert srv.stats.images_billed == 0 and srv.credits(key) == 100 and _items(http, key) == []


@pytest.mark.parametrize("ran", [True, False])
def test_proxy_504_with_or_without_the_origin_finishing(
    srv: LocalServer, http: httpx.Client, generate: Any, key: str, ran: bool
) -> None:
    http.post("/_local/faults", json={"force_status": {"status": 504, "ran": ran}}).raise_for_status()
    answer = generate({"prompt": "slow fox"})
    assert answer.status_code == 504 and "<title>504 Gateway Timeout</title>" in answer.text
    assert srv.stats.images_billed == int(ran) and len(_items(http, key)) == int(ran)


def _wait_for_items(http: httpx.Client, key: str, count: int) -> list[dict[str, Any]]:
    for _ in range(200):
        items = _items(http, key)
        if len(items) >= count:
            return items
        time.sleep(0.05)
    return _items(http, key)


def test_a_timed_out_request_is_found_in_the_gallery(http: httpx.Client, key: str) -> None:
    with pytest.raises(httpx.ReadTimeout):
        http.post("/api/v1/generate-image", json={"prompt": "late fox", "numImages": 3}, timeout=0.5,
                  headers={"X-API-Key": key, "X-Milady-Fault-Latency": "5"})
    items = _wait_for_items(http, key, 3)
    assert [(i["prompt"], i["status"]) for i in items] == [("late fox", "completed")] * 3


def test_a_dropped_connection_is_found_in_the_gallery(generate: Any, http: httpx.Client, key: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        generate({"prompt": "dropped fox"}, headers={"X-Milady-Fault-Drop": "before-response"})
    assert [i["prompt"] for i in _items(http, key)] == ["dropped fox"]


def test_two_identical_requests_at_once_give_two_sets(srv: LocalServer, http: httpx.Client, key: str) -> None:
    answers: list[httpx.Response] = []
    post = lambda: answers.append(httpx.post(f"{srv.base_url}/api/v1/generate-image", timeout=30,  # noqa: E731
                                             json={"prompt": "twin", "numImages": 2}, headers={"X-API-Key": key}))
    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    items = _items(http, key)
    assert len(items) == 4 and len({i["id"] for i in items}) == 4
    assert len({i["createdAt"] for i in items}) == 2
    urls = {i["url"] for i in items}
    assert urls == {image["url"] for a in answers for image in a.json()["images"]}


def test_gallery_items_pages_and_keys(generate: Any, http: httpx.Client, key: str) -> None:
    generate({"prompt": "first", "model": "openai/gpt-image-2", "aspectRatio": "16:9"})
    generate({"prompt": "second", "numImages": 2})
    generate({"prompt": "stored nowhere"}, headers={"X-Milady-Fault-Storage": "fail"})
    items = _items(http, key)
    assert [i["prompt"] for i in items] == ["second", "second", "first"]  # newest first; no data-URL images
    first = items[-1]
    assert set(first) == {"id", "type", "url", "thumbnailUrl", "prompt", "negativePrompt", "model", "provider",
                          "status", "createdAt", "completedAt", "dimensions", "mimeType", "fileSize", "metadata"}
    assert (first["model"], first["provider"], first["type"], first["mimeType"]) == (
        "openai/gpt-image-2", "openai", "image", "image/webp")
    assert first["dimensions"] == {"width": 1344, "height": 768}
    assert first["fileSize"] == str(len(http.get(first["url"]).content))
    assert first["createdAt"].endswith("Z")
    page = _gallery(http, key, limit=1, offset=1).json()
    assert (page["count"], page["offset"], page["limit"], page["hasMore"]) == (1, 1, 1, True)
    assert page["items"][0]["id"] == items[1]["id"]
    assert _gallery(http, key, type="video").json()["items"] == []
    assert _items(http, "someone-else") == []
    assert http.get(GALLERY).status_code == 401


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"offset": "-1"},
                                   {"type": "audio"}])
def test_gallery_bad_query_is_a_validation_error(http: httpx.Client, key: str, query: dict[str, str]) -> None:
    answer = _gallery(http, key, **query)
    assert answer.status_code == 400 and answer.json()["error"] == "Validation error"
    assert [d["path"] for d in answer.json()["details"]] == [[next(iter(query))]]


def test_model_status_with_or_without_a_key(srv: LocalServer, http: httpx.Client) -> None:
    ids = ["google/gemini-2.5-flash-image", "bfl/flux-kontext-max"]
    answer = http.post("/api/v1/models/status", json={"modelIds": ids})
    assert answer.status_code == 200 and isinstance(answer.json()["timestamp"], int)
    assert answer.json()["models"] == [
        {"modelId": ids[0], "available": True},
        {"modelId": ids[1], "available": False, "reason": "bfl provider is currently unavailable"},
    ]
    srv.config.unavailable["openai/gpt-image-2"] = "maintenance"
    try:
        again = http.post("/api/v1/models/status", json={"modelIds": ["openai/gpt-image-2"]},
                          headers={"X-API-Key": "k"})
    finally:
        del srv.config.unavailable["openai/gpt-image-2"]
    assert again.json()["models"] == [{"modelId": "openai/gpt-image-2", "available": False, "reason": "maintenance"}]


@pytest.mark.parametrize(("body", "error"), [
    ({}, "modelIds array is required"),
    ({"modelIds": []}, "modelIds array is required"),
    ({"modelIds": "google/x"}, "modelIds array is required"),
    ({"modelIds": ["a/b"] * 51}, "Maximum 50 models can be checked at once"),
    ({"modelIds": ["a/b", ""]}, "Each modelId must be a non-empty string"),
    ({"modelIds": [3]}, "Each modelId must be a non-empty string"),
])
def test_model_status_refusals(http: httpx.Client, body: Any, error: str) -> None:
    answer = http.post("/api/v1/models/status", json=body)
    assert answer.status_code == 400 and answer.json() == {"error": error}


def test_prices_summary_catalogue_and_one_model(http: httpx.Client, key: str) -> None:
    summary = http.get("/api/v1/pricing/summary").json()
    image = summary["pricing"]["generate-image"]
    assert (image["unit"], image["isVariable"], image["estimatedRange"]) == ("image", True, {"min": 0.02, "max": 0.08})
    assert summary["asOf"].endswith("Z") and image["description"]
    catalogue = http.get("/api/v1/models").json()["data"]
    assert "openai/gpt-image-2" in [entry["id"] for entry in catalogue]
    one = http.get("/api/v1/models/openai/gpt-image-2", headers={"X-API-Key": key})
    assert one.status_code == 200 and one.json()["pricing"]["image"] == 0.05  # billed x 1.2: 0.06
    assert http.get("/api/v1/models/openai/gpt-image-2").status_code == 401
    assert http.get("/api/v1/models/acme/none", headers={"X-API-Key": key}).status_code == 404


def test_402_required_is_the_catalogue_price_times_1_2_times_images(srv: LocalServer, generate: Any, key: str) -> None:
    srv.set_credits(key, 0.1)
    answer = generate({"prompt": "a", "model": "google/gemini-3-pro-image", "numImages": 3})
    assert answer.status_code == 402
    assert answer.json() == {"error": "Insufficient credits for image generation", "required": 0.24}
    assert generate({"prompt": "a", "model": "openai/gpt-image-2"}).status_code == 200
    assert srv.credits(key) == pytest.approx(0.04)


def test_inactive_key_is_403_on_the_balance_route(srv: LocalServer, http: httpx.Client, key: str) -> None:
    srv.config.inactive_keys.add(key)
    try:
        answer = http.get("/api/v1/credits/balance", headers={"X-API-Key": key})
    finally:
        srv.config.inactive_keys.discard(key)
    assert answer.status_code == 403
    assert answer.json() == {"success": False, "error": "API key is inactive", "code": "access_denied"}


def test_redis_limiter_slides_and_always_says_60(key: str) -> None:
    with LocalServer(ServerConfig(rate_limit=2, rate_policy="redis")) as server:
        answers = [httpx.post(f"{server.base_url}/api/v1/generate-image", json={"prompt": "a"},
                              headers={"X-API-Key": key}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].headers["Retry-After"] == "60" and answers[-1].json()["retryAfter"] == 60
    assert {a.headers["X-RateLimit-Policy"] for a in answers} == {"redis"}
