"""What the model reads (short text, never base64) and what the application keeps (the artifact)."""

from __future__ import annotations

from typing import Any

from milady_integrations.images import decode_data_url
from milady_integrations.schema import ImageGenerationResult


def inline_label(index: int) -> str:
    return f"inline image {index} (not a URL)"


def result_text(result: ImageGenerationResult, *, style_preset: str, aspect_ratio: str) -> str:
    """A few lines for the model: how many images of how many, where they are, the service's text."""
    noun = "image" if result.requested == 1 else "images"
    head = f"Generated {result.returned} of {result.requested} requested {noun}"
    details = [d for d in (result.model, f"style {style_preset}", f"aspect ratio {aspect_ratio}") if d]
    lines = [f"{head} ({', '.join(details)})."]
    if result.partial:
        lines.append("The others failed; only returned images are billed.")
    for number, image in enumerate(result.images, start=1):
        where = image.url or (
            f"{inline_label(number)}: the service could not store it; the application holds its bytes"
        )
        lines.append(f"Image {number}: {where}")
    if result.text:
        lines.append(f"Service text: {result.text}")
    return "\n".join(lines)


def result_artifact(
    result: ImageGenerationResult, *, prompt: str, style_preset: str, aspect_ratio: str
) -> dict[str, Any]:
    """Everything about the result, as plain data (safe for checkpointers and JSON)."""
    return {
        "images": [
            {
                "url": image.url,
                "data_url": image.data_url,
                "mime_type": image.mime_type,
                "file_size": image.file_size,
                "text": image.text,
            }
            for image in result.images
        ],
        "urls": result.urls,
        "requested": result.requested,
        "returned": result.returned,
        "partial": result.partial,
        "model": result.model,
        "cost": result.cost,
        "request_ids": list(result.request_ids),
        "text": result.text,
        "prompt": prompt,
        "style_preset": style_preset,
        "aspect_ratio": aspect_ratio,
    }


def image_blocks(result: ImageGenerationResult, text: str) -> list[dict[str, Any]]:
    """Standard content blocks for vision models: the text, then one image block per image."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for image in result.images:
        block: dict[str, Any] = {"type": "image"}
        if image.url:
            block["url"] = image.url
            if image.mime_type:
                block["mime_type"] = image.mime_type
        elif image.data_url:
            mime, _ = decode_data_url(image.data_url)
            block["base64"] = image.data_url.partition(",")[2]
            block["mime_type"] = mime
        blocks.append(block)
    return blocks
