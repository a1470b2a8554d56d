"""Core results and errors as MCP tool results: short text for the model, images, structured data."""

from __future__ import annotations

import base64
from typing import Any

from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent
from milady_integrations import ImageGenerationResult

DRAWN_LOCALLY = "Offline mode: images are drawn locally by the built-in server, not by a model."
OFFLINE_NOTE = (
    "Drawn locally by the built-in offline server, not by a model. Its URLs are temporary: they stop "
    "working when this MCP server stops, so the images themselves are included below."
)
NOT_RESENT = (
    "Do not send this request again: it may have run and been billed. Check the account's gallery "
    "for its images first."
)


def _summary(result: ImageGenerationResult, request: dict[str, Any]) -> str:
    noun = "image" if result.requested == 1 else "images"
    details = ", ".join(f"{k.replace('_', ' ')} {request[k]}" for k in ("style_preset", "aspect_ratio"))
    lines = [f"Generated {result.returned} of {result.requested} requested {noun} ({result.model}, {details})."]
    if result.partial:
        lines.append(result.partial_note)
    if result.cost is not None:
        lines.append(f"Cost: {result.cost:g} credits.")
    for number, image in enumerate(result.images, start=1):
        lines.append(f"Image {number}: {image.url or 'inline only (the service could not store it)'}")
    if result.text:
        lines.append(f"Service text: {result.text}")
    return "\n".join(lines)


def generation_result(
    result: ImageGenerationResult,
    images: list[tuple[bytes, str]],
    request: dict[str, Any],
    *,
    offline: bool,
    key_source: str,
) -> CallToolResult:
    """What the host gets: the summary, each image (already fitted to the size limit), the full data."""
    text = _summary(result, request) + (f"\n{OFFLINE_NOTE}" if offline else "")
    content: list[ContentBlock] = [TextContent(type="text", text=text)]
    content += [
        ImageContent(type="image", data=base64.b64encode(data).decode("ascii"), mime_type=mime)
        for data, mime in images
    ]
    structured = {
        **request,
        "images": [
            {"url": image.url, "mime_type": image.mime_type, "file_size": image.file_size} for image in result.images
        ],
        "urls": result.urls,
        "requested": result.requested,
        "returned": result.returned,
        "partial": result.partial,
        "model": result.model,
        "cost": result.cost,
        "request_ids": list(result.request_ids),
        "text": result.text,
        "offline": offline,
        "billed_to": key_source,
    }
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
