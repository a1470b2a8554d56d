"""One call a face makes for someone: whose key pays, the request from their arguments, the
images read back, and what an agent reads. Gradio, MCP and LangChain only translate these.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._config import RECOVER_FOR, ClientOptions
from .access import KeyChoice, KeyPolicy, fit_key_hint
from .catalogue import DEFAULT_MODEL, MODEL_INFO
from .client import AsyncMiladyClient, MiladyClient
from .config_file import DEFAULT_ACCOUNT, account_names, resolve_endpoint
from .errors import MiladyError
from .request import FIELDS, GenerateImageRequest
from .results import GeneratedImage, ImageGenerationResult, PriceRange
from .wording import agent_summary, plural, source_kinds

__all__ = [
    "AGENT_OPTIONS",
    "FACE_OPTIONS",
    "account_choices",
    "account_client",
    "agent_reply",
    "agent_request",
    "agent_request_sync",
    "balance_reply",
    "keyed_call",
    "models_now",
    "read_what_came",
    "source_image_description",
    "unread_note",
]

#: How every face makes its client: a call that may have run is looked up in the gallery before
#: a failure is reported, so no one pays twice for it.
FACE_OPTIONS: ClientOptions = {"recover_for": RECOVER_FOR}
#: An agent's client also names an unavailable model in its result (an agent cannot see a warning).
AGENT_OPTIONS: ClientOptions = {**FACE_OPTIONS, "check_models": True}


def source_image_description(allow_paths: bool) -> str:
    """The ``source_image`` argument, for an agent (LangChain, MCP)."""
    kinds = source_kinds(allow_paths)
    return f"Optional image to transform (image-to-image): {kinds}. Leave it out to draw from the prompt alone."


@contextmanager
def keyed_call(
    policy: KeyPolicy, caller_key: str | None, *, caller: str | None = None, images: int = 0
) -> Iterator[KeyChoice]:
    """The key for one call (``policy.choose``), its hold on the limits settled when the block ends.

    Inside, settle with ``choice.reservation.settle(result.returned)``. A MiladyError leaving
    the block gets the hint that fits the face and releases the hold unless the request may
    have run; a cancel keeps it counted (the service has no cancel: it may still bill).
    """
    choice: KeyChoice | None = None
    try:
        choice = policy.choose(caller_key, caller=caller, images=images)
        yield choice
    except MiladyError as error:
        fit_key_hint(error, policy.how, lent=choice is not None and choice.lent)
        if choice is not None:
            choice.reservation.settle_error(error)
        raise
    finally:
        if choice is not None:  # idempotent: a settled hold stays as it was settled
            choice.reservation.settle(choice.reservation.images)


async def agent_request(
    client: AsyncMiladyClient, arguments: Mapping[str, Any], *, allow_paths: bool
) -> GenerateImageRequest:
    """The checked request for a caller's arguments: a web URL source is downloaded (capped, checked), a large
    source shrunk rather than refused. ``allow_paths=False`` refuses what would read this machine's files."""
    source = await client.read_source(arguments.get("source_image") or None, allow_paths=allow_paths)
    options = _agent_options(arguments, source)
    # Reading and shrinking an image takes a while: off the event loop.
    return await asyncio.to_thread(lambda: client.build_request(**options))


def agent_request_sync(
    client: MiladyClient, arguments: Mapping[str, Any], *, allow_paths: bool
) -> GenerateImageRequest:
    """``agent_request`` for a blocking client."""
    source = client.read_source(arguments.get("source_image") or None, allow_paths=allow_paths)
    return client.build_request(**_agent_options(arguments, source))


def _agent_options(arguments: Mapping[str, Any], source: object) -> dict[str, Any]:
    # An empty source_image is no source; a large one is shrunk to the service's limit rather than refused.
    return {**arguments, "source_image": source, "downscale_source": True}


async def read_what_came(
    client: AsyncMiladyClient,
    result: ImageGenerationResult,
    on_read: Callable[[bytes], Awaitable[object]] | None = None,
) -> tuple[list[bytes], list[MiladyError]]:
    """The bytes of every image that can be read, in order, and why the others cannot.

    Those were billed all the same: their URLs stay in the result. Raises the first failure
    when no image can be read. ``on_read`` hears each image as it arrives (a progress bar).
    """

    async def read(image: GeneratedImage) -> bytes:
        data = await client.read_image(image)
        if on_read is not None:
            await on_read(data)
        return data

    parts = await asyncio.gather(*map(read, result.images), return_exceptions=True)
    for part in parts:
        if isinstance(part, BaseException) and not isinstance(part, MiladyError):
            raise part
    failures = [part for part in parts if isinstance(part, MiladyError)]
    if failures and len(failures) == len(parts):
        raise failures[0]
    return [part for part in parts if isinstance(part, bytes)], failures


def unread_note(failures: Sequence[MiladyError], where: str = "the result") -> str:
    """``1 image could not be read (its URL is in the result): ...``; ``where`` names where the URLs are."""
    whose = "its URL is" if len(failures) == 1 else "their URLs are"
    return f"{plural(len(failures), 'image')} could not be read ({whose} in {where}): {failures[0]}"


def agent_reply(result: ImageGenerationResult, arguments: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """What an agent reads (a short summary, never base64) and the full result as data, with what was asked."""
    shown = {name: arguments.get(name, FIELDS[name].default) for name in ("style_preset", "aspect_ratio")}
    return agent_summary(result, **shown), {"prompt": arguments.get("prompt"), **shown, **result.to_dict()}


def balance_reply(balance: float) -> tuple[str, dict[str, Any]]:
    return f"Milady Cloud credit balance: {balance:g} credits.", {"balance": balance}


async def models_now(client: AsyncMiladyClient) -> tuple[list[dict[str, Any]], PriceRange | None]:
    """Every known model, what it is for and whether the service serves it now; and the price range.

    Live status and prices are advice: when the service does not say, the known list stands.
    """
    try:
        statuses = await client.model_status(*MODEL_INFO)
        prices = await client.price_range()
    except MiladyError:
        statuses, prices = {}, None
    models = [
        {
            "id": model,
            "provider": info.provider,
            "speed": info.speed,
            "best_for": info.best_for,
            "default": model == DEFAULT_MODEL,
            "available": statuses[model].available if model in statuses else None,
            "reason": statuses[model].reason if model in statuses else None,
        }
        for model, info in MODEL_INFO.items()
    ]
    return models, prices


def account_choices(config_paths: Sequence[Path]) -> list[str]:
    """The account names a person may pick from (never a key): the default alone when the config file is
    broken, so the face still shows its inputs; the run then names the broken file."""
    try:
        return list(account_names(config_paths))
    except MiladyError:
        return [DEFAULT_ACCOUNT]


def account_client(config_paths: Sequence[Path], account: str | None) -> AsyncMiladyClient:
    """The client for a named account: the key is the environment's or the config file's, never typed in a face."""
    found = resolve_endpoint(config_paths, account=account)
    options: ClientOptions = {**FACE_OPTIONS, **found.options}
    return AsyncMiladyClient(found.api_key, base_url=found.base_url, **options)
