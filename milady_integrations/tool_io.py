"""What an agent-tool face does with images: read a source image argument, shrink results.

Shared by the tool faces (MCP, and any other that hands images to a model): a source
image given as a web URL is downloaded by the client (capped, address-checked) before
sending; a file path is read only where the operator allows it (a server running as the
user over stdio), never for a remote caller. Result images are re-encoded smaller so a
host that cuts large tool results still receives them whole.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InvalidRequestError, MiladyError
from .images import decode_image, sniff_mime
from .schema import FIELD_DESCRIPTIONS, MODEL_INFO

if TYPE_CHECKING:
    from .client import AsyncMiladyClient

__all__ = ["fit_image", "model_choices_text", "read_source_argument", "source_kinds"]

_PASS_AS_IS = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


def source_kinds(allow_paths: bool) -> str:
    """The words for what ``source_image`` accepts, for a tool description and errors."""
    kinds = "an http(s) URL of an image (for example one returned earlier), or a data:image/...;base64 URL"
    return kinds + (", or the absolute path of an image file on this machine" if allow_paths else "")


def _refuse(value: str, allow_paths: bool, why: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"source_image {why}; it must be {source_kinds(allow_paths)}",
        field="source_image",
        value=value[:80],
        allowed=source_kinds(allow_paths),
    )


async def read_source_argument(
    client: AsyncMiladyClient, value: str | None, *, allow_paths: bool
) -> str | bytes | None:
    """A tool's ``source_image`` argument, as something the client's request builder takes."""
    if value is None or not value.strip():
        return None
    if value.startswith(("http://", "https://")):
        try:
            return await client.read_url(value)
        except MiladyError as err:
            raise InvalidRequestError(
                f"source_image could not be read from {value[:200]}: {err.message.rstrip('.')}",
                field="source_image",
                value=value[:200],
                hint="Pass an image URL that answers with an image, or leave source_image out.",
            ) from err
    if value.startswith("data:"):
        return value
    if not allow_paths:
        raise _refuse(value, allow_paths, "cannot be a file path here (the server is remote)")
    path = await asyncio.to_thread(_readable_file, value)
    if path is None:
        raise _refuse(value, allow_paths, f"names no readable file: {value[:200]!r}")
    return path


def _readable_file(value: str) -> str | None:
    path = Path(value).expanduser()
    return str(path) if path.is_absolute() and path.is_file() else None


def fit_image(data: bytes, max_base64_chars: int) -> tuple[bytes, str]:
    """The image as (bytes, MIME type) whose base64 text is at most ``max_base64_chars``.

    Small images in a common format pass unchanged; others are re-encoded as JPEG and
    shrunk step by step (aspect ratio kept) until they fit.
    """
    mime = sniff_mime(data)
    if mime in _PASS_AS_IS and _b64_len(data) <= max_base64_chars:
        return data, mime or "image/png"
    image = decode_image(data).convert("RGB")
    scale = 1.0
    for _ in range(16):
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        buffer = io.BytesIO()
        image.resize(size).save(buffer, format="JPEG", quality=82)
        if _b64_len(buffer.getvalue()) <= max_base64_chars or size == (1, 1):
            return buffer.getvalue(), "image/jpeg"
        scale *= 0.75
    return buffer.getvalue(), "image/jpeg"


def _b64_len(data: bytes) -> int:
    return 4 * ((len(data) + 2) // 3)


def model_choices_text() -> str:
    """The model argument's description for an agent: each known model and what it is for."""
    return (
        FIELD_DESCRIPTIONS["model"]
        + " Choices: "
        + "; ".join(f"{m} ({i.provider}, {i.speed.lower()}: {i.best_for})" for m, i in MODEL_INFO.items())
        + "."
    )
