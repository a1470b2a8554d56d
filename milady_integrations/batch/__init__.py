"""Batch generation: many requests from a JSONL file, concurrent, rate-aware and resumable.

One request per line (a JSON object of ``LINE_FIELDS``, or just a JSON string: the prompt);
every line is checked before anything is sent. Each finished line appends one record to
``DIR/manifest.jsonl`` after its images are written, so a second run skips what is done and
an interruption loses nothing already saved. Progress goes to a callback (``ProgressBar``).
"""

from ._input import LINE_FIELDS, BadLine, BatchLine, InvalidBatchError, read_batch
from ._manifest import MANIFEST_NAME, Manifest
from ._progress import ProgressBar
from ._rate import RateGate
from ._runner import BatchSummary, LineOutcome, run_batch

__all__ = ["LINE_FIELDS", "MANIFEST_NAME", "BadLine", "BatchLine", "BatchSummary", "InvalidBatchError",
           "LineOutcome", "Manifest", "ProgressBar", "RateGate", "read_batch", "run_batch"]  # fmt: skip
