"""Core results and errors as MCP tool results: short text for the model, images, structured data."""

from __future__ import annotations

import base64
from typing import Any

from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent

from milady_integrations import ImageGenerationResult
from milady_integrations.wording import agent_summary

DRAWN_LOCALLY = "Offline mode: images are drawn locally by the built-in server, not by a model."
OFFLINE_NOTE = (
    "Drawn locally by the built-in offline server, not by a model. Its URLs are temporary: they stop "
    "working when this MCP server stops, so the images themselves are included below."
)
NOT_RESENT = (
    "Do not send this request again: it may have run and been billed. Check the account's gallery for its images first."
)


def generation_result(
    result: ImageGenerationResult,
    images: list[tuple[bytes, str]],
    request: dict[str, Any],
    *,
    offline: bool,
    key_source: str,
) -> CallToolResult:
    """What the host gets: the summary, each image (already fitted to the size limit), the full data."""
    text = agent_summary(result, style_preset=request["style_preset"], aspect_ratio=request["aspect_ratio"])
    text += f"\n{OFFLINE_NOTE}" if offline else ""
    content: list[ContentBlock] = [TextContent(type="text", text=text)]
    content += [
        ImageContent(type="image", data=base64.b64encode(data).decode("ascii"), mime_type=mime) for data, mime in images
    ]
    structured = {**request, **result.to_dict(), "offline": offline, "billed_to": key_source}
    return CallToolResult(content=content, structured_content=structured)


def error_result(error: BaseException) -> CallToolResult:
    """THE translation of a core error for MCP: a tool error carrying the shared one line."""
    lines = [str(error)]
    may_have_run = bool(getattr(error, "may_have_run", False))
    if may_have_run:
        lines.append(NOT_RESENT)
    data = {"error": type(error).__name__, "message": str(error), "may_have_run": may_have_run}
    text = TextContent(type="text", text="\n".join(lines))
    return CallToolResult(content=[text], structured_content=data, is_error=True)


def text_result(text: str, data: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
