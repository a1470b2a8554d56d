"""The pack loads as ComfyUI loads it, cheaply, with pinned keys and inputs taken from the schema."""

from __future__ import annotations

import inspect
import json
import types
from pathlib import Path
from typing import Any

from milady_integrations import InvalidRequestError, schema

from .conftest import combo_options, is_v3, load_in_subprocess, validate

REPO = Path(__file__).resolve().parents[2]


def test_node_keys_and_display_names_are_pinned(pack: types.ModuleType) -> None:
    # Saved workflows refer to the key: renaming it breaks every user's workflow.
    assert list(pack.NODE_CLASS_MAPPINGS) == ["MiladyGenerateImage", "MiladyGallery"]
    assert pack.NODE_DISPLAY_NAME_MAPPINGS == {
        "MiladyGenerateImage": "Milady Generate Image",
        "MiladyGallery": "Milady Gallery",
    }


def test_outputs_are_pinned(node_class: type) -> None:
    assert node_class.RETURN_TYPES == ("IMAGE", "STRING", "STRING", "MASK")
    assert node_class.RETURN_NAMES == ("images", "text", "urls", "mask")
    assert len(node_class.OUTPUT_TOOLTIPS) == len(node_class.RETURN_TYPES)


def test_runs_as_an_async_node_served_from_cache(node_class: type) -> None:
    # ComfyUI runs coroutine functions concurrently; without IS_CHANGED identical inputs hit its cache.
    assert inspect.iscoroutinefunction(getattr(node_class, node_class.FUNCTION))
    assert not hasattr(node_class, "IS_CHANGED")
    assert "fingerprint_inputs" not in vars(node_class)  # V3's IS_CHANGED


def test_loading_imports_nothing_heavy() -> None:
    # ComfyUI reports each pack's import time at start-up.
    out = load_in_subprocess("print(json.dumps([sorted(module.NODE_CLASS_MAPPINGS), sorted(sys.modules)]))")
    keys, loaded = json.loads(out)
    assert keys == ["MiladyGallery", "MiladyGenerateImage"]
    heavy = {"torch", "numpy", "gradio", "gradio_client", "langchain", "langchain_core", "httpx", "pydantic"}
    assert heavy.isdisjoint(loaded), sorted(heavy & set(loaded))


def test_loading_from_a_folder_with_dots_in_its_name(tmp_path: Any) -> None:
    # ComfyUI names the module after the folder path with "." replaced; absolute imports must still work.
    clone = tmp_path / "milady-integrations.v1"
    clone.symlink_to(REPO, target_is_directory=True)
    then = 'print(sorted(module.NODE_CLASS_MAPPINGS["MiladyGenerateImage"].INPUT_TYPES()["required"]))'
    assert "prompt" in load_in_subprocess(then, clone)


def test_combos_and_tooltips_come_from_the_schema(node_class: type) -> None:
    required = node_class.INPUT_TYPES()["required"]
    assert list(required) == ["prompt", "model", "aspect_ratio", "style_preset", "num_images", "seed"]
    for name, choices, default in (
        ("model", schema.MODELS, schema.DEFAULT_MODEL),
        ("aspect_ratio", (*schema.ASPECT_RATIOS, "match source"), schema.DEFAULT_ASPECT_RATIO),
        ("style_preset", schema.STYLE_PRESETS, schema.DEFAULT_STYLE_PRESET),
    ):
        options, config = combo_options(required[name]), required[name][1]
        assert options == list(choices)
        assert config["default"] == default
        assert schema.FIELD_DESCRIPTIONS[name] in config["tooltip"]
    for model, info in schema.MODEL_INFO.items():
        assert model in required["model"][1]["tooltip"] and info.best_for in required["model"][1]["tooltip"]


def test_prompt_is_multiline_and_num_images_bounded_by_the_schema(node_class: type) -> None:
    required = node_class.INPUT_TYPES()["required"]
    assert required["prompt"][0] == "STRING"
    assert required["prompt"][1]["multiline"] is True
    assert required["prompt"][1]["tooltip"] == schema.FIELD_DESCRIPTIONS["prompt"]
    kind, config = required["num_images"]
    assert kind == "INT"
    assert (config["min"], config["max"], config["default"]) == (
        schema.NUM_IMAGES_MIN,
        schema.NUM_IMAGES_MAX,
        schema.DEFAULT_NUM_IMAGES,
    )


def test_seed_only_decides_when_to_run_again(node_class: type) -> None:
    kind, config = node_class.INPUT_TYPES()["required"]["seed"]
    assert kind == "INT"
    assert config["control_after_generate"] is True
    assert "no seed" in config["tooltip"]


def test_source_image_is_an_optional_image_and_there_is_no_key_widget(node_class: type) -> None:
    types_ = node_class.INPUT_TYPES()
    assert list(types_["optional"]) == ["source_image", "account"]  # new inputs go last
    assert types_["optional"]["source_image"][0] == "IMAGE"
    assert f"{schema.SOURCE_IMAGE_MAX_CHARS:,}" in types_["optional"]["source_image"][1]["tooltip"]
    names = [*types_["required"], *types_["optional"]]
    assert not [n for n in names if "key" in n.lower() or "url" in n.lower() or "token" in n.lower()]
    assert "unique_id" in types_["hidden"]


def _core_message(prompt: Any) -> str:
    try:
        schema.check_request(prompt)
    except InvalidRequestError as err:
        return str(err)
    raise AssertionError("expected the core to refuse")


def test_validate_inputs_refuses_bad_prompts_with_the_core_message(node_class: type) -> None:
    assert validate(node_class, prompt="a fox") is True
    for bad in ("", "   \n", "x" * (schema.PROMPT_MAX_CHARS + 1)):
        message = validate(node_class, prompt=bad)
        assert message == _core_message(bad) and message.startswith("prompt")
    message = validate(node_class, prompt="x" * (schema.PROMPT_MAX_CHARS + 1))
    assert str(schema.PROMPT_MAX_CHARS) in message and str(schema.PROMPT_MAX_CHARS + 1) in message


def test_comfyui_checks_the_other_inputs_itself(node_class: type) -> None:
    # ComfyUI skips its own combo and min/max checks for inputs VALIDATE_INPUTS names,
    # and repeats VALIDATE_INPUTS' message once per named input: so only the prompt is named.
    check = node_class.validate_inputs if is_v3(node_class) else node_class.VALIDATE_INPUTS
    assert inspect.getfullargspec(check).args == ["cls", "prompt"]
    required = node_class.INPUT_TYPES()["required"]
    assert all(combo_options(required[name]) for name in ("model", "aspect_ratio", "style_preset"))
    assert {"min", "max"} <= set(required["num_images"][1])


def test_validate_inputs_leaves_a_wired_prompt_to_run_time(node_class: type) -> None:
    # ComfyUI passes None for inputs that come from another node's output.
    assert validate(node_class, prompt=None) is True


def test_loading_exposes_only_the_pack_and_its_core_to_other_packs() -> None:
    # The clone's other folders (tests, benchmarks, scripts, ...) must never shadow another pack's modules.
    then = f"""
repo = {str(REPO)!r}
names = ("comfyui_nodes", "milady_integrations", "tests", "benchmarks", "scripts", "examples", "docs")
def where(name):
    spec = importlib.util.find_spec(name)
    return [] if spec is None else [spec.origin or "", *(spec.submodule_search_locations or [])]
found = {{name: where(name) for name in names}}
print(json.dumps([found, repo in sys.path]))
"""
    found, on_path = json.loads(load_in_subprocess(then))
    assert not on_path
    assert found["comfyui_nodes"][0] == str(REPO / "comfyui_nodes" / "__init__.py")
    assert found["milady_integrations"][0] == str(REPO / "milady_integrations" / "__init__.py")
    for name in ("tests", "benchmarks", "scripts", "examples", "docs"):
        assert not [place for place in found[name] if place.startswith(str(REPO / name))], name
