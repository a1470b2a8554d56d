"""Where the node's config file may sit: the clone's root, then beside the nodes.

The key itself is resolved by the core (``milady_integrations.config_file``): the
environment first, then this file; never a widget, whose values are saved into
workflow files and PNG metadata that people share (the account widget holds a name).
``MILADY_CONFIG`` names another file.
"""

from __future__ import annotations

from pathlib import Path

from milady_integrations.config_file import (
    CONFIG_FILE_NAME,
    Endpoint,
    config_candidates,
    resolve_endpoint,
)

__all__ = ["config_paths", "endpoint"]

_PACK_DIR = Path(__file__).resolve().parent


def config_paths() -> tuple[Path, ...]:
    """Config files looked at, first found wins."""
    clone_root = _PACK_DIR.parent
    paths = [_PACK_DIR / CONFIG_FILE_NAME]
    # Only a clone has the ComfyUI entry file beside the package (not site-packages).
    if (clone_root / "__init__.py").is_file() and (clone_root / "milady_integrations").is_dir():
        paths.insert(0, clone_root / CONFIG_FILE_NAME)
    return config_candidates(paths)


def endpoint(account: str | None = None) -> Endpoint:
    """Key and URL for ``account``: a name of the config file's accounts; None or "default" for the default one."""
    return resolve_endpoint(config_paths(), account=account)
