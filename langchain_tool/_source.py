"""A source image given by URL is downloaded by us (capped, address-checked) before sending.

The service takes only data URLs; models naturally pass the URL of an image they saw.
A URL naming a local or private address is refused unless the service itself is local,
so a prompt-injected URL cannot make the tool read the host's internal network.
"""

from __future__ import annotations

from milady_integrations import AsyncMiladyClient, InvalidRequestError, MiladyClient, MiladyError
from milady_integrations.images import to_source_data_url


def is_web_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _as_source_error(url: str, err: MiladyError) -> InvalidRequestError:
    # The download error's own hint speaks of generated images; this one is the caller's input.
    return InvalidRequestError(
        f"source_image could not be read from {url}: {err.message.rstrip('.')}",
        field="source_image",
        value=url,
        allowed="an http(s) URL of an image, or a data:image/...;base64 URL",
        hint="Pass an image URL that answers with an image, or leave source_image out.",
    )


def _to_data_url(data: bytes) -> str:
    # Large downloads are shrunk to the service's size limit rather than refused.
    return to_source_data_url(data, downscale=True)


def read_source(client: MiladyClient, source: str | None) -> str | None:
    if source is None or not is_web_url(source):
        return source
    try:
        data = client.read_url(source)
    except InvalidRequestError:
        raise
    except MiladyError as err:
        raise _as_source_error(source, err) from err
    return _to_data_url(data)


async def aread_source(client: AsyncMiladyClient, source: str | None) -> str | None:
    if source is None or not is_web_url(source):
        return source
    try:
        data = await client.read_url(source)
    except InvalidRequestError:
        raise
    except MiladyError as err:
        raise _as_source_error(source, err) from err
    return _to_data_url(data)
