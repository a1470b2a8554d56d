"""The MCP tools, each a translation of the core: generate_image, credits_balance, list_models."""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from milady_integrations import AsyncMiladyClient, MiladyError, __version__
from milady_integrations._config import RECOVER_FOR
from milady_integrations.access import KeyChoice, KeyPolicy, fit_key_hint
from milady_integrations.catalogue import (
    ASPECT_RATIO_DESCRIPTIONS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    MODEL_INFO,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    AspectRatio,
    KnownModel,
    StylePreset,
)
from milady_integrations.images import fit_image
from milady_integrations.request import FIELD_DESCRIPTIONS
from milady_integrations.wording import model_choices_text, plural, source_kinds

from ._results import DRAWN_LOCALLY, error_result, generation_result, text_result

logger = logging.getLogger("mcp_server")

#: Base64 characters of image content in one result, all images together (hosts cut larger results).
DEFAULT_MAX_IMAGE_CHARS = 700_000
SPENDS = ToolAnnotations(
    title="Generate images", read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)


@dataclass
class Settings:
    """How this server serves: whose key pays (``policy``), where, and how results carry images."""

    policy: KeyPolicy
    base_url: str | None = None
    #: Callers are other people (streamable HTTP): keys come from X-API-Key, never a file path.
    remote: bool = False
    urls_only: bool = False
    max_image_chars: int = DEFAULT_MAX_IMAGE_CHARS
    #: Seconds to look in the gallery for what a call that may have run made, before answering an error.
    recover_for: float = RECOVER_FOR
    _client: AsyncMiladyClient | None = field(default=None, repr=False)

    @property
    def offline(self) -> bool:
        return self.policy.local

    def client(self, choice: KeyChoice) -> AsyncMiladyClient:
        # One connection pool for the server's life; each call carries its own key.
        if self._client is None:
            # Recovery first, so a call that may have run answers with its images, not an error to resend.
            self._client = AsyncMiladyClient(base_url=self.base_url, recover_for=self.recover_for, check_models=True)
        return self._client.with_options(api_key=choice.api_key)  # type: ignore[no-any-return]

    def client_without_key(self) -> AsyncMiladyClient:
        """For the routes that need no key (model status, prices)."""
        if self._client is None:
            self._client = AsyncMiladyClient(base_url=self.base_url, recover_for=self.recover_for, check_models=True)
        return self._client


def _describe(settings: Settings, text: str) -> str:
    return f"{text} {DRAWN_LOCALLY}" if settings.offline else text


def _choose(settings: Settings, ctx: Context, images: int) -> KeyChoice:
    request: Any = ctx.request_context.request if settings.remote else None
    caller_key = (ctx.headers or {}).get("x-api-key") if settings.remote else None
    address = getattr(getattr(request, "client", None), "host", None)
    caller = f"address {address or 'unknown'}" if settings.remote else None
    return settings.policy.choose(caller_key, caller=caller, images=images)


async def _with_progress(ctx: Context, label: str, work: Any) -> Any:
    """Await ``work``, reporting the seconds waited (progress must only grow)."""
    started = time.monotonic()

    async def tick() -> None:
        while True:
            await asyncio.sleep(1.0)
            seconds = int(time.monotonic() - started)  # each tick is a second later: always grows
            with contextlib.suppress(Exception):  # progress is best effort; the call goes on
                await ctx.report_progress(seconds, None, f"{label}: {seconds} s")

    ticker = asyncio.create_task(tick())
    try:
        return await work
    finally:
        ticker.cancel()


def _failed(settings: Settings, error: MiladyError, choice: KeyChoice | None) -> CallToolResult:
    fit_key_hint(error, settings.policy.how, lent=choice.lent if choice else False)
    if choice is not None:
        choice.reservation.settle_error(error)
    # RECOVERY: a failure that may have run (getattr(error, "may_have_run")) is where the images
    # it made will be looked up in the gallery before answering; until then the agent is told
    # not to resend (error_result).
    return error_result(error)


def build_server(settings: Settings) -> MCPServer:
    """An MCPServer with the Milady tools, configured by ``settings``."""
    server = MCPServer(
        "milady",
        title="Milady image generation",
        version=__version__,
        log_level="WARNING",
        instructions=_describe(
            settings, "Generate images with Milady Cloud. Every generate_image call is billed per image."
        ),
    )
    image_limit = (
        ""
        if settings.urls_only and not settings.offline
        else (
            f" The images come back as image content, re-encoded smaller when needed to stay under "
            f"{settings.max_image_chars:,} base64 characters per result."
        )
    )

    @server.tool(
        description=_describe(
            settings,
            "Generate images from a text prompt (or from a source image), billed per image. The result "
            "lists each image's URL"
            + (", temporary in this offline mode," if settings.offline else "")
            + f" and says how many of the asked images came back.{image_limit} "
            "If a call fails saying it may have run, or you cancel one, it may still be billed: do not "
            "simply send it again.",
        ),
        annotations=SPENDS,
    )
    async def generate_image(
        ctx: Context,
        prompt: Annotated[
            str, Field(min_length=1, max_length=PROMPT_MAX_CHARS, description=FIELD_DESCRIPTIONS["prompt"])
        ],
        model: Annotated[
            KnownModel, Field(description=model_choices_text(FIELD_DESCRIPTIONS["model"]))
        ] = DEFAULT_MODEL,
        aspect_ratio: Annotated[
            AspectRatio, Field(description=FIELD_DESCRIPTIONS["aspect_ratio"])
        ] = DEFAULT_ASPECT_RATIO,
        style_preset: Annotated[
            StylePreset, Field(description=FIELD_DESCRIPTIONS["style_preset"])
        ] = DEFAULT_STYLE_PRESET,
        num_images: Annotated[
            int,
            Field(ge=NUM_IMAGES_MIN, le=NUM_IMAGES_MAX, strict=True, description=FIELD_DESCRIPTIONS["num_images"]),
        ] = DEFAULT_NUM_IMAGES,
        source_image: Annotated[
            str | SkipJsonSchema[None],
            Field(description=f"Optional image to transform: {source_kinds(not settings.remote)}."),
        ] = None,
    ) -> CallToolResult:
        choice: KeyChoice | None = None
        try:
            choice = _choose(settings, ctx, num_images)
            client = settings.client(choice)
            source = await client.read_source(source_image or None, allow_paths=not settings.remote)
            request = await asyncio.to_thread(
                client.build_request,
                prompt,
                model=model,
                aspect_ratio=aspect_ratio,
                style_preset=style_preset,
                num_images=num_images,
                source_image=source,
                downscale_source=True,
            )
            label = f"generating {plural(num_images, 'image')}"
            result = await _with_progress(ctx, label, client.send(request))
            choice.reservation.settle(result.returned)
        except MiladyError as error:
            return _failed(settings, error, choice)
        except anyio.get_cancelled_exc_class():
            # The service has no cancel: the request may still finish and be billed.
            logger.warning("generate_image cancelled while waiting; the request may still be billed")
            if choice is not None:
                choice.reservation.settle(num_images)
            raise
        images: list[tuple[bytes, str]] = []
        if settings.offline or not settings.urls_only:
            budget = settings.max_image_chars // max(1, result.returned)
            try:
                images = [fit_image(data, budget) for data in await client.read_images(result)]
            except MiladyError as error:
                logger.warning("images made but not readable for the result: %s", error)
        shown = {"prompt": prompt, "style_preset": style_preset, "aspect_ratio": aspect_ratio}
        return generation_result(result, images, shown, offline=settings.offline, key_source=choice.source)

    @server.tool(
        description=_describe(settings, "The Milady Cloud credit balance of the key this server uses for you."),
        annotations=ToolAnnotations(title="Credit balance", read_only_hint=True, open_world_hint=True),
    )
    async def credits_balance(ctx: Context) -> CallToolResult:
        choice: KeyChoice | None = None
        try:
            choice = _choose(settings, ctx, 0)
            balance = await settings.client(choice).credits_balance()
        except MiladyError as error:
            return _failed(settings, error, choice)
        return text_result(f"Milady Cloud credit balance: {balance:g} credits.", {"balance": balance})

    @server.tool(
        description=_describe(settings, "The image models generate_image can use, with what each is for."),
        annotations=ToolAnnotations(title="Image models", read_only_hint=True, open_world_hint=False),
    )
    async def list_models() -> CallToolResult:
        client = settings.client_without_key()
        try:  # live status and prices are advice: the known list stands without them
            statuses = await client.model_status(*MODEL_INFO)
            prices = await client.price_range()
        except MiladyError:
            statuses, prices = {}, None
        models = [
            {
                "id": m,
                "provider": i.provider,
                "speed": i.speed,
                "best_for": i.best_for,
                "default": m == DEFAULT_MODEL,
                "available": statuses[m].available if m in statuses else None,
                "reason": statuses[m].reason if m in statuses else None,
            }
            for m, i in MODEL_INFO.items()
        ]
        lines = [
            f"{m['id']}: {m['provider']}, {str(m['speed']).lower()}, {m['best_for']}"
            + ("" if m["available"] is not False else f" (unavailable now: {m['reason']})")
            for m in models
        ]
        if prices is not None:
            lines.append(f"One image costs {prices.min:g} to {prices.max:g} credits, by model.")
        price_data = None if prices is None else {"min": prices.min, "max": prices.max}
        data = {"models": models, "price_range": price_data, "aspect_ratios": ASPECT_RATIO_DESCRIPTIONS}
        return text_result("\n".join(lines), data)

    @server.tool(
        description=_describe(
            settings,
            "Recent generations of this account, newest first: prompt, model, time and URL. Use it to find "
            "what a call that failed or was cancelled may still have made, instead of paying for it again.",
        ),
        annotations=ToolAnnotations(title="Gallery", read_only_hint=True, open_world_hint=True),
    )
    async def gallery(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=100, description="How many, newest first.")] = 10,
        offset: Annotated[int, Field(ge=0, description="How many of the newest to skip.")] = 0,
    ) -> CallToolResult:
        choice: KeyChoice | None = None
        try:
            choice = _choose(settings, ctx, 0)
            page = await settings.client(choice).gallery(limit=limit, offset=offset)
        except MiladyError as error:
            return _failed(settings, error, choice)
        items = [
            {
                "id": i.id,
                "prompt": i.prompt,
                "model": i.model,
                "url": i.url,
                "created_at": i.created_at.isoformat() if i.created_at else None,
            }
            for i in page.items
        ]
        lines = [f"{item['created_at']}  {item['model']}  {item['prompt']!r:.80}  {item['url']}" for item in items]
        return text_result("\n".join(lines) or "No generations yet.", {"items": items, "has_more": page.has_more})

    return server
