"""Stand-ins for the V3 node API the pack uses (``comfy_api.v0_0_2``: ``io``, ``ui``, ``ComfyExtension``).

Built from ``comfy_v3_surface.json``, the names and constructor parameters read from a
real ComfyUI's source (see comfy_surface.py): a constructor here refuses any keyword the
real one lacks, and a module offers only the names recorded. Behaviour follows ComfyUI's:
the V1 rendering of a schema that ComfyUI serves to its front end and uses to check
inputs, hidden inputs on a class clone, NodeOutput normalisation, and PreviewImage
writing PNGs (with the workflow in their metadata) into the temp folder.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import random
import string
import types
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

SURFACE: dict[str, Any] = json.loads((Path(__file__).with_name("comfy_v3_surface.json")).read_text())


def _check(kind: str, given: dict[str, Any]) -> None:
    unknown = set(given) - set(SURFACE[kind])
    if unknown:
        raise TypeError(f"{kind}() got unexpected keyword arguments {sorted(unknown)} (not in ComfyUI's)")


class _Input:
    kind = ""
    io_type = ""

    def __init__(self, id: str, **options: Any) -> None:
        _check(f"io.{self.kind}.Input", {"id": id, **options})
        self.id = id
        self.optional = bool(options.pop("optional", False))
        self.options = options

    def v1(self) -> tuple[Any, dict[str, Any]]:
        # ComfyUI drops unset values (prune_dict) and the "optional" flag from the V1 dict;
        # a V3 combo is ("COMBO", {"options": [...], ...}), not the classic list of choices.
        config = {k: v for k, v in self.options.items() if v is not None}
        if self.kind == "Combo":
            config["multiselect"] = False
        return self.io_type, config


class _Output:
    kind = ""
    io_type = ""

    def __init__(self, id: str | None = None, **options: Any) -> None:
        _check(f"io.{self.kind}.Output", {"id": id, **options})
        self.id = id
        self.display_name = options.get("display_name")
        self.tooltip = options.get("tooltip")


def _io_type(kind: str, io_type: str) -> type:
    inp = type("Input", (_Input,), {"kind": kind, "io_type": io_type})
    out = type("Output", (_Output,), {"kind": kind, "io_type": io_type})
    return type(kind, (), {"Input": inp, "Output": out, "io_type": io_type})


class _HiddenHolder:
    def __init__(self, values: dict[str, Any]) -> None:
        self.unique_id = values.get("UNIQUE_ID")
        self.prompt = values.get("PROMPT")
        self.extra_pnginfo = values.get("EXTRA_PNGINFO")


class NodeOutput:
    def __init__(self, *args: Any, ui: Any = None, expand: Any = None, block_execution: Any = None) -> None:
        self.args = args
        self.ui = ui


class _NodeMeta(type(ABC)):  # type: ignore[misc]
    """ComfyUI's classproperties: the classic attributes, read from the schema."""

    @property
    def FUNCTION(cls) -> str:
        return "EXECUTE_NORMALIZED_ASYNC" if inspect.iscoroutinefunction(cls.execute) else "EXECUTE_NORMALIZED"

    @property
    def RETURN_TYPES(cls) -> tuple[str, ...]:
        return tuple(o.io_type for o in cls.GET_SCHEMA().outputs)

    @property
    def RETURN_NAMES(cls) -> tuple[str, ...]:
        return tuple(o.display_name or o.io_type for o in cls.GET_SCHEMA().outputs)

    @property
    def OUTPUT_TOOLTIPS(cls) -> tuple[str | None, ...]:
        return tuple(o.tooltip for o in cls.GET_SCHEMA().outputs)

    @property
    def OUTPUT_NODE(cls) -> bool:
        return bool(cls.GET_SCHEMA().is_output_node)

    @property
    def DESCRIPTION(cls) -> str:
        return str(cls.GET_SCHEMA().description)

    @property
    def CATEGORY(cls) -> str:
        return str(cls.GET_SCHEMA().category)


def _build_io(schema_fields: list[str]) -> types.ModuleType:
    io = types.ModuleType("comfy_api.v0_0_2.io")
    defaults = {"category": "sd", "description": ""}
    fields: list[Any] = [("node_id", str)]
    for name in schema_fields:
        if name != "node_id":
            default = defaults.get(name, False if name.startswith(("is_", "not_", "enable_")) else None)
            fields.append((name, Any, dataclasses.field(default=default)))
    Schema = dataclasses.make_dataclass("Schema", fields)
    Hidden = enum.Enum("Hidden", {name: name.upper() for name in SURFACE["io.Hidden"]}, type=str)  # type: ignore[misc]

    class ComfyNode(metaclass=_NodeMeta):
        hidden: Any = None

        @classmethod
        @abstractmethod
        def define_schema(cls) -> Any: ...

        @classmethod
        @abstractmethod
        def execute(cls, **kwargs: Any) -> Any: ...

        @classmethod
        def validate_inputs(cls, **kwargs: Any) -> Any:
            raise NotImplementedError

        @classmethod
        def fingerprint_inputs(cls, **kwargs: Any) -> Any:
            raise NotImplementedError

        @classmethod
        def GET_SCHEMA(cls) -> Any:
            schema = cls.define_schema()
            hidden = list(schema.hidden or [])
            if schema.is_output_node:  # as ComfyUI's Schema.finalize: output nodes get the workflow
                hidden += [h for h in (Hidden.prompt, Hidden.extra_pnginfo) if h not in hidden]
            schema.hidden = hidden
            ids = [i.id for i in schema.inputs] + [o.id for o in schema.outputs]
            if len(set(ids)) != len(ids):
                raise ValueError(f"ids must be unique between inputs and outputs: {ids}")
            return schema

        @classmethod
        def INPUT_TYPES(cls) -> dict[str, Any]:
            schema = cls.GET_SCHEMA()
            found: dict[str, Any] = {"required": {}}
            for i in schema.inputs:
                found.setdefault("optional" if i.optional else "required", {})[i.id] = i.v1()
            if schema.hidden:
                found["hidden"] = {h.name: (h.value,) for h in schema.hidden}
            return found

        @classmethod
        def PREPARE_CLASS_CLONE(cls, hidden_inputs: dict[str, Any]) -> type:
            return type(cls.__name__, (cls,), {"hidden": _HiddenHolder(hidden_inputs)})

        @classmethod
        async def EXECUTE_NORMALIZED_ASYNC(cls, **kwargs: Any) -> NodeOutput:
            result = await cls.execute(**kwargs)
            return result if isinstance(result, NodeOutput) else NodeOutput(*result)

    names = {
        "Schema": Schema,
        "Hidden": Hidden,
        "NodeOutput": NodeOutput,
        "ComfyNode": ComfyNode,
        "Combo": _io_type("Combo", "COMBO"),
        "Int": _io_type("Int", "INT"),
        "String": _io_type("String", "STRING"),
        "Image": _io_type("Image", "IMAGE"),
        "Mask": _io_type("Mask", "MASK"),
    }
    for name in SURFACE["io"]:
        setattr(io, name, names[name])
    return io


def _build_ui(temp_dir: Path) -> types.ModuleType:
    ui = types.ModuleType("comfy_api.v0_0_2.ui")

    class PreviewImage:
        """As ComfyUI's: each image a PNG in the temp folder, the workflow in its metadata."""

        def __init__(self, image: Any, animated: bool = False, cls: Any = None, **kwargs: Any) -> None:
            import numpy as np
            from PIL import Image
            from PIL.PngImagePlugin import PngInfo

            prefix = "ComfyUI_temp_" + "".join(random.choice(string.ascii_lowercase) for _ in range(5))
            metadata = PngInfo()
            hidden = getattr(cls, "hidden", None)
            if hidden is not None and hidden.prompt is not None:
                metadata.add_text("prompt", json.dumps(hidden.prompt))
            if hidden is not None and hidden.extra_pnginfo:
                for key, value in hidden.extra_pnginfo.items():
                    metadata.add_text(key, json.dumps(value))
            self.values = []
            for number, frame in enumerate(image):
                name = f"{prefix}_{number:05}_.png"
                pixels = np.clip(255.0 * frame.cpu().numpy(), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(temp_dir / name, pnginfo=metadata, compress_level=1)
                self.values.append({"filename": name, "subfolder": "", "type": "temp"})
            self.animated = animated

        def as_dict(self) -> dict[str, Any]:
            return {"images": self.values, "animated": (self.animated,)}

    for name in SURFACE["ui"]:
        setattr(ui, name, {"PreviewImage": PreviewImage}[name])
    return ui


class ComfyExtension(ABC):
    async def on_load(self) -> None:
        return None

    @abstractmethod
    async def get_node_list(self) -> list[type]: ...


def v3_modules(temp_dir: Path, *, search_aliases: bool = False) -> dict[str, types.ModuleType]:
    """``comfy_api`` and ``comfy_api.v0_0_2`` as a ComfyUI with the V3 schema has them.

    ``search_aliases``: a newer ComfyUI, whose Schema also takes search aliases.
    """
    package = types.ModuleType("comfy_api")
    package.__path__ = []  # type: ignore[attr-defined]
    versioned = types.ModuleType("comfy_api.v0_0_2")
    fields = [*SURFACE["io.Schema"], *(["search_aliases"] if search_aliases else [])]
    parts = {"io": _build_io(fields), "ui": _build_ui(temp_dir), "ComfyExtension": ComfyExtension}
    for name in SURFACE["comfy_api.v0_0_2"]:
        setattr(versioned, name, parts[name])
    package.v0_0_2 = versioned  # type: ignore[attr-defined]
    return {"comfy_api": package, "comfy_api.v0_0_2": versioned}
