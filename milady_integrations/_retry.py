"""When a failed call is sent again, and after how long: the one place that decides.

Only what provably did nothing, or was refunded, is repeated: a 429 (within
``max_retry_wait``), the service's refunded 500 ("No images were generated"), and a
connection that never carried the request. Everything that may have run (any other
5xx, a catch-all 401, a read timeout, a connection broken after sending) and every
400/401/402/503 is raised at once: a second request could be billed a second time.
"""

from __future__ import annotations

from collections.abc import Callable

from ._config import ClientConfig
from .errors import GenerationFailedError, MiladyConnectionError, MiladyError, RateLimitError

BACKOFF_INITIAL = 0.5
BACKOFF_CAP = 8.0


def backoff_delay(attempt: int, jitter: Callable[[], float]) -> float:
    """Capped exponential backoff, up to 25% shorter at random (``jitter()`` in [0, 1))."""
    return min(BACKOFF_INITIAL * 2.0**attempt, BACKOFF_CAP) * (1 - 0.25 * jitter())


def retry_delay(error: MiladyError, attempt: int, config: ClientConfig) -> float | None:
    """Seconds to wait before sending again after ``error`` (attempt 0 is the first failure),
    or None when it must be raised."""
    if attempt >= config.max_retries:
        return None
    if isinstance(error, RateLimitError):
        if not config.retry_rate_limits:
            return None
        if error.retry_after is None:
            return backoff_delay(attempt, config.jitter)
        return error.retry_after if error.retry_after <= config.max_retry_wait else None
    if error.may_have_run:
        return None
    if isinstance(error, GenerationFailedError) and error.status_code == 500:
        return backoff_delay(attempt, config.jitter)  # the service refunded it
    if isinstance(error, MiladyConnectionError):
        return backoff_delay(attempt, config.jitter)  # the request never left
    return None


def not_retried_note(error: MiladyError, attempt: int, config: ClientConfig) -> str:
    """Why a retryable kind of failure was raised anyway ("" when it needs no words)."""
    if isinstance(error, RateLimitError) and config.retry_rate_limits and attempt < config.max_retries:
        return f" (longer than max_retry_wait={config.max_retry_wait:g} s, so not retried)"
    return ""
