"""examples/agent.py offline: the agent calls the tool; the URLs of its in-process server are temporary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ._proc import clean_env

REPO = Path(__file__).resolve().parents[2]


def _agent(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "agent.py"), "a fox", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_offline_agent_calls_the_tool_and_says_its_urls_end_with_it() -> None:
    out = _agent("--style", "origami")
    assert "images are drawn locally" in out
    assert "[model] calls generate_image({'prompt': 'a fox', 'style_preset': 'origami'" in out
    assert "[tool:success] Generated 1 of 1 requested image" in out
    assert "[artifact] http://127.0.0.1:" in out
    assert "[model] Here you are." in out
    assert "[note] These URLs were served by the built-in local server, which stopped" in out
    assert "Pass --save DIR to keep the images." in out


def test_save_keeps_the_images(tmp_path: Path) -> None:
    out = _agent("--save", str(tmp_path / "kept"))
    saved = sorted((tmp_path / "kept").iterdir())
    assert [p.name for p in saved] == ["agent-image-1.webp"]
    assert f"[saved] {saved[0]}" in out and f"The images are saved in {tmp_path / 'kept'}." in out
