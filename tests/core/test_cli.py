"""`milady generate`: files written, the offline banner, and one exit code per failure."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from milady_integrations.cli import main
from milady_integrations.local import IMAGE_SIZES, LocalServer, ServerConfig


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_generate_without_a_key_uses_the_local_server_and_says_so(tmp_path: Path) -> None:
    code, out, err = run(["generate", "a red fox", "-n", "2", "--aspect-ratio", "9:16", "-o", str(tmp_path)])
    assert code == 0, err
    paths = [Path(line) for line in out.splitlines()]
    assert len(paths) == 2 and all(p.exists() and p.suffix == ".webp" for p in paths)
    assert Image.open(paths[0]).size == IMAGE_SIZES["9:16"]
    assert "drawn locally" in err and "not by a model" in err
    # The waiting line every face shows, said once (stderr is not a terminal here).
    waiting = [line for line in err.splitlines() if line.startswith("Generating ")]
    assert len(waiting) == 1 and waiting[0].startswith("Generating 2 images with google/gemini-2.5-flash-image: 0 s")


class _ClosedAfter(io.StringIO):
    """Standard output whose reader stops after ``lines`` lines, as ``| head -n 1`` does."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.lines = lines

    def write(self, text: str) -> int:
        if self.getvalue().count("\n") >= self.lines:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_reader_that_stops_early_loses_no_image_and_sees_no_error(tmp_path: Path) -> None:
    out, err = _ClosedAfter(lines=1), io.StringIO()
    code = main(["generate", "a red fox", "-n", "3", "-o", str(tmp_path)], out=out, err=err)
    assert code == 141 and "error" not in err.getvalue()
    assert len(list(tmp_path.glob("*.webp"))) == 3  # all paid images kept, though one path was read


def test_image_to_image_from_a_file(tmp_path: Path) -> None:
    source = tmp_path / "source.png"
    Image.new("RGB", (32, 32), (10, 200, 10)).save(source)
    code, out, err = run(["generate", "greener", "--source", str(source), "-o", str(tmp_path / "out")])
    assert code == 0, err
    red, green, blue = Image.open(out.splitlines()[0]).convert("RGB").resize((1, 1), Image.BOX).getpixel((0, 0))
    assert green > red and green > blue  # the green source shows through the local picture


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["-n", "5"], "-n 5 is not allowed"),
        (["--style", "watercolor"], "--style 'watercolor' is not allowed"),
        (["--aspect-ratio", "2:1"], "--aspect-ratio '2:1'"),
        (["--model", "acme/x"], "--model 'acme/x'"),
    ],
)
def test_bad_flags_exit_2_naming_the_field(flags: list[str], words: str, tmp_path: Path) -> None:
    code, out, err = run(["generate", "a fox", *flags, "-o", str(tmp_path)])
    assert code == 2 and words in err and out == ""
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("status", "code", "words"), [(401, 3, "Authentication"), (402, 4, "credits"),
                                                       (429, 5, "Rate limited"), (500, 6, "failed"),
                                                       (503, 6, "unavailable")])
def test_failures_have_distinct_exit_codes(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, status: int, code: int, words: str
) -> None:
    monkeypatch.setenv("MILADY_API_KEY", server.api_key)
    server.faults.force_status(status, count=5, retry_after=120)
    result, _, err = run(["generate", "a fox", "--base-url", server.base_url, "-o", str(tmp_path)])
    assert result == code and words in err and "drawn locally" not in err


def test_a_base_url_without_a_key_asks_for_the_key(server: LocalServer, tmp_path: Path) -> None:
    before = server.stats.total_requests
    code, _, err = run(["generate", "a fox", "--base-url", server.base_url, "-o", str(tmp_path)])
    assert code == 3 and "MILADY_API_KEY" in err
    assert server.stats.total_requests == before


def test_the_console_script_runs(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "milady_integrations.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0 and "milady-integrations" in completed.stdout


def test_milady_serve_answers_the_contract_and_prints_how_to_use_it() -> None:
    import socket
    import time

    import httpx

    from milady_integrations import MiladyClient

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "milady_integrations.cli", "serve", "--port", str(port), "--credits", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base_url}/openapi.json", timeout=1.0)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "milady serve did not start"
                time.sleep(0.1)
        with MiladyClient(api_key="local-key", base_url=base_url) as client:
            assert client.generate_image("a fox", num_images=2).returned == 2
            from milady_integrations import InsufficientCreditsError

            with pytest.raises(InsufficientCreditsError, match=r"0\.04 required"):
                client.generate_image("a fox", num_images=2)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"MILADY_BASE_URL=http://127.0.0.1:{port}" in output and "not by a model" in output


def test_one_image_that_cannot_be_read_costs_none_of_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalServer(ServerConfig(image_store_bytes=1)) as forgetful:  # keeps only its newest image
        monkeypatch.setenv("MILADY_API_KEY", forgetful.api_key)
        code, out, err = run(["generate", "a fox", "-n", "3", "--base-url", forgetful.base_url, "-o", str(tmp_path)])
    (saved,) = [Path(line) for line in out.splitlines()]
    assert code == 8 and saved.exists() and list(tmp_path.iterdir()) == [saved]
    assert "2 images could not be read (their URLs are in the image URLs below)" in err
    assert len([line for line in err.splitlines() if line.startswith(f"  {forgetful.base_url}/images/")]) == 3


def test_milady_models_lists_status_and_prices_from_the_service(server: LocalServer) -> None:
    code, out, _ = run(["models", "--base-url", server.base_url])  # no key: those routes need none
    assert code == 0
    lines = out.splitlines()
    bfl = next(line for line in lines if line.startswith("bfl/flux-kontext-max"))
    assert "unavailable: bfl provider is currently unavailable" in bfl
    assert "[available]" in next(line for line in lines if line.startswith("google/gemini-2.5-flash-image"))
    assert lines[-1] == "one image costs 0.02 to 0.08 credits, by model"


def test_milady_models_shows_what_the_service_said_when_one_of_its_routes_is_down(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.faults.update(down="pricing", down_status=500)
    code, out, _ = run(["models", "--base-url", server.base_url])
    assert code == 0 and "unavailable: bfl provider is currently unavailable" in out and "costs" not in out
    monkeypatch.setenv("MILADY_API_KEY", server.api_key)  # with a key, each model's price is asked too
    server.faults.update(down="models", down_status=500)
    code, out, _ = run(["models", "--base-url", server.base_url])
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "one image costs 0.02 to 0.08 credits, by model"
    assert all(line.endswith("[status unknown]") for line in lines[:-1])  # nor a price: that route is down too


def test_milady_models_offline_says_the_local_server_answered() -> None:
    code, out, _ = run(["models"])
    assert code == 0 and "~0.08 credits/image (estimate)" in out and "local server answered" in out


def test_generate_finds_what_a_lost_answer_made_and_saves_it(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MILADY_API_KEY", server.api_key)
    server.faults.update(drop="before-response")  # generated and billed, then the connection breaks
    sent = server.stats.generate_requests
    code, out, err = run(["generate", "a lost lantern", "--base-url", server.base_url, "-o", str(tmp_path)])
    assert code == 0, err
    assert "found 1 image it made in your gallery (already billed)" in err
    assert server.stats.generate_requests == sent + 1 and len(out.splitlines()) == 1
