"""``milady_config.json``: the key, service URL and client options, for places with no environment.

ComfyUI artists cannot always set environment variables, and a key must never sit in
a node widget (widgets are saved into shared workflows and PNG metadata). So the key
may come from this file; the environment wins over it. ``MILADY_CONFIG`` names the
file explicitly; otherwise the caller's candidate paths are tried in order. The file
is read on every call, so edits need no restart.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, ClientOptions
from .errors import AuthenticationError, MiladyError

__all__ = ["CONFIG_ENV", "CONFIG_FILE_NAME", "Endpoint", "config_candidates", "resolve_endpoint"]

CONFIG_FILE_NAME = "milady_config.json"
CONFIG_ENV = "MILADY_CONFIG"
_EXAMPLE = f'{{"api_key": "...", "base_url": "{DEFAULT_BASE_URL}"}}'
_TEXT_KEYS = ("api_key", "base_url")
#: Client options a file may set (numbers only: what an artist would tune).
_OPTION_KEYS = ("timeout", "download_timeout", "max_retries", "max_retry_wait", "max_download_bytes", "recover_for")


@dataclass(frozen=True)
class Endpoint:
    """Key, base URL and client options for one call; the key never appears in a repr."""

    api_key: str = field(repr=False)
    base_url: str | None
    options: ClientOptions = field(default_factory=lambda: ClientOptions())


def config_candidates(defaults: Sequence[Path]) -> tuple[Path, ...]:
    """The files looked at, first found wins: ``MILADY_CONFIG`` alone when set, else ``defaults``."""
    named = os.environ.get(CONFIG_ENV, "").strip()
    return (Path(named),) if named else tuple(defaults)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        # Never the content: a broken file may still hold a key.
        raise MiladyError(
            f"The config file {path} could not be read: {type(exc).__name__}", hint=f"It must be JSON like {_EXAMPLE}."
        ) from None
    if not isinstance(data, dict):
        raise MiladyError(f"The config file {path} must hold a JSON object", hint=f"For example {_EXAMPLE}.")
    values: dict[str, Any] = {}
    for name in _TEXT_KEYS:
        value = data.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise MiladyError(f'"{name}" in the config file {path} must be a string')
        values[name] = value.strip()
    for name in _OPTION_KEYS:
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MiladyError(f'"{name}" in the config file {path} must be a number')
        values[name] = value
    return values


def _is_placeholder(key: str) -> bool:
    # Real keys are one word; the example's "your Milady Cloud API key", "..." or "<key>" are not keys.
    return any(c.isspace() for c in key) or key.strip(".") == "" or key.startswith(("<", "your"))


def resolve_endpoint(defaults: Sequence[Path]) -> Endpoint:
    """MILADY_API_KEY / MILADY_BASE_URL, else the first config file; an error naming both places if no key."""
    paths = config_candidates(defaults)
    found = next((_read(path) for path in paths if path.is_file()), {})
    key = (os.environ.get(API_KEY_ENV) or "").strip() or found.get("api_key")
    base_url = (os.environ.get(BASE_URL_ENV) or "").strip() or found.get("base_url")
    if key and not (os.environ.get(API_KEY_ENV) or "").strip() and _is_placeholder(key):
        where = next(str(path) for path in paths if path.is_file())
        raise AuthenticationError(
            f'The "api_key" in the config file {where} is still the example\'s placeholder text, not a key',
            hint="Replace it with your Milady Cloud key (nothing was sent).",
        )
    if not key:
        places = " or ".join(str(p) for p in paths)
        raise AuthenticationError(
            f"No Milady API key: set the {API_KEY_ENV} environment variable, "
            f'or put "api_key" in the config file {places}',
            hint=f'To work offline, run: milady serve, and set {BASE_URL_ENV} (or "base_url") and the key it prints.',
        )
    options = ClientOptions(**{name: found[name] for name in _OPTION_KEYS if name in found})  # type: ignore[typeddict-item]
    return Endpoint(api_key=key, base_url=base_url or None, options=options)
