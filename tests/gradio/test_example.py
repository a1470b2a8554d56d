"""The embedding example works: the host's own step runs after the block's generation."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from gradio_client import Client

from milady_integrations import AsyncMiladyClient
from milady_integrations.local import LocalServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gradio_embed.py"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gradio_embed_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_block_sits_beside_the_hosts_components(
    server: LocalServer, launch_app: Callable[..., Any], tmp_path: Path
) -> None:
    app = _load_example().build_app(AsyncMiladyClient(api_key=server.api_key, base_url=server.base_url))
    labels = [c["props"].get("label") for c in app.get_config_file()["components"]]
    assert "Project" in labels and "Board" in labels and "Prompt" in labels

    client: Client = launch_app(app).client(tmp_path)
    gallery, _ = client.predict("a cosy reading nook", num_images=2, api_name="/generate")

    assert len(gallery) == 2
