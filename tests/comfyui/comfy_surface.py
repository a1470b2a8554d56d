"""The V3 names the pack uses, read from a ComfyUI source tree (by parsing, never importing it).

``python tests/comfyui/comfy_surface.py <ComfyUI folder>`` prints them as JSON; the
committed ``comfy_v3_surface.json`` is that output for the ComfyUI version it names,
and the stand-ins in conftest.py accept exactly these names. With ``--check`` it
instead exits 1 when a committed name is missing from that ComfyUI (run it against
each new ComfyUI release; CI has no ComfyUI checkout).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from typing import Any

#: Nested V3 types whose Input/Output constructors the pack calls.
IO_TYPES = ("Combo", "Int", "String", "Image", "Mask")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _top_names(module: ast.Module) -> list[str]:
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return sorted(names)


def _classes(body: list[ast.stmt]) -> dict[str, ast.ClassDef]:
    return {node.name: node for node in body if isinstance(node, ast.ClassDef)}


def _params(cls: ast.ClassDef | None, fallback: list[str]) -> list[str]:
    for node in cls.body if cls is not None else []:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            args = node.args
            return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.arg != "self"]
    return fallback


def _methods(cls: ast.ClassDef) -> list[str]:
    return sorted(n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


def extract(root: Path) -> dict[str, Any]:
    io_tree = _tree(root / "comfy_api/latest/_io.py")
    io_classes = _classes(io_tree.body)
    base_input = _params(io_classes["Input"], [])
    base_output = _params(io_classes["Output"], [])
    surface: dict[str, Any] = {}
    version = re.search(r'__version__ = "([^"]+)"', (root / "comfyui_version.py").read_text())
    surface["comfyui_version"] = version.group(1) if version else "unknown"
    surface["comfy_api.v0_0_2"] = _top_names(_tree(root / "comfy_api/v0_0_2/__init__.py"))
    surface["io"] = _top_names(io_tree)
    schema = io_classes["Schema"]
    surface["io.Schema"] = [
        n.target.id for n in schema.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    ]
    surface["io.Hidden"] = [
        t.id
        for n in io_classes["Hidden"].body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    ]
    surface["io.NodeOutput"] = _params(io_classes["NodeOutput"], [])
    surface["io.ComfyNode"] = _methods(io_classes["ComfyNode"])
    for name in IO_TYPES:
        nested = _classes(io_classes[name].body)
        surface[f"io.{name}.Input"] = _params(nested.get("Input"), base_input)
        surface[f"io.{name}.Output"] = _params(nested.get("Output"), base_output)
    ui_tree = _tree(root / "comfy_api/latest/_ui.py")
    surface["ui"] = _top_names(ui_tree)
    surface["ui.PreviewImage"] = _params(_classes(ui_tree.body)["PreviewImage"], [])
    latest = _classes(_tree(root / "comfy_api/latest/__init__.py").body)
    surface["ComfyExtension"] = _methods(latest["ComfyExtension"])
    return surface


def used_part(surface: dict[str, Any]) -> dict[str, Any]:
    """Of the modules' names, only those the pack uses (``comfyui_nodes.V3_NAMES``); constructors and fields whole."""
    from comfyui_nodes import V3_NAMES

    modules = {"": "comfy_api.v0_0_2", "io": "io", "ui": "ui"}
    kept = dict(surface)
    for holder, names in V3_NAMES.items():
        kept[modules[holder]] = sorted(set(names) & set(surface[modules[holder]]))
    return kept


def missing(committed: dict[str, Any], real: dict[str, Any]) -> dict[str, list[str]]:
    """Committed names (and constructor parameters, schema fields) that ``real`` lacks."""
    gaps = {}
    for key, names in committed.items():
        if isinstance(names, list) and set(names) - set(real.get(key, [])):
            gaps[key] = sorted(set(names) - set(real.get(key, [])))
    return gaps


if __name__ == "__main__":
    found = extract(Path(sys.argv[1]))
    if "--check" in sys.argv:
        committed = json.loads(Path(__file__).with_name("comfy_v3_surface.json").read_text())
        gaps = missing(committed, found)
        print(json.dumps(gaps, indent=1) if gaps else f"all names present in ComfyUI {found['comfyui_version']}")
        sys.exit(1 if gaps else 0)
    print(json.dumps(used_part(found), indent=1))
