"""The core's words for a newcomer's first mistakes: a base URL copied with /api/v1, no key,
the example config's placeholder, a 404."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from milady_integrations import MiladyClient
from milady_integrations._config import ClientConfig
from milady_integrations.access import KEY_HINTS
from milady_integrations.config_file import resolve_endpoint
from milady_integrations.errors import AuthenticationError, MiladyError
from milady_integrations.local import LocalServer

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "comfyui_nodes" / "milady_config.example.json"


@pytest.mark.parametrize("suffix", ["/api/v1", "/api/v1/", "/api/v1//"])
def test_a_base_url_ending_in_api_v1_reaches_the_service(server: LocalServer, suffix: str) -> None:
    with MiladyClient(api_key=server.api_key, base_url=server.base_url + suffix) as client:
        assert client.generate_image("a fox").returned == 1
    assert ClientConfig(api_key=None, base_url="https://x.example/proxy/api/v1/").base_url == "https://x.example/proxy"


@pytest.mark.parametrize(
    ("base_url", "words"),
    [("https://cloud.milady.ai", "To work offline, run: milady serve"), ("http://127.0.0.1:8787", "key it printed")],
)
def test_no_key_says_what_to_do_in_plain_words(base_url: str, words: str) -> None:
    with pytest.raises(AuthenticationError) as caught:
        ClientConfig(api_key=None, base_url=base_url).require_key()
    text = str(caught.value)
    assert words in text
    assert "`" not in text and "api_key=" not in text
    # Not circular: it never tells someone already pointed at a local server to point at one.
    assert "point MILADY_BASE_URL at it" not in text


def test_the_key_hints_speak_to_the_person_not_to_python() -> None:
    assert all("api_key=" not in hint and "`" not in hint for hint in KEY_HINTS.values())


def test_the_example_configs_placeholder_is_not_taken_for_a_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MILADY_CONFIG", raising=False)
    copy = tmp_path / "milady_config.json"
    copy.write_text(EXAMPLE_CONFIG.read_text())
    with pytest.raises(AuthenticationError) as caught:
        resolve_endpoint([copy])
    assert "placeholder" in str(caught.value) and str(copy) in str(caught.value)
    placeholder = json.loads(EXAMPLE_CONFIG.read_text())["api_key"]
    assert placeholder not in str(caught.value)  # the file's text is never echoed
    copy.write_text(json.dumps({"api_key": "local-key", "base_url": "http://127.0.0.1:8787"}))
    assert resolve_endpoint([copy]).base_url == "http://127.0.0.1:8787"


def test_a_404_hints_at_the_url(server: LocalServer) -> None:
    with MiladyClient(api_key=server.api_key, base_url=server.base_url + "/wrong") as client, pytest.raises(
        MiladyError
    ) as caught:
        client.generate_image("a fox")
    assert caught.value.status_code == 404
    assert "The service URL looks wrong" in str(caught.value)
