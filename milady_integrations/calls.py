"""One call a face makes for someone: whose key pays, the request from their arguments, the
images read back, and what an agent reads. Gradio, MCP and LangChain only translate these.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ._config import RECOVER_FOR, ClientOptions
from .access import KeyChoice, KeyPolicy, fit_key_hint
from .catalogue import ASPECT_RATIO_DESCRIPTIONS, DEFAULT_MODEL, MODEL_INFO
from .client import AsyncMiladyClient, ClientT, MiladyClient
from .config_file import resolve_endpoint
from .errors import MiladyError
from .images import fit_image
from .request import FIELDS, GenerateImageRequest
from .results import GalleryPage, GeneratedImage, ImageGenerationResult, ModelStatus, PriceRange
from .wording import NOT_RESENT, agent_summary, model_state, plural

__all__ = [
    "AGENT_OPTIONS",
    "FACE_OPTIONS",
    "account_client",
    "agent_reply",
    "agent_request",
    "agent_request_sync",
    "balance_reply",
    "client_for",
    "error_reply",
    "gallery_reply",
    "image_parts",
    "inline_images",
    "keyed_call",
    "model_about",
    "models_now",
    "models_reply",
    "read_what_came",
    "unread_note",
]

#: How every face makes its client: a call that may have run is looked up in the gallery before
#: a failure is reported, so no one pays twice for it.
FACE_OPTIONS: ClientOptions = {"recover_for": RECOVER_FOR}
#: An agent's client also names an unavailable model in its result (an agent cannot see a warning).
AGENT_OPTIONS: ClientOptions = {**FACE_OPTIONS, "check_models": True}


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


def client_for(choice: KeyChoice, client: ClientT, local: ClientT | None = None) -> ClientT:
    """The client one call uses: ``local`` (the in-process server's) when the choice fell back to it, else
    ``client`` with the chosen key (the same connection pool)."""
    if choice.source == "local" and local is not None:
        return local
    return client.with_options(api_key=choice.api_key)  # type: ignore[no-any-return]


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


def error_reply(error: BaseException) -> tuple[str, dict[str, Any]]:
    """What an agent reads of a failure: the shared line, and a warning not to resend one that may have run."""
    may_have_run = bool(getattr(error, "may_have_run", False))
    text = f"{error}\n{NOT_RESENT}" if may_have_run else str(error)
    return text, {"error": type(error).__name__, "message": str(error), "may_have_run": may_have_run}


async def models_reply(client: AsyncMiladyClient) -> tuple[str, dict[str, Any]]:
    """Every known model, one line each with what it is for and whether it serves now, and the price range."""
    models, prices = await models_now(client)
    lines = [
        f"{m['id']}: {model_about(m)}"
        + ("" if m["available"] else f" ({model_state(m['available'], m['reason'], now=True)})")
        for m in models
    ]
    if prices is not None:
        lines.append(f"One image costs {prices.min:g} to {prices.max:g} credits, by model.")
    price_range = None if prices is None else {"min": prices.min, "max": prices.max}
    return "\n".join(lines), {"models": models, "price_range": price_range, "aspect_ratios": ASPECT_RATIO_DESCRIPTIONS}


def gallery_reply(page: GalleryPage) -> tuple[str, dict[str, Any]]:
    """Past generations, newest first: one line each (time, model, prompt, URL), and as data."""
    items = [
        {
            "id": item.id,
            "prompt": item.prompt,
            "model": item.model,
            "url": item.url,
            "created_at": item.created_at.isoformat() if item.created_at else None,
        }
        for item in page.items
    ]
    lines = [f"{i['created_at']}  {i['model']}  {i['prompt']!r:.80}  {i['url']}" for i in items]
    return "\n".join(lines) or "No generations yet.", {"items": items, "has_more": page.has_more}


def image_parts(result: ImageGenerationResult) -> list[dict[str, str]]:
    """Where each image is, for a content block: ``url`` (and ``mime_type`` when known), else inline ``base64``."""
    parts: list[dict[str, str]] = []
    for image in result.images:
        if image.url:
            parts.append({"url": image.url, **({"mime_type": image.mime_type} if image.mime_type else {})})
        elif image.data_url:
            # The header names the type: decoding megabytes (and failing on a bad one) after paying is not needed.
            header, _, payload = image.data_url.partition(",")
            parts.append({"base64": payload, "mime_type": image.mime_type or header[5:].split(";")[0]})
    return parts


async def inline_images(
    client: AsyncMiladyClient, result: ImageGenerationResult, max_chars: int
) -> tuple[list[tuple[str, str]], list[MiladyError]]:
    """(base64, mime) of the images that can be read, together at most ``max_chars`` (hosts cut larger results),
    and why the others cannot: never raises, the paid result comes back all the same."""
    try:
        datas, unread = await read_what_came(client, result)
    except MiladyError as error:
        datas, unread = [], [error]
    budget = max_chars // max(1, len(datas))
    inlined: list[tuple[str, str]] = []
    for raw in datas:
        try:
            # Decoding and re-encoding megabytes: in a thread, so the server's other callers are not held up.
            fitted, mime = await asyncio.to_thread(fit_image, raw, budget)
        except MiladyError as error:  # an image that cannot be shrunk enough is left out
            unread.append(error)
            continue
        inlined.append((base64.b64encode(fitted).decode("ascii"), mime))
    return inlined, unread


def model_about(model: Mapping[str, Any]) -> str:
    """What one of ``models_now``'s models is: its provider, speed and what it is best for."""
    return f"{model['provider']}, {str(model['speed']).lower()}, {model['best_for']}"


async def models_now(client: AsyncMiladyClient) -> tuple[list[dict[str, Any]], PriceRange | None]:
    """Every known model, what it is for and whether the service serves it now; and the price range.

    Live status and prices are advice, each on its own: when the service does not say one, the
    other still shows, and the known list stands (``available`` None: the service did not say).
    """
    statuses: dict[str, ModelStatus] = {}
    prices: PriceRange | None = None
    with suppress(MiladyError):
        statuses = await client.model_status(*MODEL_INFO)
    with suppress(MiladyError):
        prices = await client.price_range()
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


def account_client(config_paths: Sequence[Path], account: str | None) -> AsyncMiladyClient:
    """The client for a named account: the key is the environment's or the config file's, never typed in a face."""
    found = resolve_endpoint(config_paths, account=account)
    options: ClientOptions = {**FACE_OPTIONS, **found.options}
    return AsyncMiladyClient(found.api_key, base_url=found.base_url, **options)
