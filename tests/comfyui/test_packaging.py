"""The node pack as the Comfy Registry and ComfyUI-Manager see it: metadata, the zip, static node detection.

The zip is made by ``comfy node pack`` (comfy-cli, in its own venv: .ci/run makes it and
passes its path in MILADY_NODE_ZIP). Without it the zip tests are skipped on a
developer's machine and fail in CI, where the zip must be there.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import types
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from .conftest import load_in_subprocess

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
#: What the Registry zip holds at its top level: the pack, the core it imports, what ComfyUI-Manager reads.
PACK_TOP_LEVEL = {
    "__init__.py",
    "comfyui_nodes",
    "milady_integrations",
    "example_workflows",
    "node_list.json",
    "pyproject.toml",
    "requirements.txt",
    "README.md",
    "LICENSE",
}


@pytest.fixture(scope="module")
def node_zip() -> zipfile.ZipFile:
    path = os.environ.get("MILADY_NODE_ZIP")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("MILADY_NODE_ZIP is not set: .ci/run packs the node with `comfy node pack` before the tests")
        pytest.skip("no Registry zip: run `comfy node pack` and set MILADY_NODE_ZIP to its path (CI does)")
    return zipfile.ZipFile(path)


def _pack_files(names: list[str]) -> list[str]:
    return [name for name in names if not name.endswith("/")]


def test_the_registry_zip_holds_the_pack_and_nothing_else(node_zip: zipfile.ZipFile) -> None:
    names = _pack_files(node_zip.namelist())
    assert {name.split("/")[0] for name in names} == PACK_TOP_LEVEL
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    # Every tracked file of the nodes and the core ships (the pack imports them at run time).
    tracked = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "comfyui_nodes", "milady_integrations", "example_workflows"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked and set(tracked) <= set(names), sorted(set(tracked) - set(names))


def test_the_unpacked_zip_loads_in_comfyui_on_its_own(node_zip: zipfile.ZipFile, tmp_path: Path) -> None:
    # What a Registry install does: the zip unpacked into custom_nodes/<name>, then loaded by ComfyUI.
    folder = tmp_path / "custom_nodes" / "milady-integrations"
    node_zip.extractall(folder)
    then = """
inputs = module.NODE_CLASS_MAPPINGS["MiladyGenerateImage"].INPUT_TYPES()
import comfyui_nodes, milady_integrations
print(json.dumps([sorted(inputs["required"]), comfyui_nodes.__file__, milady_integrations.__file__]))
"""
    required, nodes_file, core_file = json.loads(load_in_subprocess(then, folder))
    assert "prompt" in required
    # The unpacked copy is what runs, not the checkout the test suite was installed from.
    assert Path(nodes_file).is_relative_to(folder) and Path(core_file).is_relative_to(folder)


def test_comfy_cli_reads_the_version_the_package_has() -> None:
    # comfy-cli reads `__version__ = "..."` from [tool.comfy.version].path as text, without importing it.
    from milady_integrations import __version__

    assert "version" in PYPROJECT["project"]["dynamic"]
    text = (REPO / PYPROJECT["tool"]["comfy"]["version"]["path"]).read_text()
    assert re.search(rf'^__version__ = "{re.escape(__version__)}"$', text, re.MULTILINE)
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_the_icon_is_a_picture_in_the_repository() -> None:
    repository = PYPROJECT["project"]["urls"]["Repository"]
    owner_and_name = repository.removeprefix("https://github.com/")
    icon_url = PYPROJECT["tool"]["comfy"]["Icon"]
    prefix = f"https://raw.githubusercontent.com/{owner_and_name}/main/"
    assert icon_url.startswith(prefix), "the Icon must be a file of the repository named in [project.urls]"
    with Image.open(REPO / icon_url.removeprefix(prefix)) as icon:
        assert icon.format == "PNG" and icon.width == icon.height >= 128


def test_every_example_workflow_has_a_thumbnail() -> None:
    # ComfyUI's template browser shows example_workflows/<name>.jpg beside <name>.json.
    workflows = sorted((REPO / "example_workflows").glob("*.json"))
    assert workflows
    for workflow in workflows:
        with Image.open(workflow.with_suffix(".jpg")) as thumbnail:
            assert thumbnail.format == "JPEG" and thumbnail.width >= 256, workflow.name


def _literal_mapping_keys(source: str) -> set[str]:
    """ComfyUI-Manager's static read: string keys of a module-level ``NODE_CLASS_MAPPINGS = {...}``."""
    keys: set[str] = set()
    for statement in ast.parse(source).body:
        target = statement.target if isinstance(statement, ast.AnnAssign) else None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
        if isinstance(target, ast.Name) and target.id == "NODE_CLASS_MAPPINGS":
            value = statement.value
            if isinstance(value, ast.Dict):
                keys |= {k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return keys


def test_the_nodes_are_found_without_running_the_pack(pack: types.ModuleType) -> None:
    # The Registry and ComfyUI-Manager list a pack's nodes by reading its files, not by importing it.
    runtime = set(pack.NODE_CLASS_MAPPINGS)
    node_list = json.loads((REPO / "node_list.json").read_text())
    assert set(node_list) == runtime
    assert node_list == pack.NODE_DISPLAY_NAME_MAPPINGS
    scanned: set[str] = set()
    for path in [REPO / "__init__.py", *(REPO / "comfyui_nodes").glob("*.py")]:
        scanned |= _literal_mapping_keys(path.read_text())
    assert scanned == runtime


def test_what_comfyui_manager_installs_is_the_core_and_the_comfyui_extra() -> None:
    # ComfyUI-Manager and the Registry run `pip install -r requirements.txt`; ComfyUI brings torch and torchvision.
    lines = (REPO / "requirements.txt").read_text().splitlines()
    requirements = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    project = PYPROJECT["project"]
    # The base install also carries the local server (uvicorn, starlette) for `milady serve`; the pack never runs it.
    client = [d for d in project["dependencies"] if not re.match(r"(uvicorn|starlette)\b", d)]
    assert requirements == [*client, *project["optional-dependencies"]["comfyui"]]
    assert not [r for r in requirements if re.match(r"(torch|torchvision)\b", r)]
