"""The installed `milady` command, in its own process: one line per failure, a documented exit code,
nothing sent when something that would fail after spending can be seen before."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from milady_integrations.local import LocalServer, ServerConfig

from ._proc import clean_env, interrupt, milady, no_traceback, start, wait_for


@pytest.fixture
def own_server() -> Iterator[LocalServer]:
    """A server whose counters only this test moves."""
    with LocalServer(ServerConfig(rate_limit=1_000_000)) as running:
        yield running


def _env(server: LocalServer) -> dict[str, str]:
    return clean_env(MILADY_API_KEY=server.api_key, MILADY_BASE_URL=server.base_url)


def test_every_bad_argument_is_reported_at_once_in_the_flags_typed(own_server: LocalServer) -> None:
    done = milady("generate", "", "--style", "foo", "-n", "7", "--aspect-ratio", "5:5", env=_env(own_server))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "error: 4 problems, nothing was sent:", done.stderr
    text = done.stderr
    for words in ("prompt", "--style 'foo'", "-n 7", "--aspect-ratio '5:5'"):
        assert words in text, (words, text)
    for python_words in ("style_preset=", "num_images=", "aspect_ratio=", "allow_unlisted_model"):
        assert python_words not in text
    assert no_traceback(text)
    assert own_server.stats.generate_requests == 0


def test_an_existing_file_as_output_exits_2_before_anything_is_sent(own_server: LocalServer, tmp_path: Path) -> None:
    existing = tmp_path / "existing_file"
    existing.write_text("keep me")
    done = milady("generate", "x", "-o", str(existing), env=_env(own_server))
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "is not a folder" in done.stderr, done.stderr
    assert own_server.stats.generate_requests == 0
    assert own_server.stats.images_billed == 0
    assert existing.read_text() == "keep me"


def test_an_image_file_name_as_output_is_refused_before_sending(own_server: LocalServer, tmp_path: Path) -> None:
    done = milady("generate", "x", "-o", str(tmp_path / "fox.png"), env=_env(own_server))
    assert done.returncode == 2 and "-o takes a folder" in done.stderr
    assert not (tmp_path / "fox.png").exists()
    assert own_server.stats.generate_requests == 0


def test_a_local_server_url_without_a_key_says_which_key_it_takes(own_server: LocalServer, tmp_path: Path) -> None:
    done = milady("generate", "a fox", "-o", str(tmp_path), env=clean_env(MILADY_BASE_URL=own_server.base_url))
    assert done.returncode == 3
    line = done.stderr.strip()
    assert "\n" not in line and no_traceback(line)
    assert line.startswith("error: No API key: set the MILADY_API_KEY environment variable")
    # Not circular (it does not send the user back to what they did), no Python argument, no Markdown.
    assert "key it printed" in line and "accepts any key" in line
    assert "api_key=" not in line and "`" not in line
    assert own_server.stats.generate_requests == 0


def test_a_base_url_ending_in_api_v1_works(own_server: LocalServer, tmp_path: Path) -> None:
    url = f"{own_server.base_url}/api/v1/"
    done = milady("generate", "a fox", "-o", str(tmp_path), "--base-url", url, env=_env(own_server))
    assert done.returncode == 0, done.stderr
    assert len(list(tmp_path.glob("a-fox-*.webp"))) == 1
    assert own_server.stats.images_billed == 1


def test_a_404_says_the_url_looks_wrong(own_server: LocalServer, tmp_path: Path) -> None:
    url = f"{own_server.base_url}/not-the-service"
    done = milady("generate", "a fox", "-o", str(tmp_path), "--base-url", url, env=_env(own_server))
    assert done.returncode == 1
    assert "HTTP 404" in done.stderr and "The service URL looks wrong" in done.stderr, done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("error:")] == done.stderr.splitlines()[-1:]
    assert no_traceback(done.stderr)


def test_ctrl_c_after_sending_says_the_request_may_still_be_billed(own_server: LocalServer, tmp_path: Path) -> None:
    own_server.faults.update(latency=60)
    process = start("generate", "a fox", "-o", str(tmp_path), env=_env(own_server))
    wait_for(lambda: own_server.stats.generate_requests == 1, "the request reached the server")
    code, out, err = interrupt(process)
    assert code == 130
    assert "already been sent, so it may still be generated and billed" in err, err
    assert no_traceback(err) and out == ""


def test_demo_on_a_busy_port_is_one_line_and_exit_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = milady("demo", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use): choose another port with --port"
    ), done.stderr


def test_help_gives_the_defaults_of_host_and_port() -> None:
    done = milady("demo", "--help")
    assert done.returncode == 0
    assert "(default: 127.0.0.1" in done.stdout and "(default: 7860)" in done.stdout


def test_a_count_that_is_not_a_number_says_so_once(own_server: LocalServer) -> None:
    done = milady("generate", "a fox", "-n", "many", env=_env(own_server))
    assert done.returncode == 2
    assert done.stderr == "error: -n 'many' is not allowed: it must be a whole number from 1 to 4\n"
    assert own_server.stats.generate_requests == 0


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where even root cannot make a folder")
def test_an_output_folder_that_cannot_be_made_exits_2_before_sending(own_server: LocalServer) -> None:
    done = milady("generate", "x", "-o", "/proc/milady-out", env=_env(own_server))
    assert done.returncode == 2, done.stderr
    assert done.stderr == "error: -o '/proc/milady-out' cannot be written to (No such file or directory)\n"
    assert own_server.stats.generate_requests == 0


def test_batch_into_an_existing_file_exits_2_before_sending(own_server: LocalServer, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "a fox"}\n')
    existing = tmp_path / "existing_file"
    existing.write_text("keep me")
    done = milady("batch", str(prompts), "-o", str(existing), env=_env(own_server))
    assert done.returncode == 2, done.stderr
    assert "is not a folder" in done.stderr and no_traceback(done.stderr)
    assert own_server.stats.generate_requests == 0 and existing.read_text() == "keep me"


def test_a_prompt_in_japanese_names_the_files_in_japanese(own_server: LocalServer, tmp_path: Path) -> None:
    done = milady("generate", "東京の夜景", "-o", str(tmp_path), env=_env(own_server))
    assert done.returncode == 0, done.stderr
    assert [p.name.split("-")[0] for p in tmp_path.glob("*.webp")] == ["東京の夜景"]
