"""Image bytes: MIME sniffing, data URLs, source-image preparation, decoding, saving.

Pure functions, no network. Pillow is imported lazily so importing the core stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .catalogue import SOURCE_IMAGE_MAX_CHARS
from .errors import ImageDownloadError, InvalidRequestError

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = [
    "check_download_url", "decode_data_url", "decode_image", "encode_data_url", "fit_image", "is_local_host",
    "sniff_mime", "to_source_data_url", "write_image",
]  # fmt: skip

# MIME type -> (its first bytes, as a pattern; the file suffix).
_KINDS = {
    "image/png": (rb"\x89PNG\r\n\x1a\n", ".png"),
    "image/jpeg": (rb"\xff\xd8\xff", ".jpg"),
    "image/webp": (rb"RIFF.{4}WEBP", ".webp"),
    "image/gif": (rb"GIF8[79]a", ".gif"),
    "image/bmp": (rb"BM", ".bmp"),
}


def sniff_mime(data: bytes) -> str | None:
    """The image type the bytes really are (labels lie; the bytes don't)."""
    return next((mime for mime, (magic, _) in _KINDS.items() if re.match(magic, data, re.DOTALL)), None)


def suffix_for(data: bytes) -> str:
    return _KINDS[mime][1] if (mime := sniff_mime(data)) else ".img"


def encode_data_url(data: bytes, mime: str | None = None) -> str:
    mime = mime or sniff_mime(data) or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def decode_data_url(url: str) -> tuple[str, bytes]:
    """``data:<mime>;base64,<data>`` -> (mime, bytes). Raises ValueError when malformed."""
    if not url.startswith("data:"):
        raise ValueError("not a data: URL")
    header, sep, payload = url[5:].partition(",")
    if not sep or not header.endswith(";base64"):
        raise ValueError("a data URL must look like data:<mime>;base64,<data>")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"its base64 is invalid ({exc})") from None
    return header[: -len(";base64")], data


def decode_image(data: bytes, *, what: str = "image") -> PILImage.Image:
    """Decode bytes into a loaded PIL image, or raise ImageDownloadError naming ``what``."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        # Pillow's text for unknown bytes names its in-memory file object, useless to a person.
        reason = "not a known image format" if isinstance(exc, UnidentifiedImageError) else exc
        raise ImageDownloadError(f"The {what} ({len(data)} bytes) does not decode as an image: {reason}") from None
    return image


def _source_error(message: str, value: object) -> InvalidRequestError:
    kinds = "a data:image/...;base64 URL, image bytes, a file path or a PIL image"
    allowed = f"{kinds} (at most {SOURCE_IMAGE_MAX_CHARS:,} characters once encoded)"
    return InvalidRequestError(f"source_image {message}", field="source_image", value=value, allowed=allowed)


def _check_image_bytes(data: bytes, label: str) -> str:
    mime = sniff_mime(data)
    if mime is None:
        raise _source_error(f"is not an image ({label}: {len(data)} bytes of unknown type)", label)
    try:
        decode_image(data)
    except ImageDownloadError:
        raise _source_error(f"does not decode as an image ({label}, {mime})", label) from None
    return mime


def _encode(image: PILImage.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    image.save(buffer, format=fmt, **({"quality": 82} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _shrink(image: PILImage.Image, fmt: str, max_base64_chars: int, scale: float, step: float, tries: int) -> bytes:
    """Re-encode ``image`` smaller step by step (aspect ratio kept) until its base64 fits; the last try if none does."""
    for _ in range(tries):
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        data = _encode(image.resize(size), fmt)
        if _b64_len(data) <= max_base64_chars or size == (1, 1):
            break
        scale *= step
    return data


def to_source_data_url(source: object, *, downscale: bool = False, max_chars: int | None = None) -> str:
    """A data URL, bytes, a file path or a PIL image as a checked source data URL (the bytes must
    decode); one over the service's limit is refused, or downscaled when ``downscale`` is true."""
    limit = SOURCE_IMAGE_MAX_CHARS if max_chars is None else max_chars
    if isinstance(source, str) and source.startswith("data:"):
        try:
            label, data = decode_data_url(source)
        except ValueError as exc:
            raise _source_error(f"is a malformed data URL: {exc}", source[:40] + "...") from None
        if not label.startswith("image/"):
            raise _source_error(f"has MIME type {label!r}, not image/*", source[:40] + "...")
        mime = _check_image_bytes(data, f"data URL labelled {label}")
        url = source if label == mime else encode_data_url(data, mime)
    elif isinstance(source, str) and source.startswith(("http://", "https://")):
        words = "is a web URL: pass the image itself (bytes, a file path, a PIL image or a data URL)"
        raise _source_error(words, source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise _source_error(f"names no readable file: {str(path)[:200]}", str(path)[:200])
        data = path.read_bytes()
        url = encode_data_url(data, _check_image_bytes(data, path.name))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        url = encode_data_url(data, _check_image_bytes(data, "bytes"))
    elif hasattr(source, "save") and hasattr(source, "getbands"):
        url = encode_data_url(_encode(source), "image/png")  # type: ignore[arg-type]
    else:
        raise _source_error(f"has unsupported type {type(source).__name__}", type(source).__name__)

    if len(url) > limit and downscale:
        image = decode_image(decode_data_url(url)[1])
        url = encode_data_url(_shrink(image, "PNG", limit - len("data:image/png;base64,"), 0.8, 0.8, 12), "image/png")
        if len(url) > limit:
            raise _source_error("is too large even after downscaling", f"{image.width}x{image.height}")
    elif len(url) > limit:
        raise _source_error(
            f"is {len(url):,} characters as a data URL: the most allowed is {limit:,} "
            "(pass downscale=True to shrink it)",
            f"{len(url):,} characters",
        )
    return url


def write_image(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write image bytes atomically (an interrupted save never leaves half a file); no suffix: the real type's."""
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(suffix_for(data))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    # "x": never another writer's file; a plain open() gives the permissions the umask allows.
    handle = open(tmp, "xb")  # noqa: SIM115 - closed below, before the rename
    try:
        with handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_ip_literal(host: str) -> bool:
    return _address(host) is not None


def is_local_host(host: str) -> bool:
    """True for loopback, private, link-local and unspecified addresses, and localhost names."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    ip = _address(name)
    return ip is not None and (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified or ip.is_reserved
    )


def check_download_url(url: str, *, allow_local: bool) -> None:
    """Refuse image URLs we must not follow: non-http(s), or a local address from a remote service."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageDownloadError(
            f"Refusing to download image URL with scheme {parts.scheme or 'none'!r}: only http(s) URLs are followed",
            hint="",
        )
    if not allow_local and is_local_host(parts.hostname):
        raise ImageDownloadError(
            f"Refusing to download an image from local address {parts.hostname!r} named by a remote service",
            hint="",
        )


_PASS_AS_IS = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


def fit_image(data: bytes, max_base64_chars: int) -> tuple[bytes, str]:
    """The image as (bytes, MIME type) whose base64 text is at most ``max_base64_chars``: small ones
    in a common format pass unchanged, others are re-encoded as JPEG and shrunk until they fit."""
    mime = sniff_mime(data)
    if mime in _PASS_AS_IS and _b64_len(data) <= max_base64_chars:
        return data, mime or "image/png"
    return _shrink(decode_image(data).convert("RGB"), "JPEG", max_base64_chars, 1.0, 0.75, 16), "image/jpeg"


def _b64_len(data: bytes) -> int:
    return 4 * ((len(data) + 2) // 3)
