"""The V3 node API: chosen by features, checked against ComfyUI's real names, previews on the node."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from milady_integrations.local import LocalServer

from .conftest import is_v3, load_in_subprocess, run_with_ui, v3_stand_ins

HERE = Path(__file__).resolve().parent
SURFACE = json.loads((HERE / "comfy_v3_surface.json").read_text())


def test_the_v3_names_the_pack_uses_were_read_from_comfyui(pack: types.ModuleType) -> None:
    from comfyui_nodes import V3_MODULE, V3_NAMES

    # Pinned to a versioned module, never "latest" (its maintainers say it may change).
    assert V3_MODULE == "comfy_api.v0_0_2" and "latest" not in V3_MODULE
    modules = {"": "comfy_api.v0_0_2", "io": "io", "ui": "ui"}
    for holder, names in V3_NAMES.items():
        assert set(names) <= set(SURFACE[modules[holder]]), holder
    assert SURFACE["comfyui_version"] == "0.3.64"


def test_the_stand_ins_refuse_a_keyword_comfyui_lacks() -> None:
    io = v3_stand_ins().v3_modules(Path("/nonexistent"))["comfy_api.v0_0_2"].io
    io.Combo.Input("x", options=["a"], default="a", tooltip="t", optional=True)
    with pytest.raises(TypeError, match="search_aliases"):
        io.Combo.Input("x", options=["a"], search_aliases=["y"])


def test_v3_nodes_keep_the_classic_ids_inputs_and_outputs(pack: types.ModuleType) -> None:
    generate = pack.NODE_CLASS_MAPPINGS["MiladyGenerateImage"]
    required = generate.INPUT_TYPES()["required"]
    assert list(required) == ["prompt", "model", "aspect_ratio", "style_preset", "num_images", "seed"]
    assert required["seed"][1]["control_after_generate"] is True
    assert generate.RETURN_NAMES == ("images", "text", "urls", "mask")
    if is_v3(generate):
        # An output node: it runs, and shows its images, with nothing wired after it.
        assert generate.OUTPUT_NODE is True
        assert pack.NODE_CLASS_MAPPINGS["MiladyGallery"].OUTPUT_NODE is False
        assert generate.DESCRIPTION.startswith("Generate 1-4 images")


async def test_the_v3_extension_lists_the_registered_nodes(pack: types.ModuleType) -> None:
    if pack.NODE_CLASS_MAPPINGS["MiladyGenerateImage"].__module__ != "comfyui_nodes._v3":
        # Without the V3 schema the V3 module is never imported (it needs comfy_api to load).
        assert "comfyui_nodes._v3" not in sys.modules and sys.modules["comfyui_nodes"].NODE_API == "classic"
        return
    from comfyui_nodes import _v3

    assert sys.modules["comfyui_nodes"].NODE_API == "v3"

    extension = await _v3.comfy_entrypoint()
    assert isinstance(extension, _v3.ComfyExtension)  # ComfyUI skips an entry point that returns anything else
    nodes = await extension.get_node_list()
    assert {node.GET_SCHEMA().node_id: node for node in nodes} == dict(pack.NODE_CLASS_MAPPINGS)


async def test_the_v3_node_previews_its_images_on_itself(
    pack: types.ModuleType, inputs: Any, milady_env: LocalServer, tmp_path_factory: Any
) -> None:
    node_class = pack.NODE_CLASS_MAPPINGS["MiladyGenerateImage"]
    workflow = {"7": {"class_type": "MiladyGenerateImage", "inputs": inputs(num_images=2)}}
    outputs, ui = await run_with_ui(node_class, inputs(num_images=2), prompt=workflow)
    assert outputs[0].shape[0] == 2
    if not is_v3(node_class):
        assert ui is None  # the classic node shows its images through a Preview or Save node
        return
    assert ui is not None and ui["animated"] == (False,)
    files = ui["images"]
    assert len(files) == 2 and {f["type"] for f in files} == {"temp"}
    for entry in files:
        # The stand-ins' temp folder (one per loading of the pack): the file just written.
        found = max(
            tmp_path_factory.getbasetemp().glob(f"comfyui_temp[0-9]*/{entry['filename']}"),
            key=lambda path: path.stat().st_mtime_ns,
        )
        with Image.open(found) as picture:
            assert picture.size == (outputs[0].shape[2], outputs[0].shape[1])
            # The workflow travels in the preview's metadata, as ComfyUI writes it: never the key.
            assert "MiladyGenerateImage" in picture.info["prompt"]
            assert milady_env.api_key not in json.dumps(picture.info)


def _load_in_subprocess(stand_ins: str, drop: str = "") -> dict[str, Any]:
    before = f"""
spec = importlib.util.spec_from_file_location("stand_ins", {str(HERE / "v3_stand_ins.py")!r})
stand_ins = importlib.util.module_from_spec(spec); spec.loader.exec_module(stand_ins)
modules = {stand_ins}
if {drop!r}:
    delattr(modules["comfy_api.v0_0_2"].io, {drop!r})
sys.modules.update(modules)
"""
    then = """
node = module.NODE_CLASS_MAPPINGS["MiladyGenerateImage"]
schema = node.GET_SCHEMA() if hasattr(node, "GET_SCHEMA") else None
print(json.dumps({"module": node.__module__, "aliases": getattr(schema, "search_aliases", None)}))
"""
    return json.loads(load_in_subprocess(then, before=before))  # type: ignore[no-any-return]


def test_search_aliases_reach_a_comfyui_that_takes_them() -> None:
    newer = _load_in_subprocess('stand_ins.v3_modules(Path("/tmp"), search_aliases=True)')
    assert newer["module"] == "comfyui_nodes._v3"
    assert "text to image" in newer["aliases"] and "image to image" in newer["aliases"]
    older = _load_in_subprocess('stand_ins.v3_modules(Path("/tmp"))')
    assert older == {"module": "comfyui_nodes._v3", "aliases": None}


def test_a_comfyui_whose_versioned_api_lacks_the_v3_schema_gets_the_classic_nodes() -> None:
    # comfy_api.v0_0_2 shipped a few days before its io schema: the features decide, not the name.
    loaded = _load_in_subprocess('stand_ins.v3_modules(Path("/tmp"))', drop="ComfyNode")
    assert loaded == {"module": "comfyui_nodes.nodes", "aliases": None}
