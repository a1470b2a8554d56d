"""Named accounts in milady_config.json: chosen by name in the CLI, winning over the environment, never shown."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from milady_integrations.cli import main
from milady_integrations.config_file import account_names, resolve_endpoint
from milady_integrations.local import LocalServer

SECRET = "sk-client-secret-abcdef"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LocalServer) -> Path:
    path = tmp_path / "milady_config.json"
    accounts = {"studio": {"api_key": server.api_key, "base_url": server.base_url}, "client": {"api_key": SECRET}}
    path.write_text(json.dumps({"api_key": "sk-top-level", "accounts": accounts}))
    monkeypatch.setenv("MILADY_CONFIG", str(path))
    return path


def test_names_come_in_the_file_s_order_after_the_default(config: Path) -> None:
    assert account_names([]) == ("default", "studio", "client")


def test_default_is_the_environment_s_key_else_the_file_s(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MILADY_API_KEY", raising=False)
    assert resolve_endpoint([], account="default").api_key == "sk-top-level"
    monkeypatch.setenv("MILADY_API_KEY", "sk-env")
    assert resolve_endpoint([]).api_key == "sk-env"
    # A named account wins over the environment; the key never shows in a repr.
    chosen = resolve_endpoint([], account="client")
    assert chosen.api_key == SECRET and SECRET not in repr(chosen)


def test_an_account_named_default_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "milady_config.json"
    path.write_text(json.dumps({"accounts": {"default": {"api_key": SECRET}}}))
    monkeypatch.setenv("MILADY_CONFIG", str(path))
    with pytest.raises(Exception, match="reserved") as caught:
        account_names([])
    assert SECRET not in str(caught.value)


def test_the_cli_generates_with_a_named_account(
    config: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MILADY_API_KEY", "sk-env-without-credits")
    monkeypatch.delenv("MILADY_BASE_URL", raising=False)
    before = server.credits(server.api_key)
    code, out, err = run(["generate", "a red fox", "--account", "studio", "-o", str(tmp_path / "out")])
    assert code == 0, err
    assert len(out.splitlines()) == 1 and "drawn locally" not in err
    assert server.credits(server.api_key) < before  # the account's key paid


def test_the_cli_names_an_unknown_account_without_any_key(config: Path, tmp_path: Path) -> None:
    code, _out, err = run(["generate", "a red fox", "--account", "gone", "-o", str(tmp_path)])
    assert code == 3  # a key problem
    assert "'gone'" in err and "studio, client" in err
    assert SECRET not in err and "sk-top-level" not in err
