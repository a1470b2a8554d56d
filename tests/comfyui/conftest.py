"""Load the node pack exactly as ComfyUI does, with small stand-ins for the ComfyUI modules it touches.

ComfyUI is not on PyPI. The pack only touches ``comfy.model_management`` (the
interrupt flag), ``comfy.utils.ProgressBar`` and ``server.PromptServer``
(progress text); the stand-ins below behave like them and record what they saw.
With ``comfy_api.v0_0_2`` present (v3_stand_ins.py) the pack serves V3 nodes: the
``pack`` fixture loads it both ways, and ``run`` runs a node as ComfyUI runs either kind.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from milady_integrations.local import LocalServer
from milady_integrations.progress import RECENT

REPO = Path(__file__).resolve().parents[2]


class InterruptProcessingException(Exception):
    """Stand-in for comfy.model_management.InterruptProcessingException."""


class ComfyStandIns:
    """The ComfyUI modules the pack touches, as ComfyUI defines their behaviour."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._interrupted = False
        self.bar_updates: list[tuple[int, int, Any]] = []
        self.previews: list[Any] = []
        self.texts: list[tuple[str, Any]] = []
        self.modules = self._build()

    # comfy.model_management semantics: a flag, cleared when the exception is thrown.
    def interrupt(self, value: bool = True) -> None:
        with self._lock:
            self._interrupted = value

    def processing_interrupted(self) -> bool:
        with self._lock:
            return self._interrupted

    def throw_exception_if_processing_interrupted(self) -> None:
        with self._lock:
            if self._interrupted:
                self._interrupted = False
                raise InterruptProcessingException()

    def _build(self) -> dict[str, types.ModuleType]:
        stand_ins = self

        comfy = types.ModuleType("comfy")
        comfy.__path__ = []  # a package, so "comfy.utils" imports resolve from sys.modules
        mm = types.ModuleType("comfy.model_management")
        mm.InterruptProcessingException = InterruptProcessingException  # type: ignore[attr-defined]
        mm.interrupt_current_processing = self.interrupt  # type: ignore[attr-defined]
        mm.processing_interrupted = self.processing_interrupted  # type: ignore[attr-defined]
        mm.throw_exception_if_processing_interrupted = (  # type: ignore[attr-defined]
            self.throw_exception_if_processing_interrupted
        )

        utils = types.ModuleType("comfy.utils")

        class ProgressBar:
            def __init__(self, total: int, node_id: Any = None) -> None:
                self.total = total
                self.current = 0
                self.node_id = node_id

            def update_absolute(self, value: int, total: int | None = None, preview: Any = None) -> None:
                if total is not None:
                    self.total = total
                self.current = min(value, self.total)
                stand_ins.bar_updates.append((self.current, self.total, self.node_id))
                if preview is not None:
                    stand_ins.previews.append(preview)

            def update(self, value: int) -> None:
                self.update_absolute(self.current + value)

        utils.ProgressBar = ProgressBar  # type: ignore[attr-defined]
        comfy.model_management = mm  # type: ignore[attr-defined]
        comfy.utils = utils  # type: ignore[attr-defined]

        server = types.ModuleType("server")

        class PromptServer:
            instance: PromptServer

            def send_progress_text(self, text: str, node_id: Any, sid: Any = None) -> None:
                stand_ins.texts.append((text, node_id))

        PromptServer.instance = PromptServer()
        server.PromptServer = PromptServer  # type: ignore[attr-defined]
        return {"comfy": comfy, "comfy.model_management": mm, "comfy.utils": utils, "server": server}

    @property
    def text_lines(self) -> list[str]:
        return [text for text, _ in self.texts]

    @classmethod
    def installed(cls, monkeypatch: pytest.MonkeyPatch) -> ComfyStandIns:
        """New stand-ins in sys.modules until the test ends."""
        stand_ins = cls()
        for name, module in stand_ins.modules.items():
            monkeypatch.setitem(sys.modules, name, module)
        return stand_ins


def load_pack_like_comfyui(repo: Path = REPO) -> types.ModuleType:
    """What ComfyUI's nodes.load_custom_node does for a folder in custom_nodes/."""
    module_name = str(repo).replace(".", "_x_")
    spec = importlib.util.spec_from_file_location(
        module_name, repo / "__init__.py", submodule_search_locations=[str(repo)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_in_subprocess(then: str, folder: Path = REPO, *, before: str = "") -> str:
    """Python code ``then`` run in a fresh interpreter after ``before`` and loading the pack at ``folder``
    as ComfyUI does (``module`` is the pack); what it printed."""
    code = f"""
import importlib.util, json, sys
from pathlib import Path
{before}
path = {str(folder)!r}
name = path.replace(".", "_x_")
spec = importlib.util.spec_from_file_location(name, path + "/__init__.py", submodule_search_locations=[path])
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
spec.loader.exec_module(module)
{then}
"""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/").stdout


def v3_stand_ins() -> types.ModuleType:
    """v3_stand_ins.py beside this file (tests/ is not a package)."""
    name = "_milady_v3_stand_ins"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("v3_stand_ins.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _pack_modules() -> dict[str, types.ModuleType]:
    return {n: m for n, m in sys.modules.items() if n == "comfyui_nodes" or n.startswith("comfyui_nodes.")}


@pytest.fixture(scope="module", params=["classic", "v3"])
def pack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.ModuleType]:
    """The pack's root module, loaded as ComfyUI loads it: without the V3 schema, then with it.

    Per test module, and the modules it replaced are put back after: other test folders
    import ``comfyui_nodes`` as a plain package and must get the classic nodes.
    """
    saved = _pack_modules()
    for name in saved:
        del sys.modules[name]
    added: dict[str, types.ModuleType] = {}
    if request.param == "v3":
        added = v3_stand_ins().v3_modules(tmp_path_factory.mktemp("comfyui_temp"))
        sys.modules.update(added)
    try:
        module = load_pack_like_comfyui()
    finally:
        for name in added:
            sys.modules.pop(name, None)
    assert module.NODE_CLASS_MAPPINGS["MiladyGenerateImage"].__module__.endswith(
        "_v3" if request.param == "v3" else "nodes"
    )
    yield module
    sys.modules.pop(module.__name__, None)
    for name in _pack_modules():
        del sys.modules[name]
    sys.modules.update(saved)


@pytest.fixture(autouse=True)
def _no_recent_runs() -> None:
    """Each test starts with no remembered durations (so no "~N s left" unless the test made runs)."""
    RECENT.clear()


def is_v3(node_class: type) -> bool:
    return hasattr(node_class, "PREPARE_CLASS_CLONE")


async def run_with_ui(
    node_class: type, inputs: dict[str, Any], *, prompt: Any = None, extra_pnginfo: Any = None
) -> tuple[tuple[Any, ...], dict[str, Any] | None]:
    """Run a node as ComfyUI's executor does (classic: an instance's FUNCTION; V3: a class clone with
    its hidden inputs); its outputs and what it shows on the node."""
    inputs = dict(inputs)
    unique_id = inputs.pop("unique_id", None)
    if is_v3(node_class):
        hidden = {"UNIQUE_ID": unique_id, "PROMPT": prompt, "EXTRA_PNGINFO": extra_pnginfo}
        clone: Any = node_class.PREPARE_CLASS_CLONE(hidden)  # type: ignore[attr-defined]
        out = await getattr(clone, clone.FUNCTION)(**inputs)
        return tuple(out.args), (None if out.ui is None else out.ui.as_dict())
    node = node_class()
    return tuple(await getattr(node, node_class.FUNCTION)(**inputs, unique_id=unique_id)), None  # type: ignore[attr-defined]


async def run_node(node_class: type, inputs: dict[str, Any]) -> tuple[Any, ...]:
    outputs, _ui = await run_with_ui(node_class, inputs)
    return outputs


def combo_options(entry: tuple[Any, dict[str, Any]]) -> list[Any] | None:
    """A combo's choices: the classic API's list, or a V3 combo's ("COMBO", {"options": [...]}); None otherwise."""
    kind, config = entry
    if isinstance(kind, list):
        return kind
    return list(config["options"]) if kind == "COMBO" else None


def validate(node_class: type, **values: Any) -> Any:
    """ComfyUI's pre-run check: VALIDATE_INPUTS (classic) or validate_inputs (V3)."""
    check = node_class.validate_inputs if is_v3(node_class) else node_class.VALIDATE_INPUTS  # type: ignore[attr-defined]
    return check(**values)


@pytest.fixture
def run() -> Any:
    return run_node


@pytest.fixture(autouse=True)
def comfy(monkeypatch: pytest.MonkeyPatch) -> ComfyStandIns:
    """Fresh ComfyUI stand-ins in sys.modules for each test."""
    return ComfyStandIns.installed(monkeypatch)


@pytest.fixture
def node_class(pack: types.ModuleType) -> type:
    return pack.NODE_CLASS_MAPPINGS["MiladyGenerateImage"]  # type: ignore[no-any-return]


@pytest.fixture
def no_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pack: types.ModuleType) -> Path:
    """Name a config file in an empty folder (a developer's real file must not count), as a user can."""
    path = tmp_path / "milady_config.json"
    monkeypatch.setenv("MILADY_CONFIG", str(path))
    return path


@pytest.fixture
def milady_env(monkeypatch: pytest.MonkeyPatch, server: LocalServer, no_config_file: Path) -> LocalServer:
    """The node pointed at the local server through the environment, as a user would."""
    monkeypatch.setenv("MILADY_API_KEY", server.api_key)
    monkeypatch.setenv("MILADY_BASE_URL", server.base_url)
    return server


@pytest.fixture
def no_retries(no_config_file: Path) -> None:
    """Retried statuses answer on the first try, so each test sees the status itself, and a failure that may
    have run is looked for in the gallery only briefly (both config file settings)."""
    no_config_file.write_text('{"max_retries": 0, "recover_for": 1}')


def default_inputs(**changes: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "prompt": "a lighthouse at dusk",
        "model": "google/gemini-2.5-flash-image",
        "aspect_ratio": "1:1",
        "style_preset": "none",
        "num_images": 1,
        "seed": 0,
        "unique_id": "7",
    }
    inputs.update(changes)
    return inputs


@pytest.fixture
def inputs() -> Any:
    return default_inputs
