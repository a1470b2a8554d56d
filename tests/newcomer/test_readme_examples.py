"""Every Python example and every shell command in the READMEs runs here, against the local server.

The blocks are read from the Markdown itself, so editing a README edits this test. A block that
cannot run here (installs, deploys, host configurations, servers that run until Ctrl-C, the test
command itself) starts with one visible line, ``# (not run by the tests: why)``; every other
block of code must run and succeed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from milady_integrations.local import LocalServer

from ._proc import clean_env, no_traceback

REPO = Path(__file__).resolve().parents[2]
#: The READMEs whose examples are tested.
DOCS = ("README.md", "comfyui_nodes/README.md", "langchain_tool/README.md", "gradio_app/README.md")
#: An app example ends by serving until Ctrl-C; here it starts, answers, and stops.
SERVE_FOREVER = "demo.launch()"
SERVE_ONCE = (
    "demo.launch(prevent_thread_lock=True)\n"
    "import urllib.request; assert urllib.request.urlopen(demo.local_url).status == 200\n"
    "demo.close()"
)
RUNNABLE = {"python", "bash"}
#: Fences that show data or output, not something to run.
DATA = {"json", "text"}
MARKER = re.compile(r"^(?:#|rem) \(not run by the tests: (?P<why>.+)\)$")
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
#: Files the README commands name, as a user would have them in the folder they work in.
PROMPTS = [{"id": "fox", "prompt": "a red fox", "style_preset": "origami", "num_images": 2}, {"prompt": "a cat"}]


#: README.md opens with exactly these two commands (CI runs the second; the first is tried by hand).
OPENING = [
    "python3 dev.py demo    # the Gradio demo at http://127.0.0.1:7860"
    " (on the built-in local server when MILADY_API_KEY is unset)",
    "python3 dev.py test    # the whole test suite",
]


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        if self.doc == "README.md" and self.code.strip().splitlines() == OPENING:
            return "the README's two opening commands: the demo serves until Ctrl-C, the other is this test run"
        first = self.code.lstrip().splitlines()[0] if self.code.strip() else ""
        found = MARKER.match(first.strip())
        return found["why"] if found else None


def read_blocks() -> list[Block]:
    blocks = []
    for doc in DOCS:
        text = (REPO / doc).read_text(encoding="utf-8")
        for found in FENCE.finditer(text):
            line = text.count("\n", 0, found.start()) + 1
            body = textwrap.dedent(found["body"])
            blocks.append(Block(doc, line, found["lang"].strip().lower(), body))
    return blocks


BLOCKS = read_blocks()
TO_RUN = [b for b in BLOCKS if b.lang in RUNNABLE and b.skip_reason is None]


def test_every_block_says_what_it_is() -> None:
    """A fence names its language; code that is not Python or bash cannot run here and says so."""
    assert BLOCKS, "no fenced blocks found: the pattern broke"
    for block in BLOCKS:
        assert block.lang, f"{block.name}: a fence without a language (use text for output)"
        if block.lang not in RUNNABLE | DATA:
            assert block.skip_reason, f"{block.name}: a {block.lang} block needs the not-run marker"


def test_the_marked_blocks_are_few_and_say_why() -> None:
    marked = [b for b in BLOCKS if b.skip_reason is not None]
    for block in marked:
        assert (block.skip_reason or "").strip(), block.name
    # The list in the closing note of the work; printed with -s.
    print("\n".join(f"{b.name}: {b.skip_reason}" for b in marked))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    Image.new("RGB", (64, 48), (40, 90, 200)).save(tmp_path / "photo.png")
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PROMPTS))
    # Commands that name the clone's own files run from the clone's folder.
    for shared in ("examples", "example_workflows"):
        (tmp_path / shared).symlink_to(REPO / shared)
    return tmp_path


@pytest.mark.parametrize("block", TO_RUN, ids=[b.name for b in TO_RUN])
def test_the_example_runs(block: Block, server: LocalServer, workdir: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = clean_env(MILADY_API_KEY=server.api_key, MILADY_BASE_URL=server.base_url)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    shell = ["bash", "-euo", "pipefail", "-c"]
    code = block.code.replace(SERVE_FOREVER, SERVE_ONCE) if block.lang == "python" else block.code
    command = [sys.executable, "-c", code] if block.lang == "python" else [*shell, code]
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, f"{block.name} failed:\n{done.stdout}\n{done.stderr}"
    assert no_traceback(done.stderr), done.stderr


def test_the_readme_opens_with_the_two_commands() -> None:
    first = read_blocks()[0]
    assert first.doc == "README.md" and first.code.strip().splitlines() == OPENING
    assert (REPO / "README.md").read_text(encoding="utf-8").split("```")[0].count("\n") <= 2  # only the title
