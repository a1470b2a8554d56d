"""Where the node finds its key and endpoint: environment first, then a config file.

Never a widget: widget values are saved into workflow files and PNG metadata
that people share. The file is read on every run, so edits need no restart.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from milady_integrations import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, AuthenticationError, MiladyError

CONFIG_FILE_NAME = "milady_config.json"
_PACK_DIR = Path(__file__).resolve().parent


def config_paths() -> tuple[Path, ...]:
    """Config files looked at, first found wins: the clone's root, then beside the nodes."""
    clone_root = _PACK_DIR.parent
    paths = [_PACK_DIR / CONFIG_FILE_NAME]
    # Only a clone has the ComfyUI entry file beside the package (not site-packages).
    if (clone_root / "__init__.py").is_file() and (clone_root / "milady_integrations").is_dir():
        paths.insert(0, clone_root / CONFIG_FILE_NAME)
    return tuple(paths)


@dataclass(frozen=True)
class Endpoint:
    """Key and base URL for one run; the key never appears in a repr."""

    api_key: str = field(repr=False)
    base_url: str | None


def _read_config(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MiladyError(
            f"The config file {path} could not be read: {type(exc).__name__}",
            hint=f'It must be JSON like {{"api_key": "...", "base_url": "{DEFAULT_BASE_URL}"}}.',
        ) from None
    if not isinstance(data, dict):
        raise MiladyError(
            f"The config file {path} must hold a JSON object",
            hint=f'For example {{"api_key": "...", "base_url": "{DEFAULT_BASE_URL}"}}.',
        )
    values: dict[str, str] = {}
    for name in ("api_key", "base_url"):
        value = data.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise MiladyError(f'"{name}" in the config file {path} must be a string')
        values[name] = value.strip()
    return values


def load_config() -> dict[str, str]:
    """The first config file's values, or nothing when there is none."""
    for path in config_paths():
        if path.is_file():
            return _read_config(path)
    return {}


def resolve_endpoint() -> Endpoint:
    """MILADY_API_KEY / MILADY_BASE_URL, else the config file; an error naming both if neither."""
    file_values = load_config()
    key = (os.environ.get(API_KEY_ENV) or "").strip() or file_values.get("api_key")
    base_url = (os.environ.get(BASE_URL_ENV) or "").strip() or file_values.get("base_url")
    if not key:
        places = " or ".join(str(p) for p in config_paths())
        raise AuthenticationError(
            f"No Milady API key: set the {API_KEY_ENV} environment variable, "
            f'or put "api_key" in the config file {places}',
            hint=f'For offline work run `milady serve` and set {BASE_URL_ENV} (or "base_url") to it.',
        )
    return Endpoint(api_key=key, base_url=base_url or None)
