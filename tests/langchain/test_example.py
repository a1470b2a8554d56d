"""examples/agent.py runs on a fresh machine: no key, no network, a scripted model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_agent_example_runs_offline() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILADY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "agent.py"), "a fox in the snow", "--style", "origami"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "images are drawn locally" in out
    assert "[model] calls generate_image({'prompt': 'a fox in the snow', 'style_preset': 'origami'" in out
    assert "[tool:success] Generated 1 of 1 requested image" in out
    assert "[artifact] http://127.0.0.1:" in out
    assert "[model] Here you are." in out
    assert "base64" not in out
