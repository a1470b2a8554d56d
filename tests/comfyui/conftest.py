"""Load the node pack exactly as ComfyUI does, with small stand-ins for the ComfyUI modules it touches.

ComfyUI is not on PyPI. The pack only touches ``comfy.model_management`` (the
interrupt flag), ``comfy.utils.ProgressBar`` and ``server.PromptServer``
(progress text); the stand-ins below behave like them and record what they saw.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from milady_integrations.local import LocalServer

REPO = Path(__file__).resolve().parents[2]


class InterruptProcessingException(Exception):
    """Stand-in for comfy.model_management.InterruptProcessingException."""


class ComfyStandIns:
    """The ComfyUI modules the pack touches, as ComfyUI defines their behaviour."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._interrupted = False
        self.bar_updates: list[tuple[int, int, Any]] = []
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


@pytest.fixture(scope="session")
def pack() -> Iterator[types.ModuleType]:
    """The pack's root module, loaded as ComfyUI loads it."""
    module = load_pack_like_comfyui()
    yield module
    sys.modules.pop(module.__name__, None)


@pytest.fixture(autouse=True)
def comfy(monkeypatch: pytest.MonkeyPatch) -> ComfyStandIns:
    """Fresh ComfyUI stand-ins in sys.modules for each test."""
    stand_ins = ComfyStandIns()
    for name, module in stand_ins.modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return stand_ins


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
    """Retried statuses answer on the first try, so each test sees the status itself (a config file setting)."""
    no_config_file.write_text('{"max_retries": 0}')


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
