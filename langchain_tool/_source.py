"""A source image given by URL is downloaded by us (capped, address-checked) before sending.

The bytes go to the client, which checks them and shrinks them to the service's limit
(``downscale_source=True``) off the event loop.

The service takes only data URLs; models naturally pass the URL of an image they saw.
A URL naming a local or private address is refused unless the service itself is local,
so a prompt-injected URL cannot make the tool read the host's internal network.
Anything else than a web URL or a data URL is refused: the core would read a string as a
file path, and a model must never make the tool upload a file from this machine.
"""

from __future__ import annotations

from milady_integrations import AsyncMiladyClient, InvalidRequestError, MiladyClient, MiladyError


def is_web_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _as_source_error(url: str, err: MiladyError) -> InvalidRequestError:
    # The download error's own hint speaks of generated images; this one is the caller's input.
    return InvalidRequestError(
        f"source_image could not be read from {url}: {err.message.rstrip('.')}",
        field="source_image",
        value=url,
        allowed=_ALLOWED,
        hint="Pass an image URL that answers with an image, or leave source_image out.",
    )


_ALLOWED = "an http(s) URL of an image, or a data:image/...;base64 URL"


def _refuse_other_strings(source: str) -> None:
    if not source.startswith("data:"):
        raise InvalidRequestError(
            f"source_image must be {_ALLOWED}; got {source[:80]!r}",
            field="source_image",
            value=source[:80],
            allowed=_ALLOWED,
        )


def read_source(client: MiladyClient, source: str | None) -> str | bytes | None:
    if source is None:
        return None
    if not is_web_url(source):
        _refuse_other_strings(source)
        return source
    try:
        data = client.read_url(source)
    except InvalidRequestError:
        raise
    except MiladyError as err:
        raise _as_source_error(source, err) from err
    return data


async def aread_source(client: AsyncMiladyClient, source: str | None) -> str | bytes | None:
    if source is None:
        return None
    if not is_web_url(source):
        _refuse_other_strings(source)
        return source
    try:
        data = await client.read_url(source)
    except InvalidRequestError:
        raise
    except MiladyError as err:
        raise _as_source_error(source, err) from err
    return data
