"""Whose key pays for a call, and the limits on an operator's key when it serves others.

One mechanism for every face that serves callers other than its operator (the MCP server
over HTTP, a Gradio page, a multi-tenant agent): the caller's own key always wins and is
never limited; else the operator's key, for another caller only when the operator allowed
it and within :class:`OperatorLimits` (billed images per caller and per app per hour);
else, with no key and no service URL at all, the in-process local server's key.
A key lives only in the :class:`KeyChoice`, never in a repr, message or log line. The
hint on how to send a key is chosen per face (:data:`KEY_HINTS`): a remote caller is told
about ``X-API-Key``, not about an environment variable on someone else's machine.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ._config import Secret
from .errors import AuthenticationError, MiladyError, RateLimitError

__all__ = [
    "HOUR", "KEY_HINTS", "RUN_CONFIG_KEY", "KeyChoice", "KeyHow", "KeyPolicy", "KeySource", "OperatorLimitError",
    "OperatorLimits", "Payer", "Reservation", "caller_id", "fit_key_hint", "limits_line", "payer_policy",
]  # fmt: skip

HOUR = 3600.0
#: Where a LangChain run carries its own key: ``config["configurable"][RUN_CONFIG_KEY]``.
RUN_CONFIG_KEY = "milady_api_key"

#: Whose key pays on a page open to visitors: the operator's, the visitor's own, or the
#: visitor's when given and else the operator's within :class:`OperatorLimits`.
Payer = Literal["server", "visitor", "visitor_or_server"]

#: Where the key of a call came from.
KeySource = Literal["caller", "operator", "local"]
#: How a caller of this face hands over its own key.
KeyHow = Literal["environment", "header", "run_config", "form"]

#: The one sentence per face that says how to give a key (used on 401/403 and refusals).
KEY_HINTS: dict[KeyHow, str] = {
    "environment": AuthenticationError.default_hint,
    "header": "Send your own Milady Cloud key in the X-API-Key header of your MCP connection.",
    "run_config": f'Pass your Milady Cloud key as config["configurable"]["{RUN_CONFIG_KEY}"] for this run.',
    "form": "Enter your own Milady Cloud key in the key field.",
}


class OperatorLimitError(RateLimitError):
    """The operator's key has served its share for now; nothing was sent."""


def fit_key_hint(error: MiladyError, how: KeyHow, *, lent: bool = False) -> MiladyError:
    """Give an authentication failure the hint that fits the face, and whose key was refused.

    ``lent``: the operator's key served someone else, who cannot fix it, only bring its own.
    """
    if isinstance(error, AuthenticationError):
        hint = KEY_HINTS[how]
        error.hint = f"The server's own key was refused; tell its operator, or {_lower_first(hint)}" if lent else hint
    return error


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _wait_words(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes} min {int(seconds % 60)} s" if minutes else f"{max(1, round(seconds))} s"


@dataclass(eq=False)
class Reservation:
    """Images held against the limits while a request runs; settle with what was billed."""

    limits: OperatorLimits | None = field(repr=False)
    caller: str
    images: int
    settled: bool = False

    def settle(self, billed: int) -> None:
        """Keep ``billed`` images counted (0 when the service proved nothing ran); idempotent."""
        if not self.settled and self.limits is not None:
            self.settled = True
            self.limits._settle(self.caller, self.images, max(0, min(billed, self.images)))

    def settle_error(self, error: BaseException) -> None:
        """After a failure: count every image when the request may have run (it may be billed)."""
        self.settle(self.images if getattr(error, "may_have_run", False) else 0)


@dataclass
class OperatorLimits:
    """Rolling one-hour windows of billed images, per caller and for the whole app (``clock``: a test seam)."""

    per_caller: int = 20
    per_app: int = 200
    window: float = HOUR
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._billed: deque[tuple[float, str, int]] = deque()  # (when, caller, images), oldest first
        self._held: dict[str, int] = {}

    def _events(self, caller: str | None, now: float) -> list[tuple[float, int]]:
        """(when, images) billed inside the window, for ``caller`` or (None) for the app."""
        while self._billed and self._billed[0][0] <= now - self.window:
            self._billed.popleft()
        return [(when, count) for when, who, count in self._billed if caller is None or who == caller]

    def _wait(self, events: list[tuple[float, int]], used: int, want: int, limit: int, now: float) -> float:
        """Seconds until ``want`` more images fit under ``limit``."""
        for when, count in events:
            used -= count
            if used + want <= limit:
                return when + self.window - now
        return self.window

    def reserve(self, caller: str, images: int) -> Reservation:
        """Hold ``images`` for ``caller`` or raise :class:`OperatorLimitError` (nothing is sent)."""
        with self._lock:
            now = self.clock()
            for who, held, limit, whose in (
                (caller, self._held.get(caller, 0), self.per_caller, "for each caller"),
                (None, sum(self._held.values()), self.per_app, "for everyone together"),
            ):
                events = self._events(who, now)
                used = sum(count for _, count in events) + held
                if used + images > limit:
                    wait = self._wait(events, used, images, limit, now) if images <= limit else self.window
                    raise OperatorLimitError(
                        f"The shared key's limit of {limit} images per hour {whose} is used up: "
                        f"{images} more would exceed it; retry in {_wait_words(wait)}",
                        retry_after=wait,
                        limit=limit,
                        remaining=max(0, limit - used),
                        hint="",
                    )
            self._held[caller] = self._held.get(caller, 0) + images
            return Reservation(self, caller, images)

    def _settle(self, caller: str, held: int, billed: int) -> None:
        with self._lock:
            left = self._held.get(caller, 0) - held
            if left > 0:
                self._held[caller] = left
            else:  # nothing kept per caller once settled: a public page sees many
                self._held.pop(caller, None)
            if billed:
                self._billed.append((self.clock(), caller, billed))

    def used(self, caller: str | None = None) -> int:
        """Billed images in the current window (for one caller, or for the app)."""
        with self._lock:
            return sum(count for _, count in self._events(caller, self.clock()))


@dataclass(frozen=True)
class KeyChoice:
    """The key one call uses, where it came from, and its hold on the limits."""

    api_key: Secret = field(repr=False)
    source: KeySource
    reservation: Reservation = field(repr=False)
    #: The operator's key serving someone else (within the limits).
    lent: bool = False

    def secret(self) -> str:
        return self.api_key.get_secret_value()


@dataclass
class KeyPolicy:
    """The operator's decision on whose key pays, for one face.

    ``operator_key`` is the configured key (the local server's when ``local``); ``serve_others``
    lets it pay, within ``limits``, for callers that sent no key; ``how`` they send their own.
    """

    operator_key: str | None = field(default=None, repr=False)
    local: bool = False
    serve_others: bool = False
    limits: OperatorLimits | None = None
    how: KeyHow = "environment"

    def choose(self, caller_key: str | None, *, caller: str | None = None, images: int = 0) -> KeyChoice:
        """The key for one call. ``caller``: who asks, None for the operator itself (stdio, a script);
        ``images``: what the call may bill, held against the limits when the operator's key is lent."""
        own = (caller_key or "").strip()
        if own:
            return KeyChoice(Secret(own), "caller", Reservation(None, "", images))
        if self.operator_key is None:
            raise AuthenticationError("No Milady Cloud key for this call", hint=KEY_HINTS[self.how])
        source: KeySource = "local" if self.local else "operator"
        if caller is None or self.local:
            return KeyChoice(Secret(self.operator_key), source, Reservation(None, "", images))
        if not self.serve_others:
            raise AuthenticationError(
                "This server does not lend its own key: a Milady Cloud key of your own is needed",
                hint=KEY_HINTS[self.how],
            )
        try:
            hold = self.limits.reserve(caller, images) if self.limits else Reservation(None, caller, images)
        except OperatorLimitError as error:
            error.hint = "To go on now: " + _lower_first(KEY_HINTS[self.how])
            raise
        return KeyChoice(Secret(self.operator_key), source, hold, lent=True)


def payer_policy(
    payer: Payer,
    operator_key: str | Secret | None,
    *,
    local: bool = False,
    limits: OperatorLimits | None = None,
    how: KeyHow | None = None,
) -> KeyPolicy:
    """The :class:`KeyPolicy` for an operator's choice of whose key pays.

    ``"visitor"`` never lends the operator's key (a free ``local`` key still serves);
    ``"visitor_or_server"`` lends it within ``limits``. With ``"server"`` the face asks as the
    operator: a missing or refused key is the operator's to fix (``how``: "environment").
    """
    lend = payer == "visitor_or_server"
    if isinstance(operator_key, Secret):  # as a client's config holds it
        operator_key = operator_key.get_secret_value()
    return KeyPolicy(
        operator_key if (payer != "visitor" or local) else None,
        local=local,
        serve_others=lend,
        limits=(limits or OperatorLimits()) if lend else None,
        how=how or ("environment" if payer == "server" else "form"),
    )


def caller_id(login: str | None = None, address: str | None = None, forwarded_for: str | None = None) -> str:
    """Who a caller is, for the limits: its login when it has one, else its network address. ``forwarded_for``
    (X-Forwarded-For) counts only on a Hugging Face Space, behind whose proxy every connection comes."""
    if forwarded_for and os.environ.get("SPACE_ID"):
        address = forwarded_for.split(",")[0].strip() or address
    return f"login {login}" if login else f"address {address or 'unknown'}"


def limits_line(limits: OperatorLimits) -> str:
    """What a visitor without a key of its own may use of the operator's key, in one line."""
    per = _wait_words(limits.window) if limits.window != HOUR else "hour"
    return (
        f"Without a key of your own, this app's key pays: at most {limits.per_caller} images per visitor "
        f"and {limits.per_app} for everyone together per {per}."
    )
