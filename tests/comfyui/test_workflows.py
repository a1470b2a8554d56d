"""The example workflows open in ComfyUI and run: node keys exist, inputs are valid, copies agree."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import torch

from milady_integrations.local import LocalServer

from .conftest import combo_options, run_node, validate

EXAMPLES = Path(__file__).resolve().parents[2] / "example_workflows"
NAMES = ["milady_text_to_image", "milady_image_to_image", "milady_batch_of_4", "milady_gallery"]

#: ComfyUI's built-in nodes the examples use: inputs, output types (pinned from ComfyUI's nodes.py).
CORE_NODES: dict[str, tuple[set[str], tuple[str, ...]]] = {
    "LoadImage": ({"image"}, ("IMAGE", "MASK")),
    "SaveImage": ({"images", "filename_prefix"}, ()),
    "PreviewImage": ({"images"}, ()),
}
CORE_INPUT_TYPES = {"SaveImage": {"images": "IMAGE"}, "PreviewImage": {"images": "IMAGE"}}


def _api(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / "api" / f"{name}.json").read_text())  # type: ignore[no-any-return]


def _ui(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def test_every_example_has_a_ui_and_an_api_copy() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.json")) == sorted(NAMES)
    assert sorted(p.stem for p in (EXAMPLES / "api").glob("*.json")) == sorted(NAMES)


def _output_types(class_type: str, pack: Any) -> tuple[str, ...]:
    if class_type in pack.NODE_CLASS_MAPPINGS:
        return tuple(pack.NODE_CLASS_MAPPINGS[class_type].RETURN_TYPES)
    return CORE_NODES[class_type][1]


@pytest.mark.parametrize("name", NAMES)
def test_api_workflows_use_existing_nodes_and_valid_inputs(name: str, pack: Any) -> None:
    workflow = _api(name)
    for node_id, node in workflow.items():
        class_type, inputs = node["class_type"], node["inputs"]
        assert class_type in pack.NODE_CLASS_MAPPINGS or class_type in CORE_NODES, class_type
        for value in inputs.values():
            if isinstance(value, list):  # a link: [node id, output index]
                source = workflow[value[0]]
                assert value[1] < len(_output_types(source["class_type"], pack))
        if class_type in CORE_NODES:
            assert set(inputs) == CORE_NODES[class_type][0]
            for input_name, kind in CORE_INPUT_TYPES.get(class_type, {}).items():
                link = inputs[input_name]
                assert _output_types(workflow[link[0]]["class_type"], pack)[link[1]] == kind
            continue
        node_class = pack.NODE_CLASS_MAPPINGS[class_type]
        declared = node_class.INPUT_TYPES()
        assert set(declared["required"]) <= set(inputs) <= set(declared["required"]) | set(declared["optional"])
        for input_name, entry in declared["required"].items():
            choices = combo_options(entry)
            if choices is not None:
                assert inputs[input_name] in choices, (node_id, input_name)
            if entry[0] == "INT":
                assert entry[1]["min"] <= inputs[input_name] <= entry[1]["max"], (node_id, input_name)
        if "prompt" in inputs:
            assert validate(node_class, prompt=inputs["prompt"]) is True
        if "source_image" in inputs:
            link = inputs["source_image"]
            assert _output_types(workflow[link[0]]["class_type"], pack)[link[1]] == "IMAGE"
    text = json.dumps(workflow).lower()
    assert "api_key" not in text and "milady_api_key" not in text


@pytest.mark.parametrize("name", NAMES)
def test_ui_workflows_match_their_api_copies(name: str, pack: Any) -> None:
    ui, api = _ui(name), _api(name)
    assert ui["version"] == 0.4 and len(ui["nodes"]) == len(api)
    for node in ui["nodes"]:
        twin = api[str(node["id"])]
        assert node["type"] == twin["class_type"]
        node_class = pack.NODE_CLASS_MAPPINGS.get(node["type"])
        if node_class is not None:
            order = list(node_class.INPUT_TYPES()["required"])
            values = dict(zip(order, node["widgets_values"], strict=False))
            assert values == {k: twin["inputs"][k] for k in order}
            if "seed" in order:  # after the seed comes its control_after_generate setting
                assert node["widgets_values"][len(order)] in ("fixed", "increment", "decrement", "randomize")
            assert [o["type"] for o in node["outputs"]] == list(node_class.RETURN_TYPES)
    for link_id, from_node, from_slot, to_node, _to_slot, kind in ui["links"]:
        assert api[str(to_node)]["inputs"] and kind == "IMAGE"
        assert any(v == [str(from_node), from_slot] for v in api[str(to_node)]["inputs"].values()), link_id


@pytest.mark.parametrize("name", NAMES)
async def test_api_workflows_run_against_the_local_server(
    name: str, pack: Any, milady_env: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = _api(name)
    for node in workflow.values():
        if node["class_type"] == "MiladyGallery":
            # A key of its own (the local server takes any), so its gallery holds only this generation.
            monkeypatch.setenv("MILADY_API_KEY", f"gallery-{uuid.uuid4().hex}")
            generate = pack.NODE_CLASS_MAPPINGS["MiladyGenerateImage"]
            made, *_ = await run_node(generate, dict(_api("milady_text_to_image")["1"]["inputs"]))
            image, prompt, _url = await run_node(pack.NODE_CLASS_MAPPINGS["MiladyGallery"], dict(node["inputs"]))
            assert prompt == _api("milady_text_to_image")["1"]["inputs"]["prompt"] and torch.equal(image, made)
        if node["class_type"] != "MiladyGenerateImage":
            continue
        inputs = dict(node["inputs"])
        if "source_image" in inputs:
            inputs["source_image"] = torch.rand(1, 64, 64, 3)  # what LoadImage would hand over
        images, *_ = await run_node(pack.NODE_CLASS_MAPPINGS["MiladyGenerateImage"], inputs)
        assert images.shape[0] == inputs["num_images"]
