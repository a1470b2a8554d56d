"""Key and endpoint: environment first, then the git-ignored config file; never a widget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from milady_integrations import AuthenticationError, InsufficientCreditsError
from milady_integrations.local import LocalServer

from .conftest import combo_options


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
    from comfyui_nodes.nodes import config_paths

    repo = Path(__file__).resolve().parents[2]
    assert config_paths() == (repo / "milady_config.json", repo / "comfyui_nodes" / "milady_config.json")
    # Both are git-ignored: a key must never be committed.
    ignored = (repo / ".gitignore").read_text().split()
    assert "/milady_config.json" in ignored and "/comfyui_nodes/milady_config.json" in ignored
    example = json.loads((repo / "comfyui_nodes" / "milady_config.example.json").read_text())
    assert set(example) == {"api_key", "base_url"}


def test_the_endpoint_never_shows_the_key(pack: Any) -> None:
    from milady_integrations.config_file import Endpoint

    assert "sk-abc" not in repr(Endpoint(api_key="sk-abc", base_url=None))


# ---------------------------------------------------------------- named accounts

SECRET = "sk-studio-secret-0123456789"


def _accounts_file(path: Path, server: LocalServer, **extra: Any) -> None:
    accounts = {"studio": {"api_key": server.api_key, "base_url": server.base_url}, "client": {"api_key": SECRET}}
    path.write_text(json.dumps({"accounts": accounts, **extra}))


def test_the_account_combo_lists_names_never_keys(
    node_class: type, pack: Any, no_config_file: Path, server: LocalServer
) -> None:
    _accounts_file(no_config_file, server, api_key="sk-top-level-secret")
    for node in pack.NODE_CLASS_MAPPINGS.values():
        entry = node.INPUT_TYPES()["optional"]["account"]
        assert combo_options(entry) == ["default", "studio", "client"] and entry[1]["default"] == "default"
        shown = json.dumps(node.INPUT_TYPES(), default=str)
        assert SECRET not in shown and server.api_key not in shown and "sk-top-level-secret" not in shown


def test_a_broken_config_file_still_lets_comfyui_list_the_node(node_class: type, no_config_file: Path) -> None:
    _write(no_config_file, '{"accounts": {"x": ')
    assert combo_options(node_class.INPUT_TYPES()["optional"]["account"]) == ["default"]


async def test_a_chosen_account_wins_over_the_environment(
    run: Any, node_class: type, inputs: Any, monkeypatch: pytest.MonkeyPatch, no_config_file: Path, server: LocalServer
) -> None:
    # The local server takes any key and keeps credits per key: which key paid is visible.
    monkeypatch.setenv("MILADY_API_KEY", "sk-env-key-without-credits")
    monkeypatch.setenv("MILADY_BASE_URL", server.base_url)
    server.set_credits("sk-env-key-without-credits", 0)
    _accounts_file(no_config_file, server)
    with pytest.raises(Exception) as caught:
        await run(node_class, inputs(account="default"))  # "default" is the environment's key
    assert isinstance(caught.value.__cause__, InsufficientCreditsError)
    before = server.credits(server.api_key)
    images, _text, urls, _mask = await run(node_class, inputs(account="studio"))
    assert images.shape[0] == 1 and urls.startswith(server.base_url)
    assert server.credits(server.api_key) < before


async def test_an_unknown_account_is_named_with_the_known_ones_and_no_key(
    run: Any, node_class: type, inputs: Any, monkeypatch: pytest.MonkeyPatch, no_config_file: Path, server: LocalServer
) -> None:
    monkeypatch.setenv("MILADY_API_KEY", "sk-env-secret")
    _accounts_file(no_config_file, server)
    with pytest.raises(Exception) as caught:
        await run(node_class, inputs(account="gone"))
    text = f"{caught.value} {caught.value.__cause__.hint}"  # type: ignore[union-attr]
    assert "'gone'" in text and "studio, client" in text and str(no_config_file) in text
    assert SECRET not in text and server.api_key not in text and "sk-env-secret" not in text


async def test_a_saved_workflow_and_its_previews_hold_the_account_name_only(
    pack: Any, inputs: Any, monkeypatch: pytest.MonkeyPatch, no_config_file: Path, server: LocalServer
) -> None:
    from .conftest import run_with_ui

    monkeypatch.delenv("MILADY_API_KEY", raising=False)
    _accounts_file(no_config_file, server)
    node_class = pack.NODE_CLASS_MAPPINGS["MiladyGenerateImage"]
    values = inputs(account="studio")
    # What ComfyUI saves: the widget values (API format), also written into the previews' PNG metadata.
    workflow = {
        "7": {"class_type": "MiladyGenerateImage", "inputs": {k: v for k, v in values.items() if k != "unique_id"}}
    }
    saved = json.dumps(workflow)
    assert '"account": "studio"' in saved and server.api_key not in saved
    _outputs, ui = await run_with_ui(node_class, values, prompt=workflow)
    assert server.api_key not in json.dumps(ui)
