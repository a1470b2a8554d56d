"""(4) Import cost in a fresh interpreter, and which frameworks each import drags in.

Each figure is the median over several fresh interpreters of the time to import the
package, less the time of an interpreter that imports nothing. The node pack's cost is
measured over torch (ComfyUI has torch loaded before any pack).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from _common import median

#: Frameworks worth naming when an import pulls them in.
HEAVY = ("torch", "numpy", "PIL", "gradio", "gradio_client", "langchain_core", "langchain", "starlette",
         "uvicorn", "httpx", "pydantic", "fastapi", "pandas", "matplotlib", "comfy")
PACKAGES = ("milady_integrations", "comfyui_nodes", "langchain_tool", "gradio_app")
_PROBE = """
import sys, time
started = time.perf_counter()
{setup}
ready = time.perf_counter()
{statement}
done = time.perf_counter()
import json
print(json.dumps({{"seconds": done - ready, "setup": ready - started, "modules": sorted(sys.modules)}}))
"""


def _probe(statement: str, setup: str = "") -> dict[str, Any]:
    code = _PROBE.format(setup=setup or "pass", statement=statement or "pass")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _cost(statement: str, setup: str, runs: int) -> tuple[float, list[str]]:
    seconds, modules = [], []
    for _ in range(runs):
        probe = _probe(statement, setup)
        seconds.append(probe["seconds"])
        modules = probe["modules"]
    return median(seconds), modules


def _frameworks(modules: list[str], already: set[str]) -> list[str]:
    tops = {name.split(".")[0] for name in modules if name not in already}
    return [name for name in HEAVY if name in tops]


def run(quick: bool) -> dict[str, Any]:
    runs = 1 if quick else 7
    baseline = set(_probe("")["modules"])
    result: dict[str, Any] = {"runs": runs, "packages": {}}
    for package in PACKAGES:
        try:
            seconds, modules = _cost(f"import {package}", "", runs)
        except subprocess.CalledProcessError as exc:
            result["packages"][package] = {"error": exc.stderr.strip().splitlines()[-1]}
            continue
        result["packages"][package] = {
            "ms": seconds * 1000,
            "modules": len(set(modules) - baseline),
            "frameworks": _frameworks(modules, baseline),
        }
    torch_ms, torch_modules = _cost("import torch", "", runs)
    over, pack_modules = _cost("import comfyui_nodes", "import torch", runs)
    result["torch_ms"] = torch_ms * 1000
    result["comfyui_nodes_over_torch_ms"] = over * 1000
    result["comfyui_nodes_over_torch_frameworks"] = _frameworks(pack_modules, set(torch_modules))
    # ComfyUI also asks every node for its inputs at start-up (that loads the core).
    listed, listed_modules = _cost(
        "import comfyui_nodes; comfyui_nodes.MiladyGenerateImage.INPUT_TYPES()", "import torch", runs
    )
    result["comfyui_nodes_with_inputs_over_torch_ms"] = listed * 1000
    result["comfyui_nodes_with_inputs_frameworks"] = _frameworks(listed_modules, set(torch_modules))
    forbidden = {"gradio", "gradio_client", "langchain_core", "langchain"}
    pack = result["packages"].get("comfyui_nodes", {})
    result["comfyui_nodes_imports_forbidden"] = sorted(forbidden & set(pack.get("frameworks", [])))
    return result


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
