"""Batch generation from a JSONL file: every line checked first, then run concurrently, rate-aware, resumably."""

from ._input import LINE_FIELDS, BadLine, BatchLine, InvalidBatchError, read_batch
from ._progress import ProgressBar
from ._rate import RateGate
from ._runner import MANIFEST_NAME, BatchSummary, LineOutcome, run_batch

__all__ = ["LINE_FIELDS", "MANIFEST_NAME", "BadLine", "BatchLine", "BatchSummary", "InvalidBatchError",
           "LineOutcome", "ProgressBar", "RateGate", "read_batch", "run_batch"]
