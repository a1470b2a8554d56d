"""What a user gets: pictures, sizes, URLs, image-to-image, billing and partial success."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from milady_integrations.local import IMAGE_SIZES, LocalServer, ServerConfig


def _image_bytes(http: httpx.Client, answer: httpx.Response, index: int = 0) -> bytes:
    image = http.get(answer.json()["images"][index]["url"])
    assert image.status_code == 200
    return image.content


@pytest.mark.parametrize("ratio", list(IMAGE_SIZES))
def test_each_aspect_ratio_has_its_size(generate: Any, http: httpx.Client, h: Any, ratio: str) -> None:
    answer = generate({"prompt": "a lighthouse", "aspectRatio": ratio})
    item = answer.json()["images"][0]
    image_response = http.get(item["url"])
    assert image_response.headers["content-type"] == "image/webp"
    assert item["mimeType"] == "image/webp" and item["fileSize"] == len(image_response.content)
    image = h.decode(image_response.content)
    assert image.format == "WEBP" and image.size == IMAGE_SIZES[ratio]  # type: ignore[index]


def test_size_table_matches_the_ratios() -> None:
    for ratio, (width, height) in IMAGE_SIZES.items():
        w, r = (int(part) for part in ratio.split(":"))
        assert abs(width / height - w / r) < 0.05


def test_same_request_gives_the_same_bytes(generate: Any, http: httpx.Client) -> None:
    body = {"prompt": "a red kite", "stylePreset": "comic-book", "aspectRatio": "4:3"}
    first, second = generate(body), generate(body)
    assert first.json()["images"][0]["url"] != second.json()["images"][0]["url"]
    assert _image_bytes(http, first) == _image_bytes(http, second)


def test_presets_and_prompts_change_the_picture(generate: Any, http: httpx.Client) -> None:
    pictures = {
        _image_bytes(http, generate({"prompt": prompt, "stylePreset": preset}))
        for prompt, preset in [("a kite", "none"), ("a kite", "low-poly"), ("a kite", "neon-punk"), ("a boat", "none")]
    }
    assert len(pictures) == 4


def test_each_image_of_a_request_differs(generate: Any, http: httpx.Client) -> None:
    answer = generate({"prompt": "four kites", "numImages": 4})
    assert answer.json()["numImages"] == 4
    assert len({_image_bytes(http, answer, i) for i in range(4)}) == 4


def test_urls_are_absolute_public_and_use_the_requests_host(srv: LocalServer, generate: Any) -> None:
    url = generate({"prompt": "a"}, headers={"Host": "example.test:1234"}).json()["images"][0]["url"]
    assert url.startswith("http://example.test:1234/images/") and url.endswith(".webp")
    path = url.split("example.test:1234", 1)[1]
    with httpx.Client(base_url=srv.base_url) as anonymous:
        assert anonymous.get(path).status_code == 200  # no key needed


def test_image_to_image_derives_from_the_source(generate: Any, http: httpx.Client, h: Any) -> None:
    red = _image_bytes(http, generate({"prompt": "a kite", "sourceImage": h.png_data_url((230, 10, 10))}))
    blue = _image_bytes(http, generate({"prompt": "a kite", "sourceImage": h.png_data_url((10, 10, 230))}))
    red_mean = h.decode(red).convert("RGB").resize((1, 1)).getpixel((0, 0))
    blue_mean = h.decode(blue).convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert red_mean[0] > red_mean[2] + 60
    assert blue_mean[2] > blue_mean[0] + 60


def test_a_source_that_is_not_an_image_fails_every_image(srv: LocalServer, generate: Any, key: str) -> None:
    answer = generate({"prompt": "a", "numImages": 2, "sourceImage": "data:image/png;base64,bm90IGFuIGltYWdl"})
    assert answer.status_code == 500 and answer.json() == {"error": "No images were generated"}
    assert srv.credits(key) == 100


def test_billing_charges_price_times_images(srv: LocalServer, generate: Any, key: str) -> None:
    generate({"prompt": "a", "numImages": 3})
    assert srv.credits(key) == pytest.approx(100 - 0.06)
    generate({"prompt": "a", "model": "google/gemini-3-pro-image"})
    assert srv.credits(key) == pytest.approx(100 - 0.06 - 0.08)
    stats = srv.stats
    assert stats.images_billed == 4 and stats.images_generated == 4
    assert stats.credits_billed == pytest.approx(0.14)


def test_402_names_the_credits_required(srv: LocalServer, generate: Any, key: str) -> None:
    srv.set_credits(key, 0.05)
    answer = generate({"prompt": "a", "numImages": 3})
    assert answer.status_code == 402
    assert answer.json() == {"error": "Insufficient credits for image generation", "required": 0.06}
    assert srv.credits(key) == 0.05 and srv.stats.images_generated == 0
    assert generate({"prompt": "a", "numImages": 2}).status_code == 200
    assert srv.credits(key) == pytest.approx(0.01)


def test_partial_success_returns_and_bills_only_what_succeeded(srv: LocalServer, generate: Any, key: str) -> None:
    answer = generate({"prompt": "a", "numImages": 4}, headers={"X-Milady-Fault-Fail-Images": "3"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["numImages"] == 1 and len(body["images"]) == 1
    assert srv.credits(key) == pytest.approx(100 - 0.02)
    assert srv.stats.images_billed == 1 and srv.stats.images_failed == 3


def test_all_failed_is_a_500_and_nothing_is_billed(srv: LocalServer, generate: Any, key: str) -> None:
    srv.faults.failure_rate = 1.0
    answer = generate({"prompt": "a", "numImages": 2})
    assert answer.status_code == 500 and answer.json() == {"error": "No images were generated"}
    assert srv.credits(key) == 100 and srv.stats.images_billed == 0


def test_storage_failure_falls_back_to_a_png_data_url(srv: LocalServer, generate: Any, h: Any) -> None:
    srv.faults.storage_failure = True
    items = generate({"prompt": "a", "numImages": 2, "aspectRatio": "21:9"}).json()["images"]
    assert len(items) == 2
    for item in items:
        assert "url" not in item and "fileSize" not in item
        mime, data = h.data_url_bytes(item["image"])
        assert mime == item["mimeType"] == "image/png"
        image = h.decode(data)
        assert image.format == "PNG" and image.size == IMAGE_SIZES["21:9"]


def test_wrong_mime_label_on_webp_bytes(generate: Any, http: httpx.Client, h: Any) -> None:
    answer = generate({"prompt": "a"}, headers={"X-Milady-Fault-Mime": "wrong"})
    item = answer.json()["images"][0]
    assert item["mimeType"] == "image/png"
    assert h.decode(_image_bytes(http, answer)).format == "WEBP"


def test_other_response_shape(srv: LocalServer, key: str, h: Any) -> None:
    config = ServerConfig(response_shape="success")
    with LocalServer(config) as other, httpx.Client(base_url=other.base_url) as http:
        answer = http.post(
            "/api/v1/generate-image",
            json={"prompt": "a", "numImages": 2, "model": "openai/gpt-image-2"},
            headers={"X-API-Key": key},
        )
    body = answer.json()
    assert set(body) == {"success", "model", "images", "cost"}
    assert body["success"] is True and body["model"] == "openai/gpt-image-2"
    assert body["cost"] == {"totalCost": 0.12, "baseTotalCost": 0.1, "platformMarkup": 0.02,
                            "matchedEntry": {"modelId": "openai/gpt-image-2", "unit": "image", "unitPrice": 0.05}}
    for item in body["images"]:
        assert set(item) == {"image", "url", "text"}
        assert h.decode(h.data_url_bytes(item["image"])[1]).format == "WEBP"


def test_images_are_drawn_in_parallel_and_the_loop_stays_responsive(srv: LocalServer, key: str) -> None:
    done = threading.Event()

    def big_request() -> None:
        with httpx.Client(base_url=srv.base_url, timeout=30) as client:
            client.post(
                "/api/v1/generate-image",
                json={"prompt": "a", "numImages": 4, "aspectRatio": "21:9"},
                headers={"X-API-Key": key, "X-Milady-Fault-Latency": "0.3"},
            )
        done.set()

    worker = threading.Thread(target=big_request)
    worker.start()
    with httpx.Client(base_url=srv.base_url, timeout=30) as client:
        answer = client.get("/api/v1/credits/balance", headers={"X-API-Key": "someone-else"})
        assert answer.status_code == 200 and not done.is_set()
    worker.join()


def test_image_store_is_bounded(key: str) -> None:
    with LocalServer(ServerConfig(image_store_bytes=200_000)) as server, httpx.Client(base_url=server.base_url) as http:
        urls = [
            http.post("/api/v1/generate-image", json={"prompt": f"p{i}"}, headers={"X-API-Key": key}).json()["images"][
                0
            ]["url"]
            for i in range(6)
        ]
        assert http.get(urls[0]).status_code == 404  # dropped, least recently used
        assert http.get(urls[-1]).status_code == 200
        assert server.app.local.image_bytes <= 200_000
