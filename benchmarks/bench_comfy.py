"""(3) ComfyUI conversion: 4 WebP images of 1024x1024 -> one IMAGE tensor [4, 1024, 1024, 3].

Compared with decoding the same bytes with PIL alone, one after another. The pack's path,
as the node runs it: ``milady_integrations.images.decode_image`` per image in worker
threads (in parallel), then ``comfyui_nodes._tensors.stack_pictures`` (IMAGE and MASK). Memory: how much the process's
resident high-water mark grows while stacking, in a fresh interpreter (numpy and torch
allocations alike), against the size of the output.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from _common import median

from milady_integrations.images import decode_image
from milady_integrations.local._pictures import draw_picture, encode_webp

MiB = 1024 * 1024


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


def _stack_function() -> tuple[Any, str]:
    try:
        from comfyui_nodes._tensors import stack_pictures
    except ImportError:  # the pack is not there: do what it would do
        import numpy as np
        import torch

        def stack_pictures(pictures: list[Any]) -> Any:
            frames = [np.asarray(p.convert("RGB"), dtype=np.float32) / 255.0 for p in pictures]
            return torch.from_numpy(np.stack(frames))

        return stack_pictures, "stand-in (PIL decode + numpy + torch.from_numpy stack)"
    return stack_pictures, "comfyui_nodes._tensors.stack_pictures"


def decode_like_the_node(datas: list[bytes]) -> list[Any]:
    """As the node does: each downloaded image decoded in a worker thread, in parallel."""
    import asyncio

    async def decode_all() -> list[Any]:
        return list(await asyncio.gather(*(asyncio.to_thread(decode_image, d) for d in datas)))

    return asyncio.run(decode_all())


def _output_bytes(output: Any) -> int:
    parts = output if isinstance(output, tuple) else (output,)
    return sum(int(t.numel() * t.element_size()) for t in parts)


_PEAK_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from bench_comfy import _stack_function, webp_images
from milady_integrations.images import decode_image
stack, _ = _stack_function()
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
pictures = [decode_image(d) for d in webp_images()]
stack([p.resize((8, 8)) for p in pictures])  # load every code path on tiny pictures
with open("/proc/self/clear_refs", "w") as handle:  # resets the resident high-water mark
    handle.write("5")
before = status("VmRSS")
output = stack(pictures)
print(json.dumps({"peak_bytes": status("VmHWM") - before,
                  "output_bytes": sum(t.numel() * t.element_size() for t in output)}))
"""


def _peak_in_fresh_process() -> tuple[int, int]:
    """Growth of the resident memory's high-water mark while stacking, and the output size.

    Measured in a fresh interpreter so numpy's and torch's allocations both count
    (tracemalloc sees only numpy's) and nothing earlier in the run has warmed the heap.
    """
    import json
    import subprocess
    import sys
    from pathlib import Path

    completed = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(Path(__file__).resolve().parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    values = json.loads(completed.stdout.strip().splitlines()[-1])
    return int(values["peak_bytes"]), int(values["output_bytes"])


def _measure(datas: list[bytes], stack: Any, rounds: int) -> dict[str, float]:
    decode_times, convert_times, peaks = [], [], []
    output_bytes = 0
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        pictures = [decode_image(d) for d in datas]
        decode_times.append(time.perf_counter() - started)

        gc.collect()
        started = time.perf_counter()
        pictures = decode_like_the_node(datas)
        output = stack(pictures)
        convert_times.append(time.perf_counter() - started)
        output_bytes = _output_bytes(output)
        del output, pictures
    for _ in range(min(rounds, 3)):
        peak_bytes, output_bytes = _peak_in_fresh_process()
        peaks.append(peak_bytes)
    decode = median(decode_times)
    convert = median(convert_times)
    peak = median(peaks)
    return {
        "decode_ms": decode * 1000,
        "decode_and_stack_ms": convert * 1000,
        "time_ratio": convert / decode,
        "output_mib": output_bytes / MiB,
        "peak_mib": peak / MiB,
        "peak_over_output": peak / output_bytes,
    }


def run(quick: bool) -> dict[str, Any]:
    import torch

    datas = webp_images()
    stack, label = _stack_function()
    rounds = 3 if quick else 9
    _measure(datas, stack, 1)  # warm up imports and allocators
    result: dict[str, Any] = {
        "function": label,
        "images": len(datas),
        "webp_kib": sum(map(len, datas)) / 1024,
        "torch_threads": torch.get_num_threads(),
        "current": _measure(datas, stack, rounds),
    }
    return result


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
