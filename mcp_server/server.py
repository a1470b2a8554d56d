"""The MCP tools, each a translation of the core: generate_image, credits_balance, list_models, gallery."""

import base64
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent, ToolAnnotations
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from milady_integrations import AsyncMiladyClient, MiladyError, __version__
from milady_integrations._config import RECOVER_FOR, ClientOptions
from milady_integrations.access import KeyChoice, KeyPolicy, caller_id
from milady_integrations.calls import (
    AGENT_OPTIONS,
    agent_reply,
    agent_request,
    balance_reply,
    keyed_call,
    models_now,
    read_what_came,
    source_image_description,
)
from milady_integrations.catalogue import (
    ASPECT_RATIO_DESCRIPTIONS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    NUM_IMAGES_MAX,
    NUM_IMAGES_MIN,
    PROMPT_MAX_CHARS,
    AspectRatio,
    KnownModel,
    StylePreset,
)
from milady_integrations.images import fit_image
from milady_integrations.offline import DRAWN_LOCALLY
from milady_integrations.progress import Tick, wait_with_progress
from milady_integrations.request import FIELDS
from milady_integrations.wording import model_choices_text

logger = logging.getLogger("mcp_server")

#: Base64 characters of image content in one result, all images together (hosts cut larger results).
DEFAULT_MAX_IMAGE_CHARS = 700_000
SPENDS = ToolAnnotations(
    title="Generate images", read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
OFFLINE_MODE = f"Offline mode: {DRAWN_LOCALLY}."
OFFLINE_NOTE = (
    f"{OFFLINE_MODE} Their URLs are temporary: they stop working when this MCP server stops, so the "
    "images themselves are included below."
)
NOT_RESENT = (
    "Do not send this request again: it may have run and been billed. Check the account's gallery for its images first."
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

    def client(self, choice: KeyChoice | None = None) -> AsyncMiladyClient:
        """One connection pool for the server's life; each call carries its own key (none: keyless routes)."""
        if self._client is None:
            # Recovery first, so a call that may have run answers with its images, not an error to resend.
            options: ClientOptions = {**AGENT_OPTIONS, "recover_for": self.recover_for}
            self._client = AsyncMiladyClient(base_url=self.base_url, **options)
        return self._client if choice is None else self._client.with_options(api_key=choice.api_key)


def _text(text: str, data: dict[str, Any], *more: ContentBlock, error: bool = False) -> CallToolResult:
    content: list[ContentBlock] = [TextContent(type="text", text=text), *more]
    return CallToolResult(content=content, structured_content=data, is_error=error)


def _field(name: str, **more: Any) -> Any:
    return Field(description=FIELDS[name].description, **more)


def error_result(error: BaseException) -> CallToolResult:
    """THE translation of a core error for MCP: a tool error carrying the shared one line."""
    may_have_run = bool(getattr(error, "may_have_run", False))
    text = f"{error}\n{NOT_RESENT}" if may_have_run else str(error)
    data = {"error": type(error).__name__, "message": str(error), "may_have_run": may_have_run}
    return _text(text, data, error=True)


def build_server(settings: Settings) -> MCPServer:
    """An MCPServer with the Milady tools, configured by ``settings``."""

    def described(text: str) -> str:
        return f"{text} {OFFLINE_MODE}" if settings.offline else text

    def key_call(ctx: Context, images: int = 0) -> Any:
        remote = settings.remote
        address = getattr(getattr(ctx.request_context.request, "client", None), "host", None) if remote else None
        caller_key = (ctx.headers or {}).get("x-api-key") if remote else None
        return keyed_call(
            settings.policy, caller_key, caller=caller_id(None, address) if remote else None, images=images
        )

    server = MCPServer(
        "milady",
        title="Milady image generation",
        version=__version__,
        log_level="WARNING",
        instructions=described("Generate images with Milady Cloud. Every generate_image call is billed per image."),
    )
    with_images = settings.offline or not settings.urls_only
    image_limit = (
        f" The images come back as image content, re-encoded smaller when needed to stay under "
        f"{settings.max_image_chars:,} base64 characters per result."
        if with_images
        else ""
    )

    @server.tool(
        description=described(
            "Generate images from a text prompt (or from a source image), billed per image. The result "
            "lists each image's URL"
            + (", temporary in this offline mode," if settings.offline else "")
            + f" and says how many of the asked images came back.{image_limit} "
            "If a call fails saying it may have run, or you cancel one, it may still be billed: do not "
            "simply send it again."
        ),
        annotations=SPENDS,
    )
    async def generate_image(
        ctx: Context,
        prompt: Annotated[str, _field("prompt", min_length=1, max_length=PROMPT_MAX_CHARS)],
        model: Annotated[
            KnownModel, Field(description=model_choices_text(FIELDS["model"].description))
        ] = DEFAULT_MODEL,
        aspect_ratio: Annotated[AspectRatio, _field("aspect_ratio")] = DEFAULT_ASPECT_RATIO,
        style_preset: Annotated[StylePreset, _field("style_preset")] = DEFAULT_STYLE_PRESET,
        num_images: Annotated[
            int, _field("num_images", ge=NUM_IMAGES_MIN, le=NUM_IMAGES_MAX, strict=True)
        ] = DEFAULT_NUM_IMAGES,
        source_image: Annotated[
            str | SkipJsonSchema[None],
            Field(description=source_image_description(allow_paths=not settings.remote)),
        ] = None,
    ) -> CallToolResult:
        arguments = {
            "prompt": prompt,
            "model": model,
            "aspect_ratio": aspect_ratio,
            "style_preset": style_preset,
            "num_images": num_images,
            "source_image": source_image,
        }

        async def show(tick: Tick) -> None:
            with contextlib.suppress(Exception):  # progress is best effort; the call goes on
                await ctx.report_progress(tick.elapsed, None, tick.text)  # elapsed: it only grows

        try:
            with key_call(ctx, num_images) as choice:
                client = settings.client(choice)
                request = await agent_request(client, arguments, allow_paths=not settings.remote)
                work = client.send(request)
                result = await wait_with_progress(work, images=num_images, model=model, show=show, client=client)
                choice.reservation.settle(result.returned)
        except MiladyError as error:
            return error_result(error)
        except anyio.get_cancelled_exc_class():
            # The service has no cancel: the request may still finish and be billed.
            logger.warning("generate_image cancelled while waiting; the request may still be billed")
            raise
        images: list[ContentBlock] = []
        if with_images:
            try:
                datas, unread = await read_what_came(client, result)
            except MiladyError as error:
                datas, unread = [], [error]
            budget = settings.max_image_chars // max(1, len(datas))
            for raw in datas:
                try:  # an image that cannot be shrunk is left out; the paid result still comes back
                    fitted, mime = fit_image(raw, budget)
                except MiladyError as error:
                    unread.append(error)
                    continue
                images.append(ImageContent(type="image", data=base64.b64encode(fitted).decode("ascii"), mime_type=mime))
            if unread:
                logger.warning("images made but not readable for the result: %s", unread[0])
        text, data = agent_reply(result, arguments)
        text += f"\n{OFFLINE_NOTE}" if settings.offline else ""
        return _text(text, {**data, "offline": settings.offline, "billed_to": choice.source}, *images)

    @server.tool(
        description=described("The Milady Cloud credit balance of the key this server uses for you."),
        annotations=ToolAnnotations(title="Credit balance", read_only_hint=True, open_world_hint=True),
    )
    async def credits_balance(ctx: Context) -> CallToolResult:
        try:
            with key_call(ctx) as choice:
                return _text(*balance_reply(await settings.client(choice).credits_balance()))
        except MiladyError as error:
            return error_result(error)

    @server.tool(
        description=described("The image models generate_image can use, with what each is for."),
        annotations=ToolAnnotations(title="Image models", read_only_hint=True, open_world_hint=False),
    )
    async def list_models() -> CallToolResult:
        models, prices = await models_now(settings.client())
        lines = [
            f"{m['id']}: {m['provider']}, {str(m['speed']).lower()}, {m['best_for']}"
            + ("" if m["available"] is not False else f" (unavailable now: {m['reason']})")
            for m in models
        ]
        if prices is not None:
            lines.append(f"One image costs {prices.min:g} to {prices.max:g} credits, by model.")
        price_data = None if prices is None else {"min": prices.min, "max": prices.max}
        return _text(
            "\n".join(lines), {"models": models, "price_range": price_data, "aspect_ratios": ASPECT_RATIO_DESCRIPTIONS}
        )

    @server.tool(
        description=described(
            "Recent generations of this account, newest first: prompt, model, time and URL. Use it to find "
            "what a call that failed or was cancelled may still have made, instead of paying for it again."
        ),
        annotations=ToolAnnotations(title="Gallery", read_only_hint=True, open_world_hint=True),
    )
    async def gallery(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=100, description="How many, newest first.")] = 10,
        offset: Annotated[int, Field(ge=0, description="How many of the newest to skip.")] = 0,
    ) -> CallToolResult:
        try:
            with key_call(ctx) as choice:
                page = await settings.client(choice).gallery(limit=limit, offset=offset)
        except MiladyError as error:
            return error_result(error)
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
        return _text("\n".join(lines) or "No generations yet.", {"items": items, "has_more": page.has_more})

    return server
