"""(3) ComfyUI conversion: 4 WebP images of 1024x1024 (bytes) -> IMAGE [4, 1024, 1024, 3] and MASK.

The pack's entry, as the node calls it: ``comfyui_nodes._tensors.decode_and_stack(datas)``,
which decodes the images on all cores straight into one batch, with torchvision's
decoders when they work and Pillow's otherwise. Both paths are measured (the
torchvision one when it loads here), each against decoding the same bytes with Pillow
alone, one after another, in the same run (ratios of medians; target <= 1.0x).
Memory: how much the process's resident high-water mark grows while decoding and
stacking, in a fresh interpreter, against the size of the output (IMAGE + MASK).
"""

from __future__ import annotations

import gc
import io
import time
from typing import Any

from _common import median

from milady_integrations.local._pictures import draw_picture, encode_webp

MiB = 1024 * 1024
TARGET_RATIO = 1.0


def webp_images(count: int = 4) -> list[bytes]:
    """Realistic pictures: what the local server draws, encoded as the service sends them."""
    return [
        encode_webp(
            draw_picture(
                enhanced=f"benchmark picture {i}",
                prompt=f"benchmark picture {i}",
                model="m",
                preset=("none", "photographic", "low-poly", "neon-punk")[i % 4],
                aspect_ratio="1:1",
                index=i,
            )
        )
        for i in range(count)
    ]


def pil_serial_decode(datas: list[bytes]) -> list[Any]:
    """The yardstick: Pillow decoding each image fully, one after another."""
    from PIL import Image

    pictures = []
    for data in datas:
        picture = Image.open(io.BytesIO(data))
        picture.load()
        pictures.append(picture)
    return pictures


def decoders() -> list[str]:
    from comfyui_nodes._tensors import torchvision_decodes

    return ["torchvision", "pil"] if torchvision_decodes() else ["pil"]


_PEAK_SCRIPT = """
import json, sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
from bench_comfy import webp_images
from comfyui_nodes._tensors import decode_and_stack
decoder = sys.argv[2]
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
datas = webp_images()
decode_and_stack(datas[:1], decoder=decoder)  # load every code path (and the decoder) first
with open("/proc/self/clear_refs", "w") as handle:  # resets the resident high-water mark
    handle.write("5")
before = status("VmRSS")
output = decode_and_stack(datas, decoder=decoder)
print(json.dumps({"peak_bytes": status("VmHWM") - before,
                  "output_bytes": sum(t.numel() * t.element_size() for t in output)}))
"""


def _peak_in_fresh_process(decoder: str) -> tuple[int, int]:
    """Growth of the resident memory's high-water mark while decoding and stacking, and the output size."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    completed = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(Path(__file__).resolve().parent), decoder],
        capture_output=True,
        text=True,
        check=True,
    )
    values = json.loads(completed.stdout.strip().splitlines()[-1])
    return int(values["peak_bytes"]), int(values["output_bytes"])


def _measure(datas: list[bytes], names: list[str], rounds: int) -> dict[str, dict[str, float]]:
    from comfyui_nodes._tensors import decode_and_stack

    baseline: list[float] = []
    times: dict[str, list[float]] = {name: [] for name in names}
    output_bytes = 0
    for _ in range(rounds):
        # Interleaved, so a busy moment on the machine weighs on every variant alike.
        gc.collect()
        started = time.perf_counter()
        pictures = pil_serial_decode(datas)
        baseline.append(time.perf_counter() - started)
        del pictures
        for name in names:
            gc.collect()
            started = time.perf_counter()
            output = decode_and_stack(datas, decoder=name)  # type: ignore[arg-type]
            times[name].append(time.perf_counter() - started)
            output_bytes = sum(int(t.numel() * t.element_size()) for t in output)
            del output
    decode = median(baseline)
    results: dict[str, dict[str, float]] = {}
    for name in names:
        peaks = [_peak_in_fresh_process(name)[0] for _ in range(min(rounds, 3))]
        took = median(times[name])
        results[name] = {
            "decode_ms": decode * 1000,
            "decode_and_stack_ms": took * 1000,
            "time_ratio": took / decode,
            "output_mib": output_bytes / MiB,
            "peak_mib": median(peaks) / MiB,
            "peak_over_output": median(peaks) / output_bytes,
        }
    return results


def run(quick: bool) -> dict[str, Any]:
    import warnings

    import torch

    warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision")
    datas = webp_images()
    names = decoders()
    rounds = 5 if quick else 15
    _measure(datas, names, 1)  # warm up imports, decoders and allocators
    paths = _measure(datas, names, rounds)
    return {
        "function": f"comfyui_nodes._tensors.decode_and_stack, {names[0]}",
        "images": len(datas),
        "webp_kib": sum(map(len, datas)) / 1024,
        "torch_threads": torch.get_num_threads(),
        "target_ratio": TARGET_RATIO,
        # What the node does by default here (torchvision when it works), for the summary.
        "current": paths[names[0]],
        "paths": paths,
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
