"""Batch generation: many requests from a JSONL file, concurrent, rate-aware and resumable.

One request per line: ``{"prompt": ..., "model"?, "aspect_ratio"?, "style_preset"?,
"num_images"?, "source_image"? (a file path), "id"?}``, or just a JSON string (the prompt).
Every line is checked before anything is sent. Each finished line appends one record to
``DIR/manifest.jsonl`` after its images are written (atomically), so a second run skips
what is done, writes nothing twice, and an interruption loses nothing already saved.

Framework-free: the engine reports progress through a callback; ``ProgressBar`` is the
small stderr bar the ``milady batch`` command uses.
"""

from __future__ import annotations

from ._input import LINE_FIELDS, BadLine, BatchLine, InvalidBatchError, read_batch
from ._manifest import MANIFEST_NAME, Manifest
from ._progress import BatchProgress, ProgressBar
from ._rate import RateGate
from ._runner import BatchSummary, LineOutcome, run_batch

__all__ = [
    "LINE_FIELDS",
    "MANIFEST_NAME",
    "BadLine",
    "BatchLine",
    "BatchProgress",
    "BatchSummary",
    "InvalidBatchError",
    "LineOutcome",
    "Manifest",
    "ProgressBar",
    "RateGate",
    "read_batch",
    "run_batch",
]
