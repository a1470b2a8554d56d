"""The MCP tools, each a translation of the core: generate_image, credits_balance, list_models, gallery."""

import contextlib
import logging
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent, ToolAnnotations
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from milady_integrations import AsyncMiladyClient, MiladyError, __version__
from milady_integrations._config import RECOVER_FOR
from milady_integrations.access import KeyChoice, KeyPolicy, caller_id
from milady_integrations.agent_args import agent_field
from milady_integrations.calls import (
    AGENT_OPTIONS,
    agent_reply,
    agent_request,
    balance_reply,
    client_for,
    error_reply,
    gallery_reply,
    inline_images,
    keyed_call,
    models_reply,
)
from milady_integrations.catalogue import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_NUM_IMAGES,
    DEFAULT_STYLE_PRESET,
    AspectRatio,
    KnownModel,
    StylePreset,
)
from milady_integrations.client_pair import ClientPair
from milady_integrations.offline import DRAWN_LOCALLY
from milady_integrations.progress import Tick, wait_with_progress

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

    def __post_init__(self) -> None:
        # Recovery first, so a call that may have run answers with its images, not an error to resend.
        self._clients = ClientPair(
            lambda: {**AGENT_OPTIONS, "recover_for": self.recover_for, "base_url": self.base_url}
        )

    @property
    def offline(self) -> bool:
        return self.policy.local

    def client(self, choice: KeyChoice | None = None) -> AsyncMiladyClient:
        """One connection pool for the server's life; each call carries its own key (none: keyless routes)."""
        return self._clients.async_() if choice is None else client_for(choice, self._clients.async_())


def _text(text: str, data: dict[str, Any], *more: ContentBlock, error: bool = False) -> CallToolResult:
    content: list[ContentBlock] = [TextContent(type="text", text=text), *more]
    return CallToolResult(content=content, structured_content=data, is_error=error)


def error_result(error: BaseException) -> CallToolResult:
    """THE translation of a core error for MCP: a tool error carrying the shared one line."""
    return _text(*error_reply(error), error=True)


def build_server(settings: Settings) -> MCPServer:
    """An MCPServer with the Milady tools, configured by ``settings``."""

    def described(text: str) -> str:
        return f"{text} {OFFLINE_MODE}" if settings.offline else text

    def key_call(ctx: Context, images: int = 0) -> Any:
        remote, headers = settings.remote, ctx.headers or {}
        address = getattr(getattr(ctx.request_context.request, "client", None), "host", None) if remote else None
        caller_key = headers.get("x-api-key") if remote else None
        caller = caller_id(None, address, headers.get("x-forwarded-for")) if remote else None
        return keyed_call(settings.policy, caller_key, caller=caller, images=images)

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
        prompt: Annotated[str, agent_field("prompt")],
        model: Annotated[KnownModel, agent_field("model")] = DEFAULT_MODEL,
        aspect_ratio: Annotated[AspectRatio, agent_field("aspect_ratio")] = DEFAULT_ASPECT_RATIO,
        style_preset: Annotated[StylePreset, agent_field("style_preset")] = DEFAULT_STYLE_PRESET,
        num_images: Annotated[int, agent_field("num_images")] = DEFAULT_NUM_IMAGES,
        source_image: Annotated[
            str | SkipJsonSchema[None], agent_field("source_image", allow_paths=not settings.remote)
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
            inlined, unread = await inline_images(client, result, settings.max_image_chars)
            images = [ImageContent(type="image", data=data, mime_type=mime) for data, mime in inlined]
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
        return _text(*await models_reply(settings.client()))

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
        return _text(*gallery_reply(page))

    return server
