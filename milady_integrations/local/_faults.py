"""Faults injected on purpose: ONE declaration per fault (its type, bounds and, last in ``Annotated``,
its header ``X-Milady-Fault-<name>``), checked by pydantic alike from Python, JSON and headers.

``Faults`` is live: the server reads it on every generate request (``down``: on every account
request), from any thread. Headers override it for one request; ``none`` switches a fault off.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, ValidationError

BodyFault = Literal["truncated", "invalid-json", "empty-object", "no-url", "zero-images"]
DropFault = Literal["before-response", "mid-body"]
ImageUrlFault = Literal["404", "hang", "not-image", "truncated", "oversize", "oversize-chunked"]
StatusBody = Literal["json", "html", "empty"]
ResponseShape = Literal["standard", "success"]
#: The account's routes besides generate (named as ``ServerStats.requests`` counts them).
AccountRoute = Literal["balance", "gallery", "models", "pricing"]
_TRUE = ("fail", "wrong")  # header words for "on" beside pydantic's own (true, 1, yes, on)


class FaultError(ValueError):
    """A fault setting that makes no sense (bad Python value, JSON value or header)."""


@contextlib.contextmanager
def _explained() -> Iterator[None]:
    """pydantic's complaints as one FaultError naming each setting."""
    try:
        yield
    except ValidationError as exc:
        raise FaultError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None


@functools.cache
def _lax(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """A field's type without its bounds, lax: it reads a header's text as a number or a yes/no."""
    return TypeAdapter(cast(Any, model.model_fields[name].annotation))


class _Setting(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", validate_assignment=True)

    def __init__(self, **settings: Any) -> None:
        with _explained():
            super().__init__(**settings)

    @classmethod
    def header(cls, name: str) -> str:
        return "x-milady-fault-" + str(cls.model_fields[name].metadata[-1]).lower()

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> dict[str, Any]:
        """The settings a request's headers give, checked; ``none`` is null (or the default when not nullable)."""
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            if (text := headers.get(cls.header(name), "").strip()).lower() == "none":
                values[name] = None if type(None) in get_args(field.annotation) else field.default
            elif text:
                value: Any = True if field.annotation is bool and text.lower() in _TRUE else text
                with contextlib.suppress(ValidationError):  # what stays text is refused below, by name
                    value = _lax(cls, name).validate_python(value, strict=False)
                values[name] = value
        try:
            if values:  # checked together; most requests carry no fault header and need no model built
                cls(**values)
        except FaultError as exc:
            raise FaultError(f"X-Milady-Fault-* header: {exc}") from None
        return values


class ForcedStatus(_Setting):
    """One forced answer. ``ran``: the images are generated, stored, billed and put in the
    gallery first (a catch-all 500 that keeps the charge, a proxy 502/504 whose origin finished)."""

    model_config = ConfigDict(frozen=True)
    status: Annotated[int, Field(ge=400, le=599), "Status"]
    #: None: the service's JSON body (a proxy's HTML page for 502 and 504).
    body: Annotated[StatusBody | None, "Status-Body"] = None
    #: 429 only: seconds in Retry-After and retryAfter; None omits both.
    retry_after: Annotated[int | None, "Retry-After"] = 30
    #: The body's ``error`` text instead of the service's usual one for this status.
    message: Annotated[str | None, "Status-Message"] = None
    ran: Annotated[bool, "Status-Ran"] = False


class Faults(_Setting):
    """Faults for every generate request (``down``: for an account route) until changed; all off by
    default. ``force_status`` queues answers for the next N generate requests."""

    latency: Annotated[float, Field(ge=0, le=600), "Latency"] = 0.0  # seconds, after billing, before answering
    failure_rate: Annotated[float, Field(ge=0, le=1), "Fail-Rate"] = 0.0  # chance each image fails
    fail_images: Annotated[int, Field(ge=0), "Fail-Images"] = 0  # the first N images of each request fail
    storage_failure: Annotated[bool, "Storage"] = False  # data URLs instead of stored images
    wrong_mime: Annotated[bool, "Mime"] = False  # labelled image/png, bytes are WebP
    body: Annotated[BodyFault | None, "Body"] = None  # a broken 200
    drop: Annotated[DropFault | None, "Drop"] = None  # break the connection after billing
    image_url: Annotated[ImageUrlFault | None, "Image-Url"] = None  # the image URLs misbehave
    response_shape: Annotated[ResponseShape | None, "Response-Shape"] = None  # None: the config's
    text: Annotated[str | None, "Text"] = None  # the model's text per image; None: the config's
    down: Annotated[AccountRoute | None, "Down"] = None  # this route answers ``down_status`` instead
    down_status: Annotated[int, Field(ge=400, le=599), "Down-Status"] = 503
    _forced: deque[ForcedStatus] = PrivateAttr(default_factory=deque)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __setattr__(self, name: str, value: Any) -> None:
        with _explained():
            super().__setattr__(name, value)

    def update(self, **settings: Any) -> None:
        """Change some settings at once, checking each first (unknown names raise FaultError)."""
        checked = Faults(**{**self.model_dump(), **settings})
        with self._lock:
            self.__dict__.update({name: getattr(checked, name) for name in settings})

    def force_status(self, status: int, count: int = 1, **options: Any) -> None:
        """Answer the next ``count`` generate requests with ``status`` (see ForcedStatus)."""
        self._queue(_forced(status, count, **options))

    def _queue(self, forced: list[ForcedStatus]) -> None:
        with self._lock:
            self._forced.extend(forced)

    @property
    def pending_statuses(self) -> list[int]:
        with self._lock:
            return [f.status for f in self._forced]

    def clear(self) -> None:
        """No faults at all, queued statuses included."""
        self.update(**Faults().model_dump())
        with self._lock:
            self._forced.clear()

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {**self.model_dump(), "forced_statuses": [f.model_dump() for f in self._forced]}

    def apply_json(self, data: object) -> None:
        """A ``POST /_local/faults`` body: settings, ``force_status`` (a status, an object or a list
        of them, each with ``count``) and ``reset: true``; nothing changes when any part is wrong."""
        if not isinstance(data, dict):
            raise FaultError("the faults body must be a JSON object")
        settings = {k: v for k, v in data.items() if k not in ("reset", "force_status")}
        Faults(**settings)  # checked before anything changes
        force = data.get("force_status", [])
        queued = [f for item in (force if isinstance(force, list) else [force])
                  for f in (_forced(**item) if isinstance(item, dict) else _forced(item))]
        if data.get("reset"):
            self.clear()
        self.update(**settings)
        self._queue(queued)

    def with_headers(self, headers: Mapping[str, str]) -> Faults:
        """This request's faults: its headers over the settings."""
        own = Faults.from_headers(headers)
        with self._lock:
            return self.model_copy(update=own)

    def for_request(self, headers: Mapping[str, str]) -> tuple[Faults, ForcedStatus | None]:
        """A generate request's faults (headers over settings) and its forced answer, if any."""
        resolved, forced = self.with_headers(headers), None
        if ForcedStatus.header("status") in headers:
            forced = ForcedStatus(**ForcedStatus.from_headers(headers))
        with self._lock:
            if forced is None and self._forced:
                forced = self._forced.popleft()
        return resolved, forced


def _forced(status: Any = None, count: object = 1, **options: Any) -> list[ForcedStatus]:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FaultError(f"force_status count must be a whole number >= 1, got {count!r}")
    return [ForcedStatus(status=status, **options)] * count
