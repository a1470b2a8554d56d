"""Faults injected on purpose: ONE declaration per fault (its type, and in ``Annotated`` its header
``X-Milady-Fault-<name>`` and bounds), parsed the same from Python, JSON and headers.

``Faults`` is live: the server reads it on every generate request, from any thread. Headers
override it for one request; a header value ``none`` switches a fault off.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
import types
from collections import deque
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

BodyFault = Literal["truncated", "invalid-json", "empty-object", "no-url", "zero-images"]
DropFault = Literal["before-response", "mid-body"]
ImageUrlFault = Literal["404", "hang", "not-image", "oversize", "oversize-chunked"]
StatusBody = Literal["json", "html", "empty"]
ResponseShape = Literal["standard", "success"]
_TRUE, _FALSE = ("true", "1", "yes", "on", "fail", "wrong"), ("false", "0", "no", "off")


class FaultError(ValueError):
    """A fault setting that makes no sense (bad Python value, JSON value or header)."""


@dataclass(frozen=True)
class H:
    """Where a fault is read from a request (``X-Milady-Fault-<header>``) and its bounds."""

    header: str
    low: float = 0
    high: float = float("inf")


@dataclass(frozen=True)
class ForcedStatus:
    """One forced answer. ``ran``: the images are generated, stored, billed and put in the
    gallery first (a catch-all 500 that keeps the charge, a proxy 502/504 whose origin finished)."""

    status: Annotated[int, H("Status", 400, 599)]
    #: None: the service's JSON body (a proxy's HTML page for 502 and 504).
    body: Annotated[StatusBody | None, H("Status-Body")] = None
    #: 429 only: seconds in Retry-After and retryAfter; None omits both.
    retry_after: Annotated[int | None, H("Retry-After")] = 30
    #: The body's ``error`` text instead of the service's usual one for this status.
    message: Annotated[str | None, H("Status-Message")] = None
    ran: Annotated[bool, H("Status-Ran")] = False

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            object.__setattr__(self, name, _check(ForcedStatus, name, value))


@dataclass
class Faults:
    """Faults for every generate request until changed; all off by default.
    ``force_status`` queues answers for the next N generate requests."""

    latency: Annotated[float, H("Latency", 0, 600)] = 0.0  # seconds, after billing, before answering
    failure_rate: Annotated[float, H("Fail-Rate", 0, 1)] = 0.0  # chance each image fails
    fail_images: Annotated[int, H("Fail-Images")] = 0  # the first N images of each request fail
    storage_failure: Annotated[bool, H("Storage")] = False  # data URLs instead of stored images
    wrong_mime: Annotated[bool, H("Mime")] = False  # labelled image/png, bytes are WebP
    body: Annotated[BodyFault | None, H("Body")] = None  # a broken 200
    drop: Annotated[DropFault | None, H("Drop")] = None  # break the connection after billing
    image_url: Annotated[ImageUrlFault | None, H("Image-Url")] = None  # the image URLs misbehave
    response_shape: Annotated[ResponseShape | None, H("Response-Shape")] = None  # None: the config's
    text: Annotated[str | None, H("Text")] = None  # the model's text per image; None: the config's
    _forced: deque[ForcedStatus] = field(default_factory=deque, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, _check(Faults, name, value) if name in _spec(Faults) else value)

    def update(self, **settings: Any) -> None:
        """Change some settings at once, checking each first (unknown names raise FaultError)."""
        checked = {name: _check(Faults, name, value) for name, value in settings.items()}
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)

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
        self.update(**_defaults(Faults))
        with self._lock:
            self._forced.clear()

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {**{name: getattr(self, name) for name in _spec(Faults)},
                    "forced_statuses": [vars(f) for f in self._forced]}

    def apply_json(self, data: object) -> None:
        """A ``POST /_local/faults`` body: settings, ``force_status`` (a status, an object or a list
        of them, each with ``count``) and ``reset: true``; nothing changes when any part is wrong."""
        if not isinstance(data, dict):
            raise FaultError("the faults body must be a JSON object")
        data = dict(data)
        reset, force = data.pop("reset", False), data.pop("force_status", [])
        checked = {name: _check(Faults, name, value) for name, value in data.items()}
        queued = [f for item in (force if isinstance(force, list) else [force])
                  for f in (_forced(**item) if isinstance(item, dict) else _forced(item))]
        if reset:
            self.clear()
        self.update(**checked)
        self._queue(queued)

    def for_request(self, headers: Mapping[str, str]) -> tuple[Faults, ForcedStatus | None]:
        """This request's faults (headers over settings) and its forced answer, if any."""
        own, forced = _from_headers(Faults, headers), None
        if _header(ForcedStatus, "status") in headers:
            forced = _forced(**_from_headers(ForcedStatus, headers))[0]
        with self._lock:
            resolved = copy.copy(self)
            if forced is None and self._forced:
                forced = self._forced.popleft()
        for name, value in own.items():
            object.__setattr__(resolved, name, value)
        return resolved, forced


# ---------------------------------------------------------------- the one parser, derived from the fields


@functools.cache
def _spec(cls: type) -> dict[str, tuple[tuple[Any, ...], bool, Any, H]]:
    """name -> (allowed literals, nullable, base type, header and bounds)."""
    out = {}
    for name, hint in get_type_hints(cls, include_extras=True).items():
        if get_origin(hint) is Annotated:
            kind, meta = get_args(hint)
            args = get_args(kind) if get_origin(kind) in (Union, types.UnionType) else (kind,)
            inner = [a for a in args if a is not type(None)]
            literals = get_args(inner[0]) if get_origin(inner[0]) is Literal else ()
            out[name] = (literals, len(inner) < len(args), None if literals else inner[0], meta)
    return out


def _defaults(cls: type) -> dict[str, Any]:
    return {f.name: None if f.default is MISSING else f.default for f in fields(cls) if f.name in _spec(cls)}


def _check(cls: type, name: str, value: object) -> Any:
    if name not in _spec(cls):
        raise FaultError(f"unknown fault setting {name!r}")
    literals, nullable, base, h = _spec(cls)[name]
    if (value is None and nullable) or value in literals:
        return value
    if literals:
        raise FaultError(f"{name} must be one of {', '.join(literals)}{' or null' if nullable else ''}, got {value!r}")
    numeric = base in (int, float) and not isinstance(value, bool) and isinstance(value, (int, float))
    numeric = numeric and (base is float or float(value).is_integer())  # type: ignore[arg-type]
    if (numeric and h.low <= value <= h.high) or (base in (bool, str) and isinstance(value, base)):  # type: ignore[operator]
        return base(value)
    bounds = f" from {h.low:g} to {h.high:g}" if base in (int, float) else ""
    raise FaultError(f"{name} must be {base.__name__}{bounds}, got {value!r}")


def _header(cls: type, name: str) -> str:
    return "x-milady-fault-" + _spec(cls)[name][3].header.lower()


def _from_headers(cls: type, headers: Mapping[str, str]) -> dict[str, Any]:
    """The settings a request's headers give (checked); ``none`` is null, or the default."""
    out = {}
    for name, (_, nullable, base, _h) in _spec(cls).items():
        if (raw := headers.get(_header(cls, name))) is None:
            continue
        text = raw.strip()
        value: object = text if base is str else text.lower()
        if text.lower() == "none":
            value = None if nullable else _defaults(cls)[name]
        elif base is bool and value in _TRUE + _FALSE:
            value = value in _TRUE
        elif base in (int, float):
            with contextlib.suppress(ValueError):
                value = base(text)
        try:
            out[name] = _check(cls, name, value)
        except FaultError as exc:
            raise FaultError(f"header {_header(cls, name)}: {exc}") from None
    return out


def _forced(status: object = None, count: object = 1, **options: Any) -> list[ForcedStatus]:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FaultError(f"force_status count must be a whole number >= 1, got {count!r}")
    try:
        return [ForcedStatus(status, **options)] * count  # type: ignore[arg-type]
    except TypeError as exc:
        raise FaultError(f"force_status: {exc}") from None
