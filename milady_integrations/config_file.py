"""``milady_config.json``: the key, service URL and client options, for places with no environment.

ComfyUI artists cannot always set environment variables, and a key must never sit in a
node widget (widgets are saved into shared workflows and PNG metadata). The environment
wins over the file; ``MILADY_CONFIG`` names it, else the caller's candidates are tried in
order; it is read on every call, so edits need no restart. Named accounts
(``"accounts": {"studio": {"api_key": ...}}``) let a face offer a NAME, never a key, and
win over the environment; ``"default"`` is the environment's key, else the file's own.
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

__all__ = [
    "CONFIG_ENV", "CONFIG_FILE_NAME", "DEFAULT_ACCOUNT", "Endpoint", "account_choices", "account_names",
    "config_candidates", "resolve_endpoint",
]  # fmt: skip

CONFIG_FILE_NAME = "milady_config.json"
CONFIG_ENV = "MILADY_CONFIG"
_EXAMPLE = f'{{"api_key": "...", "base_url": "{DEFAULT_BASE_URL}", "accounts": {{"studio": {{"api_key": "..."}}}}}}'
#: The account that means "the environment's key, else the file's top-level key".
DEFAULT_ACCOUNT = "default"
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


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        # Never the content: a broken file may still hold a key.
        raise MiladyError(
            f"The config file {path} could not be read: {type(exc).__name__}", hint=f"It must be JSON like {_EXAMPLE}."
        ) from None
    if not isinstance(data, dict):
        raise MiladyError(f"The config file {path} must hold a JSON object", hint=f"For example {_EXAMPLE}.")
    return data


def _settings(data: dict[str, Any], path: Path, where: str = "") -> dict[str, Any]:
    """Key, URL and options of one object of the file (the top level, or one account)."""
    values: dict[str, Any] = {}
    for name in _TEXT_KEYS:
        value = data.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise MiladyError(f'"{name}"{where} in the config file {path} must be a string')
        values[name] = value.strip()
    for name in _OPTION_KEYS:
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise MiladyError(f'"{name}"{where} in the config file {path} must be a number')
        if value is not None:
            values[name] = value
    return values


def _is_placeholder(key: str) -> bool:
    # Real keys are one word; the example's "your Milady Cloud API key", "..." or "<key>" are not keys.
    return any(c.isspace() for c in key) or key.strip(".") == "" or key.startswith(("<", "your"))


def _accounts(data: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    table = data.get("accounts")
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise MiladyError(f'"accounts" in the config file {path} must be an object of named accounts')
    accounts: dict[str, dict[str, Any]] = {}
    for name, entry in table.items():
        if not name.strip() or name == DEFAULT_ACCOUNT:
            raise MiladyError(f"The config file {path} has an account named {name!r}: that name is reserved")
        if not isinstance(entry, dict):
            raise MiladyError(f'Account "{name}" in the config file {path} must be an object with an "api_key"')
        accounts[name] = _settings(entry, path, f' of account "{name}"')
    return accounts


def _first_file(paths: Sequence[Path]) -> dict[str, Any]:
    path = next((path for path in paths if path.is_file()), None)
    if path is None:
        return {}
    data = _load(path)
    return {**_settings(data, path), "accounts": _accounts(data, path), "path": str(path)}


def account_names(defaults: Sequence[Path]) -> tuple[str, ...]:
    """``"default"`` then the config file's named accounts, in the file's order. Names only, never keys."""
    return (DEFAULT_ACCOUNT, *_first_file(config_candidates(defaults)).get("accounts", {}))


def account_choices(defaults: Sequence[Path]) -> list[str]:
    """The account names a person may pick from (never a key): the default alone when the config file is
    broken, so the face still shows its inputs; the run then names the broken file."""
    try:
        return list(account_names(defaults))
    except MiladyError:
        return [DEFAULT_ACCOUNT]


def resolve_endpoint(defaults: Sequence[Path], account: str | None = None) -> Endpoint:
    """The key, URL and options for ``account``; an error naming where to put a key if there is none.

    ``None`` or ``"default"``: MILADY_API_KEY / MILADY_BASE_URL, else the first config file's
    top level. A named account: its key (it wins over the environment), URL and options.
    """
    paths = config_candidates(defaults)
    places = " or ".join(str(p) for p in paths)
    found = _first_file(paths)
    env_key = (os.environ.get(API_KEY_ENV) or "").strip()
    chosen = {**found, "api_key": env_key or found.get("api_key")}
    chosen["base_url"] = (os.environ.get(BASE_URL_ENV) or "").strip() or found.get("base_url")
    if account not in (None, DEFAULT_ACCOUNT):
        accounts: dict[str, dict[str, Any]] = found.get("accounts", {})
        if account not in accounts:
            raise AuthenticationError(
                f"No account {account!r} in the config file {places} (its accounts: {', '.join(accounts) or 'none'})",
                hint=f'Add it under "accounts", for example {_EXAMPLE}, or choose "{DEFAULT_ACCOUNT}".',
            )
        if not accounts[account].get("api_key"):
            raise AuthenticationError(f'Account {account!r} in the config file has no "api_key"')
        chosen.update(accounts[account])
    key = chosen["api_key"]
    if key and key != env_key and _is_placeholder(key):
        raise AuthenticationError(
            f'The "api_key" in the config file {found["path"]} is still the example\'s placeholder text, not a key',
            hint="Replace it with your Milady Cloud key (nothing was sent).",
        )
    if not key:
        raise AuthenticationError(
            f"No Milady API key: set the {API_KEY_ENV} environment variable, "
            f'or put "api_key" in the config file {places}',
            hint=f'To work offline, run: milady serve, and set {BASE_URL_ENV} (or "base_url") and the key it prints.',
        )
    options = ClientOptions(**{name: chosen[name] for name in _OPTION_KEYS if name in chosen})  # type: ignore[typeddict-item]
    return Endpoint(api_key=key, base_url=chosen["base_url"] or None, options=options)
