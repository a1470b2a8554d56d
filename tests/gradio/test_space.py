"""examples/space/ starts in a fresh venv from its own requirements.txt, as a Space would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gradio_client import Client

from gradio_app.demo import VISITOR_BANNER

from .conftest import free_port, wait_for_page

REPO = Path(__file__).resolve().parents[2]
SPACE = REPO / "examples" / "space"
REPOSITORY_URL = "git+https://github.com/milady-integrations/milady-integrations"


def test_the_space_readme_has_the_front_matter_a_space_needs() -> None:
    front = SPACE.joinpath("README.md").read_text().split("---")[1]
    pin = next(line for line in REPO.joinpath("pyproject.toml").read_text().splitlines() if '"gradio>=' in line)

    assert "sdk: gradio" in front
    assert "app_file: app.py" in front
    major = int(next(line for line in front.splitlines() if line.startswith("sdk_version:")).split()[1].split(".")[0])
    assert f'"gradio>={major},<{major + 1}"' in pin
    assert REPOSITORY_URL in SPACE.joinpath("requirements.txt").read_text()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_space_starts_in_a_fresh_venv_and_answers(tmp_path: Path) -> None:
    space = tmp_path / "space"
    shutil.copytree(SPACE, space)
    requirements = space / "requirements.txt"
    # The same install, from this checkout instead of the repository.
    requirements.write_text(requirements.read_text().replace(REPOSITORY_URL, REPO.as_uri()))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True, cwd=space, timeout=840
    )

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILADY_")}
    env.update(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    process = subprocess.Popen(
        [str(python), "app.py"], cwd=space, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        config = wait_for_page(process, f"{url}config")
        assert VISITOR_BANNER in config.text
        client = Client(url, analytics_enabled=False, verbose=False, download_files=str(tmp_path / "files"))
        gallery, _text = client.predict("a red fox", num_images=1, api_key="", api_name="/generate")
        assert len(gallery) == 1
    finally:
        process.kill()
        process.wait()
