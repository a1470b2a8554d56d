"""Key and endpoint: environment first, then the git-ignored config file; never a widget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from milady_integrations import AuthenticationError
from milady_integrations.local import LocalServer


def _write(path: Path, text: str) -> None:
    path.write_text(text)


async def test_no_key_anywhere_names_both_places(
    run: Any, node_class: type, inputs: Any, monkeypatch: pytest.MonkeyPatch, no_config_file: Path
) -> None:
    monkeypatch.delenv("MILADY_API_KEY", raising=False)
    with pytest.raises(Exception) as caught:
        await run(node_class, inputs())
    text = str(caught.value)
    assert isinstance(caught.value.__cause__, AuthenticationError)
    assert "MILADY_API_KEY" in text and str(no_config_file) in text and "milady serve" in text


async def test_the_config_file_gives_key_and_base_url(
    run: Any, node_class: type, inputs: Any, monkeypatch: pytest.MonkeyPatch, no_config_file: Path, server: LocalServer
) -> None:
    monkeypatch.delenv("MILADY_API_KEY", raising=False)
    monkeypatch.delenv("MILADY_BASE_URL", raising=False)
    _write(no_config_file, json.dumps({"api_key": server.api_key, "base_url": server.base_url}))
    before = server.stats.generate_requests
    images, _text, urls, _mask = await run(node_class, inputs())
    assert images.shape[0] == 1 and urls.startswith(server.base_url)
    assert server.stats.generate_requests == before + 1


async def test_the_environment_wins_over_the_file(
    run: Any, node_class: type, inputs: Any, milady_env: LocalServer, no_config_file: Path
) -> None:
    _write(no_config_file, json.dumps({"api_key": "from-file", "base_url": "http://127.0.0.1:9"}))
    images, *_ = await run(node_class, inputs())
    assert images.shape[0] == 1


async def test_a_broken_config_file_is_named_without_its_content(
    run: Any, node_class: type, inputs: Any, monkeypatch: pytest.MonkeyPatch, no_config_file: Path
) -> None:
    monkeypatch.delenv("MILADY_API_KEY", raising=False)
    _write(no_config_file, '{"api_key": "sk-secret-value",')
    with pytest.raises(Exception) as caught:
        await run(node_class, inputs())
    assert str(no_config_file) in str(caught.value)
    assert "sk-secret-value" not in str(caught.value)


def test_the_config_file_sits_beside_the_pack(pack: Any) -> None:
    from comfyui_nodes import _settings

    repo = Path(__file__).resolve().parents[2]
    assert _settings.config_paths() == (repo / "milady_config.json", repo / "comfyui_nodes" / "milady_config.json")
    # Both are git-ignored: a key must never be committed.
    ignored = (repo / ".gitignore").read_text().split()
    assert "/milady_config.json" in ignored and "/comfyui_nodes/milady_config.json" in ignored
    example = json.loads((repo / "comfyui_nodes" / "milady_config.example.json").read_text())
    assert set(example) == {"api_key", "base_url"}


def test_the_endpoint_never_shows_the_key(pack: Any) -> None:
    from comfyui_nodes._settings import Endpoint

    assert "sk-abc" not in repr(Endpoint(api_key="sk-abc", base_url=None))
