"""gradio_client against apps launched on loopback, backed by the local server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError, ValidationError
from PIL import Image

from gradio_app import create_demo, milady_image_block
from milady_integrations import AsyncMiladyClient
from milady_integrations.local import IMAGE_SIZES, LocalServer, ServerConfig
from milady_integrations.offline import LOCAL_BANNER


def _image_paths(gallery: list[dict[str, Any]]) -> list[str]:
    return [item["image"] for item in gallery]


def test_generate_route_returns_usable_images(gradio_client: Client, server: LocalServer) -> None:
    gallery, _text = gradio_client.predict(
        "a red fox reading", style_preset="neon-punk", num_images=3, aspect_ratio="9:16", api_name="/generate"
    )

    paths = _image_paths(gallery)
    assert len(paths) == 3
    for path in paths:
        with Image.open(path) as image:  # downloaded by the client with its default settings
            assert image.size == IMAGE_SIZES["9:16"]
    assert "in a neon punk cyberpunk style with glowing neon colors" in server.requests[0]["enhancedPrompt"]


def test_only_the_prompt_is_required(gradio_client: Client) -> None:
    gallery, _ = gradio_client.predict("a lighthouse", api_name="/generate")

    assert len(gallery) == 1


def test_the_api_names_the_arguments(gradio_client: Client) -> None:
    info = gradio_client.view_api(print_info=False, return_format="dict")
    endpoint = info["named_endpoints"]["/generate"]

    assert [p["parameter_name"] for p in endpoint["parameters"]] == [
        "prompt",
        "model",
        "aspect_ratio",
        "style_preset",
        "num_images",
        "source_image",
    ]
    assert list(info["named_endpoints"]) == ["/generate"]


def test_a_source_image_can_be_uploaded(gradio_client: Client, tmp_path: Path, server: LocalServer) -> None:
    source = tmp_path / "sketch.png"
    Image.new("RGB", (80, 60), (20, 120, 200)).save(source)

    gallery, _text = gradio_client.predict(
        "turn it into a sunset", source_image=handle_file(str(source)), api_name="/generate"
    )

    assert len(gallery) == 1
    assert server.requests[0]["enhancedPrompt"].startswith("Using the provided image as a reference")


def test_invalid_input_is_refused_before_the_queue(gradio_client: Client, server: LocalServer) -> None:
    before = server.stats.generate_requests

    with pytest.raises(ValidationError) as refused:
        gradio_client.predict("   ", num_images=6, api_name="/generate")

    message = str(refused.value)
    assert "prompt is empty" in message
    assert "num_images=6 is not allowed" in message and "1 to 4" in message
    assert server.stats.generate_requests == before


def test_a_402_reads_as_the_core_wrote_it(gradio_client: Client, server: LocalServer) -> None:
    server.faults.force_status(402)

    with pytest.raises(AppError) as failed:
        gradio_client.predict("a fox", num_images=2, api_name="/generate")

    assert failed.value.title == "Insufficient credits"
    assert "Insufficient credits" in failed.value.message
    assert "Add credits to your account" in failed.value.message


def test_two_blocks_serve_two_routes(server: LocalServer, launch_app: Callable[..., Any], tmp_path: Path) -> None:
    with gr.Blocks() as demo:
        gr.Markdown("Host page")
        milady_image_block(AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url))
        milady_image_block(AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url))
    client = launch_app(demo).client(tmp_path)

    first, _ = client.predict("first", api_name="/generate")
    second, _ = client.predict("second", num_images=2, api_name="/generate_1")

    assert (len(first), len(second)) == (1, 2)


def test_stop_cancels_a_running_generation(launch_app: Callable[..., Any], tmp_path: Path) -> None:
    # A server of its own: the abandoned request finishes there later.
    with LocalServer(ServerConfig(rate_limit=1_000)) as server:
        with gr.Blocks() as demo:
            milady_image_block(AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url), concurrency_limit=1)
        client = launch_app(demo).client(tmp_path)
        server.faults.update(latency=60)
        slow = client.submit("a slow fox", api_name="/generate")
        # Logged once past its checks, so it has read its 60 s latency: clearing the faults cannot reach it.
        reached = threading.Event()
        while not reached.wait(0.02):
            if server.requests:
                reached.set()
        slow.cancel()
        server.faults.clear()

        # With one generation at a time, this one can only run once the slow one stopped waiting;
        # the server still holds the slow answer (billed first, answered after its latency).
        gallery, _ = client.predict("a quick fox", api_name="/generate")

        assert len(gallery) == 1
        assert [r["status"] for r in server.requests] == [200, None]
        assert slow.status().code.name == "CANCELLED"


def test_the_key_never_reaches_the_browser_or_api(launch_app: Callable[..., Any], tmp_path: Path) -> None:
    secret = "sk-milady-known-test-key-4242"
    with LocalServer(ServerConfig(api_keys={secret}, rate_limit=1_000)) as server:
        demo = create_demo(AsyncMiladyClient(api_key=secret, base_url=server.base_url))
        launched = launch_app(demo)
        client = launched.client(tmp_path)
        gallery, text = client.predict("a fox", num_images=2, api_name="/generate")
        server.faults.force_status(402)
        with pytest.raises(AppError) as failed:
            client.predict("a fox", api_name="/generate")

        seen = [text, str(gallery), failed.value.message, str(failed.value.title)]
        for route in ("", "config", "gradio_api/info", "gradio_api/openapi.json"):
            seen.append(httpx.get(launched.url + route).text)
        for path in _image_paths(gallery):
            seen.append(Path(path).read_bytes().decode("latin-1"))

    assert all(secret not in page for page in seen)


def test_with_no_key_the_demo_draws_locally_and_says_so(
    monkeypatch: pytest.MonkeyPatch, launch_app: Callable[..., Any], tmp_path: Path
) -> None:
    monkeypatch.delenv("MILADY_API_KEY", raising=False)
    monkeypatch.delenv("MILADY_BASE_URL", raising=False)
    from gradio_app import close_demo, demo_endpoint

    demo = create_demo()
    try:
        endpoint = demo_endpoint(demo)
        assert endpoint is not None and endpoint.local
        launched = launch_app(demo)
        assert LOCAL_BANNER in httpx.get(launched.url + "config").text

        gallery, _ = launched.client(tmp_path).predict("a fox", api_name="/generate")
        assert len(gallery) == 1  # the local server stays up while the app lives
    finally:
        close_demo(demo)
    with pytest.raises(httpx.ConnectError):  # and stops with it
        httpx.get(endpoint.base_url or "")


def test_with_a_key_in_the_environment_there_is_no_banner(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, launch_app: Callable[..., Any], tmp_path: Path
) -> None:
    monkeypatch.setenv("MILADY_API_KEY", server.api_key)
    monkeypatch.setenv("MILADY_BASE_URL", server.base_url)

    launched = launch_app(create_demo())

    assert LOCAL_BANNER not in httpx.get(launched.url + "config").text
    gallery, _ = launched.client(tmp_path).predict("a fox", api_name="/generate")
    assert len(gallery) == 1


def test_images_are_served_by_the_app_itself(demo_app: Any) -> None:
    # Not the service's URLs: browsers and clients that cannot reach the service (or that
    # Gradio's file proxy refuses, such as loopback and private addresses) still get them.
    client = Client(demo_app.url, analytics_enabled=False, verbose=False, download_files=False)

    gallery, _ = client.predict("a fox", num_images=2, api_name="/generate")

    for item in gallery:
        assert item["image"]["url"].startswith(demo_app.url + "gradio_api/file=")
        assert httpx.get(item["image"]["url"]).status_code == 200
