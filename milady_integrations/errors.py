"""The error hierarchy and THE table that maps a service answer to one of its classes.

Every face shows ``str(error)``: one line a person can act on (the message, the
service's hint, the request id). Faces never write their own texts for these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "AuthenticationError", "GenerationFailedError", "ImageDownloadError", "InsufficientCreditsError",
    "InvalidRequestError", "MiladyAPIError", "MiladyConnectionError", "MiladyError", "MiladyTimeoutError",
    "MiladyWarning", "OutcomeUnknownError", "RateLimitError", "ServiceUnavailableError", "UnexpectedResponseError",
    "error_from_response",
]  # fmt: skip


class MiladyWarning(UserWarning):
    """Something will work, but not the way the caller probably expects."""


class MiladyError(Exception):
    """Base of every error this library raises; a subclass's details are class attributes, set by name."""

    #: The docs' advice for this kind of failure.
    default_hint: str = ""
    #: True when the request may have reached the service and been charged: never resend it
    #: blindly (look in the gallery first). A class default, set per error where it varies.
    may_have_run: bool = False
    #: Set by the client on a generate failure: what ``client.recover(error)`` looks for.
    pending: Any = None

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status_code: int | None = None,
        body: object = None,
        request_id: str | None = None,
        may_have_run: bool | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint
        self.status_code = status_code
        self.body = body
        self.request_id = request_id
        if may_have_run is not None:
            self.may_have_run = may_have_run
        for name, value in details.items():
            if name.startswith("_") or not hasattr(type(self), name):
                raise TypeError(f"{type(self).__name__} has no detail {name!r}")
            setattr(self, name, value)

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} {self.hint}" if text.endswith(".") else f"{text}. {self.hint}"
        return f"{text} (request id {self.request_id})" if self.request_id else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status_code={self.status_code!r})"

    def redacted(self, secret: str | None) -> MiladyError:
        """Remove ``secret`` from every text this error carries (keys never leak).

        Strings shorter than 8 characters are no real key; replacing them would mangle
        ordinary words (a test key "k" would turn "network" into "networ***").
        """
        if secret and len(secret) >= 8:
            self.message = self.message.replace(secret, "***")
            self.hint = self.hint.replace(secret, "***")
            self.args = tuple(a.replace(secret, "***") if isinstance(a, str) else a for a in self.args)
            if isinstance(self.body, str):
                self.body = self.body.replace(secret, "***")
        return self


class InvalidRequestError(MiladyError):
    """Bad input: caught before sending (no credit spent), or a 400 from the service."""

    field: str | None = None
    value: object = None
    allowed: object = None
    #: Every bad field (``request.FieldProblem``) when the input was checked before sending.
    problems: Sequence[Any] = ()


class AuthenticationError(MiladyError):
    """No key, or the service refused it (401/403)."""

    default_hint = "Set MILADY_API_KEY to a valid Milady Cloud key."


class InsufficientCreditsError(MiladyError):
    """402: the account lacks credits. Never retried."""

    default_hint = "Add credits to your account."
    required: float | None = None


class RateLimitError(MiladyError):
    """429: too many requests. ``retry_after`` is in seconds when the service said."""

    default_hint = "Wait and retry with exponential backoff."
    retry_after: float | None = None
    limit: int | None = None
    remaining: int | None = None
    reset: str | None = None
    policy: str | None = None


class GenerationFailedError(MiladyError):
    """500 "No images were generated" (refunded), or a 200 with no images: nothing was charged."""

    default_hint = "Retry, or try a different model."


class ServiceUnavailableError(MiladyError):
    """The service's own 503: it refused before charging, and will not heal within seconds."""

    default_hint = "Try again later."


class OutcomeUnknownError(MiladyError):
    """A failure after the service may have started the work: any 5xx but the service's own
    refunded 500 and 503 (other 500s keep the credit reservation; a 502/504 may still be running
    at the origin), or a 401 from the service's own upstream. Never retried."""

    default_hint = "Check your gallery before sending it again."
    may_have_run = True


class MiladyAPIError(MiladyError):
    """Any other HTTP status the table does not name."""


class UnexpectedResponseError(MiladyError):
    """A 2xx whose body is not the contract (not JSON, no images list): it ran and may be billed."""

    default_hint = (
        "The request was answered, so it may have been charged; check your gallery before "
        "sending it again. If it persists, the service may have changed its response."
    )
    may_have_run = True


class MiladyConnectionError(MiladyError):
    """The connection failed. ``may_have_run`` is true when the request had been sent."""

    default_hint = "Check your network and MILADY_BASE_URL."


class MiladyTimeoutError(MiladyError):
    """No answer in time. Not retried once sent: the service may still finish and bill."""

    default_hint = (
        "The request was sent and may still complete and be billed; "
        "check your gallery before sending it again, or raise the timeout."
    )
    may_have_run = True


class ImageDownloadError(MiladyError):
    """An image URL the service returned could not be read (status, size cap, not an image)."""

    default_hint = "The image was generated; its URL may still work later."


# ---------------------------------------------------------------- the table

WRONG_URL_HINT = (
    "The service URL looks wrong: MILADY_BASE_URL (or --base-url) should be the address that comes "
    "before /api/v1/..., e.g. https://cloud.milady.ai or http://127.0.0.1:8787."
)
# The service's own bodies whose meaning is certain (anything else of that status is not).
REFUNDED_500 = "No images were generated"
SERVICE_503S = {
    "Image generation service is not configured",
    "Image generation is temporarily unavailable. Please try again shortly.",
}
SERVICE_401S = {
    "Authentication required. Provide a valid session or API key.",  # generate-image
    "Invalid or expired API key",  # the shared auth helper (balance and other routes)
}
_GATEWAY_STATUSES = {502, 504, 520, 521, 522, 523, 524}
MAY_HAVE_BEEN_CHARGED = "the request may have been charged"
# Words in the service's 400 messages -> the field they are about.
_FIELD_WORDS = {
    "prompt": "prompt", "numimages": "num_images", "sourceimage": "source_image", "aspectratio": "aspect_ratio",
    "stylepreset": "style_preset", "model": "model",
}  # fmt: skip


def _field_of(message: str) -> str | None:
    folded = message.lower().replace(" ", "")
    return next((field for word, field in _FIELD_WORDS.items() if word in folded), None)


def _number(value: object) -> float | None:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)


def _summarise_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", title.group(1) if title else text)
    return " ".join(text.split())[:200]


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = _number(headers.get(name))
    return int(value) if value is not None else None


def _issues_text(issues: object) -> tuple[str | None, str | None]:
    """The other variant's ``details.issues`` (zod issues) as "field: message; ...", and the first field."""
    pairs = [
        (".".join(map(str, i["path"])) if isinstance(i.get("path"), list) else "", i.get("message") or i.get("code"))
        for i in (issues if isinstance(issues, list) else ())
        if isinstance(i, dict)
    ]
    text = "; ".join(f"{where}: {what or 'invalid'}" if where else str(what or "invalid") for where, what in pairs)
    return text or None, next(filter(None, (_field_of(where) for where, _ in pairs if where)), None)


def _invalid(data: Mapping[str, Any], server_text: str | None, common: dict[str, Any]) -> MiladyError:
    message = server_text or "The service refused the request as invalid"
    details: dict[str, Any] = data["details"] if isinstance(data.get("details"), dict) else {}
    issues, issue_field = _issues_text(details.get("issues"))
    if issues:
        message = f"{message}: {issues}"
    field = issue_field or _field_of(server_text or "")
    supported = details.get("supportedModels", data.get("supportedModels"))
    allowed = [str(m) for m in supported] if isinstance(supported, list) else None
    hint = {"prompt": "Check prompt is non-empty string", "model": "Use a supported model"}.get(field or "")
    if allowed is not None:
        field, hint = "model", "Use a supported model: " + ", ".join(allowed)
    return InvalidRequestError(message, field=field, allowed=allowed, hint=hint, **common)


def _outcome_unknown(status: int, detail: str, common: dict[str, Any]) -> MiladyError:
    """Any failure after which the service may have run and billed: say so, never retry."""
    if status == 401:
        what = "failed inside the service (its own upstream key, not yours)"
    elif status in _GATEWAY_STATUSES:
        what = "came from a gateway in front of the service; the request may still be running"
    else:
        what = "failed after it may have started the work"
    said = f": {detail}" if detail else ""
    return OutcomeUnknownError(
        f"The service answered HTTP {status}{said}. It {what}, so {MAY_HAVE_BEEN_CHARGED}", **common
    )


def _rate_limited(data: Mapping[str, Any], headers: Mapping[str, str], common: dict[str, Any]) -> MiladyError:
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None:
        retry_after = _number(data.get("retryAfter"))
    message = "Rate limited"
    if retry_after is not None:
        message += f": retry in {retry_after:.0f} s" if retry_after >= 1 else f": retry in {retry_after:.1f} s"
    if isinstance(data.get("message"), str):
        message += f" ({data['message'].rstrip('.')})"
    return RateLimitError(
        message,
        retry_after=retry_after,
        limit=_int_header(headers, "x-ratelimit-limit"),
        remaining=_int_header(headers, "x-ratelimit-remaining"),
        reset=headers.get("x-ratelimit-reset"),
        policy=headers.get("x-ratelimit-policy"),
        **common,
    )


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, request_id: str | None = None
) -> MiladyError:
    """THE mapping from a non-2xx answer (status, headers, raw body) to one error.

    Reads the service's JSON bodies, its other variant's ``{"success": false, "error", "code"}``
    and proxies' HTML or empty pages. ``headers`` must be case-insensitive (httpx.Headers is).
    """
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    data: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
    server_text = next((data[k] for k in ("error", "message") if isinstance(data.get(k), str)), None)
    stored_body = parsed if parsed is not None else _summarise_text(body)
    common: dict[str, Any] = {"status_code": status, "body": stored_body, "request_id": request_id}
    detail = server_text or (_summarise_text(body) if body.strip() else "")

    if status == 500 and server_text == REFUNDED_500:
        message = f"Image generation failed (HTTP 500): {REFUNDED_500}; nothing was charged"
        return GenerationFailedError(message, **common)
    if status == 503 and server_text in SERVICE_503S:
        return ServiceUnavailableError(
            f"The image service is unavailable (HTTP 503): {server_text.rstrip('.')}; "
            "nothing was charged. Not retried: this does not clear within seconds",
            **common,
        )
    service_401 = server_text in SERVICE_401S or data.get("code") == "authentication_required"
    if status >= 500 or (status == 401 and not service_401):
        return _outcome_unknown(status, detail, common)
    if status in (400, 422):
        return _invalid(data, server_text, common)
    if status in (401, 403):
        message = server_text or "Authentication failed: the service did not accept the API key"
        return AuthenticationError(message, **common)
    if status == 402:
        required = _number(data.get("required"))
        text = f"Insufficient credits: {required:g} required" if required is not None else server_text
        return InsufficientCreditsError(text or "Insufficient credits", required=required, **common)
    if status == 429:
        return _rate_limited(data, headers, common)
    if status == 405:
        return MiladyAPIError(
            "The service answered HTTP 405 (method not allowed): this URL does not take this request",
            hint="Check MILADY_BASE_URL: it should be the service's root, such as https://cloud.milady.ai.",
            **common,
        )
    message = f"The service answered with an error (HTTP {status})" + (f": {detail}" if detail else "")
    code = data.get("code")
    if isinstance(code, str) and code not in message:
        message += f" ({code})"
    # The service has every path we call: a 404 means the base URL points somewhere else.
    return MiladyAPIError(message, hint=WRONG_URL_HINT if status == 404 else None, **common)


def error_from_transport(exc: Exception, host: str, *, read_timeout: float | None) -> MiladyError:
    """THE mapping from an httpx transport failure, saying whether the request may have run."""
    import httpx  # only on a failure: keeps ``import milady_integrations.errors`` light

    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return MiladyConnectionError(f"Could not connect to {host}: {exc or type(exc).__name__}")
    if isinstance(exc, (httpx.WriteError, httpx.WriteTimeout)):
        # The body did not arrive whole, so the service cannot have acted on it.
        return MiladyConnectionError(f"The connection to {host} failed while sending the request")
    if isinstance(exc, httpx.TimeoutException):
        waited = f" within {read_timeout:g} s" if read_timeout is not None else ""
        return MiladyTimeoutError(f"No answer from {host}{waited} after the request was sent")
    return MiladyConnectionError(
        f"The connection to {host} broke after the request was sent "
        f"({type(exc).__name__}); it was not retried because the service may have run it, "
        f"so {MAY_HAVE_BEEN_CHARGED}",
        may_have_run=True,
        hint="Check your gallery before sending it again.",
    )
