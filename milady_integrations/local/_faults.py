"""Fault injection: what may go wrong on purpose, set from Python, JSON or request headers.

A :class:`Faults` object is live: the server reads it on every generate
request, so tests may change it while the server runs (from any thread).
Per-request headers (``X-Milady-Fault-*``) override it for one request only.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, cast, get_args

BodyFault = Literal["truncated", "invalid-json", "empty-object", "no-url", "zero-images"]
DropFault = Literal["before-response", "mid-body"]
ImageUrlFault = Literal["404", "hang", "not-image", "oversize", "oversize-chunked"]
StatusBody = Literal["json", "html", "empty"]
ResponseShape = Literal["standard", "success"]

BODY_FAULTS: tuple[str, ...] = get_args(BodyFault)
DROP_FAULTS: tuple[str, ...] = get_args(DropFault)
IMAGE_URL_FAULTS: tuple[str, ...] = get_args(ImageUrlFault)
STATUS_BODIES: tuple[str, ...] = get_args(StatusBody)
RESPONSE_SHAPES: tuple[str, ...] = get_args(ResponseShape)

#: 429 answers say "retry after this many seconds" unless told otherwise.
DEFAULT_RETRY_AFTER = 30

# Header names, lower case as ASGI delivers them.
H_LATENCY = "x-milady-fault-latency"
H_STATUS = "x-milady-fault-status"
H_STATUS_BODY = "x-milady-fault-status-body"
H_RETRY_AFTER = "x-milady-fault-retry-after"
H_FAIL_RATE = "x-milady-fault-fail-rate"
H_FAIL_IMAGES = "x-milady-fault-fail-images"
H_DROP = "x-milady-fault-drop"
H_BODY = "x-milady-fault-body"
H_STORAGE = "x-milady-fault-storage"
H_MIME = "x-milady-fault-mime"
H_IMAGE_URL = "x-milady-fault-image-url"
H_SHAPE = "x-milady-response-shape"


class FaultError(ValueError):
    """A fault setting that makes no sense (bad header or JSON value)."""


@dataclass(frozen=True)
class ForcedStatus:
    """One forced answer: ``status`` with the service's body for it (or a proxy's)."""

    status: int
    #: None: the service's own JSON body (an HTML proxy page for 502 and 504).
    body: StatusBody | None = None
    #: 429 only: seconds in ``Retry-After`` and ``retryAfter``; None omits both.
    retry_after: int | None = DEFAULT_RETRY_AFTER


@dataclass(frozen=True)
class RequestFaults:
    """The faults that apply to one generate request (config merged with its headers)."""

    latency: float = 0.0
    failure_rate: float = 0.0
    fail_images: int = 0
    storage_failure: bool = False
    wrong_mime: bool = False
    body: BodyFault | None = None
    drop: DropFault | None = None
    image_url: ImageUrlFault | None = None
    response_shape: ResponseShape | None = None
    forced: ForcedStatus | None = None


# Fields of Faults that are plain settings (JSON and Python both set them).
_SETTINGS = (
    "latency",
    "failure_rate",
    "fail_images",
    "storage_failure",
    "wrong_mime",
    "body",
    "drop",
    "image_url",
    "response_shape",
)


@dataclass
class Faults:
    """Faults applied to every generate request until changed; all default to none.

    ``force_status`` queues answers for the next N generate requests.
    """

    latency: float = 0.0
    failure_rate: float = 0.0
    fail_images: int = 0
    storage_failure: bool = False
    wrong_mime: bool = False
    body: BodyFault | None = None
    drop: DropFault | None = None
    image_url: ImageUrlFault | None = None
    response_shape: ResponseShape | None = None
    _forced: deque[ForcedStatus] = field(default_factory=deque, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.update(**{name: getattr(self, name) for name in _SETTINGS})

    def force_status(
        self,
        status: int,
        count: int = 1,
        *,
        body: StatusBody | None = None,
        retry_after: int | None = DEFAULT_RETRY_AFTER,
    ) -> None:
        """Answer the next ``count`` generate requests with ``status`` (nothing generated or billed)."""
        forced = _forced_status(status, body, retry_after)
        if count < 1:
            raise FaultError(f"count must be at least 1, got {count}")
        with self._lock:
            self._forced.extend([forced] * count)

    @property
    def pending_statuses(self) -> list[int]:
        with self._lock:
            return [f.status for f in self._forced]

    def update(self, **settings: Any) -> None:
        """Change some settings at once, checking each (unknown names raise FaultError)."""
        checked = {name: _check_setting(name, value) for name, value in settings.items()}
        with self._lock:
            for name, value in checked.items():
                object.__setattr__(self, name, value)

    def clear(self) -> None:
        """Back to no faults at all, including queued forced statuses."""
        with self._lock:
            for f in fields(self):
                if f.name in _SETTINGS:
                    object.__setattr__(self, f.name, f.default)
            self._forced.clear()

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            data: dict[str, Any] = {name: getattr(self, name) for name in _SETTINGS}
            data["forced_statuses"] = [
                {"status": f.status, "body": f.body, "retry_after": f.retry_after} for f in self._forced
            ]
        return data

    def apply_json(self, data: object) -> None:
        """Apply a ``POST /_local/faults`` body (see the package docstring)."""
        if not isinstance(data, dict):
            raise FaultError("the faults body must be a JSON object")
        data = dict(data)
        reset = data.pop("reset", False)
        force = data.pop("force_status", None)
        settings = {name: data.pop(name) for name in list(data) if name in _SETTINGS}
        if data:
            raise FaultError(f"unknown fault settings: {', '.join(sorted(data))}")
        forced: list[ForcedStatus] = []
        for item in [] if force is None else force if isinstance(force, list) else [force]:
            if isinstance(item, int) and not isinstance(item, bool):
                item = {"status": item}
            if not isinstance(item, dict) or "status" not in item:
                raise FaultError("force_status must be a status, or {status, count?, body?, retry_after?}")
            count = item.get("count", 1)
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise FaultError(f"force_status count must be a whole number >= 1, got {count!r}")
            forced.extend(
                [_forced_status(item["status"], item.get("body"), item.get("retry_after", DEFAULT_RETRY_AFTER))] * count
            )
        checked = {name: _check_setting(name, value) for name, value in settings.items()}
        if reset:
            self.clear()
        self.update(**checked)
        with self._lock:
            self._forced.extend(forced)

    def for_request(self, headers: Mapping[str, str]) -> RequestFaults:
        """Resolve the faults for one request; takes one queued forced status unless a header forces one."""
        with self._lock:
            base = RequestFaults(**{name: getattr(self, name) for name in _SETTINGS})
        changes = _header_settings(headers)
        header_forced = _header_forced(headers)
        if header_forced is not None:
            changes["forced"] = header_forced
        else:
            with self._lock:
                if self._forced:
                    changes["forced"] = self._forced.popleft()
        return replace(base, **changes)


def _forced_status(status: object, body: object, retry_after: object) -> ForcedStatus:
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise FaultError(f"a forced status must be an HTTP status 100..599, got {status!r}")
    if status < 400:
        raise FaultError(f"a forced status must be an error (400..599), got {status}")
    if body is not None and body not in STATUS_BODIES:
        raise FaultError(f"status body must be one of {', '.join(STATUS_BODIES)}, got {body!r}")
    if retry_after is not None and (
        not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0
    ):
        raise FaultError(f"retry_after must be whole seconds >= 0 or null, got {retry_after!r}")
    return ForcedStatus(status, cast("StatusBody | None", body), retry_after)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str | None:
    if value is None or (isinstance(value, str) and value in choices):
        return value
    raise FaultError(f"{name} must be one of {', '.join(choices)} or null, got {value!r}")


def _check_number(name: str, value: object, low: float, high: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultError(f"{name} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        raise FaultError(f"{name} must be between {low} and {high if high is not None else 'any'}, got {value}")
    return float(value)


def _check_setting(name: str, value: object) -> object:
    if name == "latency":
        return _check_number(name, value, 0.0, 600.0)
    if name == "failure_rate":
        return _check_number(name, value, 0.0, 1.0)
    if name == "fail_images":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FaultError(f"fail_images must be a whole number >= 0, got {value!r}")
        return value
    if name in ("storage_failure", "wrong_mime"):
        if not isinstance(value, bool):
            raise FaultError(f"{name} must be true or false, got {value!r}")
        return value
    if name == "body":
        return _check_choice(name, value, BODY_FAULTS)
    if name == "drop":
        return _check_choice(name, value, DROP_FAULTS)
    if name == "image_url":
        return _check_choice(name, value, IMAGE_URL_FAULTS)
    if name == "response_shape":
        return _check_choice(name, value, RESPONSE_SHAPES)
    raise FaultError(f"unknown fault setting {name!r}")


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise FaultError(f"header {name} must be a number, got {raw!r}") from None


def _header_flag(headers: Mapping[str, str], name: str, on: str) -> bool | None:
    raw = headers.get(name)
    if raw is None:
        return None
    if raw.strip().lower() not in (on, "none", "off"):
        raise FaultError(f"header {name} must be {on!r} or 'none', got {raw!r}")
    return raw.strip().lower() == on


def _header_choice(headers: Mapping[str, str], name: str, setting: str) -> tuple[bool, object]:
    raw = headers.get(name)
    if raw is None:
        return False, None
    value = raw.strip().lower()
    return True, _check_setting(setting, None if value == "none" else value)


def _header_settings(headers: Mapping[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for header, setting in ((H_LATENCY, "latency"), (H_FAIL_RATE, "failure_rate")):
        number = _header_number(headers, header)
        if number is not None:
            changes[setting] = _check_setting(setting, number)
    fail_images = _header_number(headers, H_FAIL_IMAGES)
    if fail_images is not None:
        if not fail_images.is_integer():
            raise FaultError(f"header {H_FAIL_IMAGES} must be a whole number")
        changes["fail_images"] = _check_setting("fail_images", int(fail_images))
    storage = _header_flag(headers, H_STORAGE, "fail")
    if storage is not None:
        changes["storage_failure"] = storage
    mime = _header_flag(headers, H_MIME, "wrong")
    if mime is not None:
        changes["wrong_mime"] = mime
    for header, setting in (
        (H_BODY, "body"),
        (H_DROP, "drop"),
        (H_IMAGE_URL, "image_url"),
        (H_SHAPE, "response_shape"),
    ):
        present, value = _header_choice(headers, header, setting)
        if present:
            changes[setting] = value
    return changes


def _header_forced(headers: Mapping[str, str]) -> ForcedStatus | None:
    raw = headers.get(H_STATUS)
    if raw is None:
        return None
    try:
        status = int(raw)
    except ValueError:
        raise FaultError(f"header {H_STATUS} must be an HTTP status, got {raw!r}") from None
    body = headers.get(H_STATUS_BODY)
    retry_raw = headers.get(H_RETRY_AFTER)
    retry_after: object = DEFAULT_RETRY_AFTER
    if retry_raw is not None:
        if retry_raw.strip().lower() == "none":
            retry_after = None
        else:
            try:
                retry_after = int(retry_raw)
            except ValueError:
                raise FaultError(f"header {H_RETRY_AFTER} must be whole seconds or 'none'") from None
    return _forced_status(status, body.strip().lower() if body else None, retry_after)
