"""Image downloads follow only http(s) URLs, capped, and never hop to this machine or a private
network when the service is remote.

A remote service is played over real loopback HTTP: the client's base URL has a public-looking
name (``api.milady.test``), a scripted resolver (the drivers' ``resolve`` seam) answers a public
address for such names, and an httpx transport carries connections to that address, by the
``Host`` they name, to loopback ports. A small HTTP server on loopback plays an image host that
redirects.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image

from milady_integrations import ImageDownloadError, MiladyClient
from milady_integrations._config import ClientConfig
from milady_integrations._drivers import run_sync
from milady_integrations._flow import Addresses, Outcome, download_flow
from milady_integrations.local import LocalServer


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


class ImageHost:
    """An image host on loopback that redirects where it is told; counts every path asked for."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.hits[self.path] += 1
                routes = {
                    "/to-loopback": f"http://127.0.0.1:{host.port}/secret",
                    "/to-localhost": f"http://localhost:{host.port}/secret",
                    "/to-private": "http://10.1.2.3/secret",
                    "/to-metadata": "http://169.254.169.254/latest/meta-data/",
                    "/to-ipv6-loopback": f"http://[::1]:{host.port}/secret",
                    "/to-file": "file:///etc/passwd",
                    "/to-public": "http://cdn2.milady.test/image.png",
                    "/loop": "/loop",
                }
                if self.path in routes:
                    self.send_response(302)
                    self.send_header("Location", routes[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = png_bytes() if self.path in ("/image.png", "/secret") else b"nope"
                self.send_response(200 if self.path in ("/image.png", "/secret") else 404)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> ImageHost:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


PUBLIC = "93.184.216.34"


class NameMap(httpx.BaseTransport):
    """Real HTTP to loopback ports for some public-looking names: by the URL's name (API calls),
    or by the ``Host`` a download names while connecting to the public address it was checked at."""

    def __init__(self, names: dict[str, int]) -> None:
        self.names = names
        self.inner = httpx.HTTPTransport()
        self.connected: list[str] = []

    def resolve(self, host: str) -> Outcome:
        """The scripted DNS: each known name is public; anything else does not exist."""
        return Addresses((PUBLIC,)) if host in self.names else OSError(f"no such host {host!r}")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        name = request.url.host
        if name == PUBLIC:
            name = request.headers["host"].split(":")[0]
        self.connected.append(str(request.url.copy_with(host=name)))
        if name in self.names:
            request.url = request.url.copy_with(host="127.0.0.1", port=self.names[name])
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def host() -> Iterator[ImageHost]:
    with ImageHost() as running:
        yield running


@pytest.fixture
def remote(host: ImageHost, server: LocalServer) -> Iterator[tuple[MiladyClient, NameMap]]:
    """A client whose service looks remote (api.milady.test), really the local server over loopback."""
    names = {"api.milady.test": server.port, "cdn.milady.test": host.port, "cdn2.milady.test": host.port}
    transport = NameMap(names)
    with (
        httpx.Client(transport=transport) as http,
        MiladyClient(api_key=server.api_key, base_url="http://api.milady.test", http_client=http) as client,
    ):
        yield client, transport


def download(remote: tuple[MiladyClient, NameMap], url: str) -> bytes:
    """Read an image URL the service returned, as the client's reader does, with the scripted DNS."""
    client, transport = remote
    return run_sync(download_flow(client._config, url), client._http, resolve=transport.resolve)


def test_a_remote_service_s_images_are_downloaded(remote: tuple[MiladyClient, NameMap]) -> None:
    client, _ = remote
    result = client.generate_image("a fox")
    assert result.urls[0].startswith("http://api.milady.test/images/")
    Image.open(io.BytesIO(download(remote, result.urls[0]))).load()


def test_a_redirect_to_another_public_host_is_followed(remote: tuple[MiladyClient, NameMap], host: ImageHost) -> None:
    assert download(remote, "http://cdn.milady.test/to-public") == png_bytes()
    assert host.hits["/image.png"] == 1


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/to-loopback", "local address '127.0.0.1'"),
        ("/to-localhost", "local address 'localhost'"),
        ("/to-ipv6-loopback", "local address '::1'"),
        ("/to-private", "local address '10.1.2.3'"),
        ("/to-metadata", "local address '169.254.169.254'"),
        ("/to-file", "scheme 'file'"),
    ],
)
def test_a_redirect_from_a_remote_service_never_hops_to_a_local_address(
    remote: tuple[MiladyClient, NameMap], host: ImageHost, path: str, words: str
) -> None:
    _, transport = remote
    with pytest.raises(ImageDownloadError, match=words):
        download(remote, f"http://cdn.milady.test{path}")
    assert host.hits[path] == 1 and host.hits["/secret"] == 0
    assert transport.connected == [f"http://cdn.milady.test{path}"]  # nothing after the redirect


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://cdn.milady.test/x.png",
        "data:image/png;base64,AAAA",  # only as `image`, never as a URL to fetch
        "javascript:alert(1)",
        "http://127.0.0.1:9/x.png",
        "http://localhost/x.png",
        "http://192.168.0.10/x.png",
        "http://[fd00::1]/x.png",
        "http://0.0.0.0/x.png",
        "http:///x.png",
    ],
)
def test_urls_named_by_a_remote_service_that_are_never_fetched(remote: tuple[MiladyClient, NameMap], url: str) -> None:
    client, transport = remote
    with pytest.raises(ImageDownloadError, match="Refusing to download"):
        run_sync(download_flow(client._config, url), client._http)
    assert transport.connected == []


def test_too_many_redirects_end_in_an_error(remote: tuple[MiladyClient, NameMap], host: ImageHost) -> None:
    with pytest.raises(ImageDownloadError, match="Too many redirects"):
        download(remote, "http://cdn.milady.test/loop")
    assert host.hits["/loop"] == 6


def test_a_local_service_may_use_loopback_urls_and_redirects(host: ImageHost, server: LocalServer) -> None:
    """`milady serve` and the built-in server live on this machine: their URLs are local by design."""
    config = ClientConfig.from_arguments(api_key="k", base_url=server.base_url)
    assert config.is_local
    with httpx.Client() as http:
        assert run_sync(download_flow(config, f"http://127.0.0.1:{host.port}/to-loopback"), http) == png_bytes()
    assert host.hits["/secret"] == 1


def test_the_tool_refuses_a_source_image_url_on_a_local_address_when_the_service_is_remote(
    host: ImageHost,
) -> None:
    """A prompt-injected URL must not make an agent's tool read the host's own network."""
    pytest.importorskip("langchain_core", reason="the LangChain face needs the 'langchain' extra")
    from langchain_tool import MiladyImageGenerationTool

    tool = MiladyImageGenerationTool(api_key="k", base_url="https://cloud.milady.ai")
    for url in (f"http://127.0.0.1:{host.port}/image.png", "http://169.254.169.254/latest/meta-data/"):
        message = tool.invoke(
            {"type": "tool_call", "id": "c", "name": "generate_image", "args": {"prompt": "a fox", "source_image": url}}
        )
        assert message.status == "error" and "Refusing to download an image from local address" in message.content
    assert sum(host.hits.values()) == 0
    tool.close()


def test_the_download_cap_holds_through_a_redirect(remote: tuple[MiladyClient, NameMap], host: ImageHost) -> None:
    client, transport = remote
    capped = client.with_options(max_download_bytes=10)
    with pytest.raises(ImageDownloadError, match="larger than the download cap of 10 bytes"):
        download((capped, transport), "http://cdn.milady.test/to-public")
