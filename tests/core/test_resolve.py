"""Downloads connect to the address that was checked, through the real drivers.

The resolver is the drivers' ``resolve`` seam: a scripted one stands for a name that answers
differently the second time (DNS rebinding). With it the connection still goes where the check
looked; with a real loopback server a name nobody's DNS knows downloads fine, which proves the
connection used the checked address and not a lookup of its own.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from milady_integrations import ImageDownloadError, MiladyClient
from milady_integrations._config import ClientConfig
from milady_integrations._drivers import run_async, run_sync
from milady_integrations._flow import Addresses, Outcome, download_flow
from milady_integrations.local import LocalServer

from .test_flows import PNG, PUBLIC


class Rebinding:
    """Answers the public address once, then loopback to anyone who asks again."""

    def __init__(self, first: str = PUBLIC, then: str = "127.0.0.1") -> None:
        self.asked: list[str] = []
        self.first, self.then = first, then

    def __call__(self, host: str) -> Outcome:
        self.asked.append(host)
        return Addresses((self.first if len(self.asked) == 1 else self.then,))

    async def lookup(self, host: str) -> Outcome:
        return self(host)


def remote() -> ClientConfig:
    return ClientConfig.from_arguments(api_key="k", base_url="https://cloud.milady.example")


def recording_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})

    return httpx.MockTransport(handle)


def test_a_rebinding_name_reaches_only_the_address_that_was_checked() -> None:
    resolver, seen = Rebinding(), []
    with httpx.Client(transport=recording_transport(seen)) as http:
        data = run_sync(download_flow(remote(), "https://img.example/a.png"), http, resolve=resolver)
    assert data == PNG and resolver.asked == ["img.example"]
    (request,) = seen
    assert request.url.host == PUBLIC and request.headers["host"] == "img.example"
    assert request.extensions["sni_hostname"] == "img.example"


async def test_a_rebinding_name_reaches_only_the_address_that_was_checked_async() -> None:
    resolver, seen = Rebinding(), []
    async with httpx.AsyncClient(transport=recording_transport(seen)) as http:
        data = await run_async(download_flow(remote(), "http://img.example/a.png"), http, resolve=resolver.lookup)
    assert data == PNG and resolver.asked == ["img.example"]
    assert [r.url.host for r in seen] == [PUBLIC]


@pytest.fixture
def named_image_url(server: LocalServer) -> tuple[str, bytes]:
    """An image the local server made, addressed by a name no DNS knows, and its bytes."""
    with MiladyClient(api_key=server.api_key, base_url=server.base_url) as client:
        result = client.generate_image("a fox")
        image = result.images[0]
        expected = client.read_images(result)[0]
    parts = urlsplit(image.source)
    named = parts._replace(netloc=f"images.milady.test:{parts.port}")
    return urlunsplit(named), expected


def test_a_download_connects_to_the_checked_loopback_address(server: LocalServer, named_image_url) -> None:
    url, expected = named_image_url
    resolver = Rebinding(first="127.0.0.1", then="203.0.113.9")
    local = ClientConfig.from_arguments(api_key="k", base_url=server.base_url)
    with httpx.Client() as http:
        assert run_sync(download_flow(local, url), http, resolve=resolver) == expected
    assert resolver.asked == ["images.milady.test"]


async def test_a_download_connects_to_the_checked_loopback_address_async(server: LocalServer, named_image_url) -> None:
    url, expected = named_image_url
    resolver = Rebinding(first="127.0.0.1", then="203.0.113.9")
    local = ClientConfig.from_arguments(api_key="k", base_url=server.base_url)
    async with httpx.AsyncClient() as http:
        assert await run_async(download_flow(local, url), http, resolve=resolver.lookup) == expected
    assert resolver.asked == ["images.milady.test"]


def test_a_remote_service_cannot_send_us_to_a_name_that_resolves_to_loopback(
    server: LocalServer, named_image_url
) -> None:
    url, _ = named_image_url
    before = server.stats.total_requests
    with httpx.Client() as http, pytest.raises(ImageDownloadError, match=r"resolves to local address 127\.0\.0\.1"):
        run_sync(download_flow(remote(), url), http, resolve=Rebinding(first="127.0.0.1"))
    assert server.stats.total_requests == before
