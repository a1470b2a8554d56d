"""The ASGI app: the service's routes and answers on loopback, plus the ``/_local/*`` controls."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from http.client import responses
from typing import Any, get_args

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ..catalogue import DEFAULT_MODEL
from . import _bodies, _uvicorn
from ._bodies import GenerateCall, Refused, dumps, parse_json, validate_generate
from ._faults import AccountRoute, FaultError, Faults, ForcedStatus
from ._openapi import openapi_document
from ._pictures import IMAGE_SIZES, decode_source, draw_picture, encode_png, encode_webp
from ._state import MARKUP, ServerConfig, State, iso

_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
_ENDPOINTS = {"generate-image": "generate", "credits": "balance", "gallery": "gallery", "models": "models",
              "pricing": "pricing", "images": "image", "openapi.json": "openapi", "_local": "local"}
#: What the ``down`` fault may take down, named as ``_ENDPOINTS`` counts them (each is tested).
_ACCOUNT_ROUTES = frozenset(get_args(AccountRoute))


class _Answer(Exception):
    """Ends a handler early with this answer (the auth check's refusal)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers, "application/json")


@contextlib.contextmanager
def _fault_settings() -> Iterator[None]:
    """A request's bad X-Milady-Fault-* header ends it with a 400 naming the setting."""
    try:
        yield
    except FaultError as exc:
        raise _Answer(_json(400, {"error": f"Bad fault setting: {exc}"})) from None


async def _body(request: Request) -> Any:
    """The JSON body, None when it is not JSON."""
    with contextlib.suppress(ValueError):
        return parse_json(await request.body())
    return None


class LocalApp:
    """The ASGI app of one server: its state (``app.local``), one route table (``_ROUTES``), an
    ``x-request-id`` on every answer and the request counters. Each route is a method."""

    def __init__(self, config: ServerConfig) -> None:
        self.config, self.local = config, State(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, parts = scope["path"], scope["path"].strip("/").split("/")
        endpoint = _ENDPOINTS.get(parts[2] if parts[:2] == ["api", "v1"] and len(parts) > 2 else parts[0], "other")
        with self.local.lock:
            self.local.requests[endpoint] += 1
        # As Starlette routes: the first route with this path and method; a path without the method is a 405.
        routes = [r for r in (_ROUTES.get(path), *(r for p, r in _PREFIXES.items() if path.startswith(p))) if r]
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        handler = next((r[method] for r in routes if method in r), None)
        request = Request(scope, receive)
        try:
            if handler is None:
                response = Response(b"Method Not Allowed" if routes else b"Not Found", 405 if routes else 404,
                                    media_type="text/plain")
            else:
                response = self._down(request, endpoint) or await handler(self, request)
        except _Answer as answer:
            response = answer.response
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        response.headers["x-request-id"] = given if 0 < len(given) <= 128 else f"req_{uuid.uuid4().hex}"
        await response(scope, receive, send)

    def _key(self, request: Request) -> str:
        """The auth check of the service's other routes, with its own 401 and 403 bodies."""
        key = self.local.key_of(request.headers)
        if key is None or key in self.config.inactive_keys:
            raise _Answer(_json(401, _bodies.KEY_INVALID) if key is None else _json(403, _bodies.KEY_INACTIVE))
        return key

    def _down(self, request: Request, endpoint: str) -> Response | None:
        """The answer of an account route that the ``down`` fault takes down, or None: the route answers
        as usual. A 429 is the rate limiter's; other statuses say only their name, not generate's words."""
        if endpoint not in _ACCOUNT_ROUTES:
            return None
        if self.config.faults.down is None and Faults.header("down") not in request.headers:
            return None  # the usual case: no headers parsed, no lock taken
        with _fault_settings():
            faults = self.config.faults.with_headers(request.headers)
        if faults.down != endpoint:
            return None
        status = faults.down_status
        return self._forced(ForcedStatus(status=status, message=responses.get(status, "Error")), b"", False)

    async def _pause(self, seconds: float, request: Request | None = None) -> None:
        """Sleep, ending early when the server stops or (if given) the client goes away."""
        deadline = time.monotonic() + seconds
        while not self.local.stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.05))
            if request is not None and await request.is_disconnected():
                return

    # ------------------------------------------------------------ generate

    async def _generate(self, request: Request) -> Response:
        with _fault_settings():
            faults, forced = self.config.faults.for_request(request.headers)
        entry: dict[str, Any] = {}  # logged once the body passes the checks
        answer = await self._run(request, faults, forced, entry)
        await self._pause(faults.latency)  # after billing: a client that gave up can find the images
        entry["status"] = answer.status_code  # None until answered
        return answer

    async def _run(self, request: Request, faults: Faults, forced: ForcedStatus | None,
                   entry: dict[str, Any]) -> Response:
        """The service's order: rate limit, auth, JSON, body, reserve, draw, store, bill; then the answer
        (or a forced one: before all that, or with ``ran`` after it, the images kept and billed)."""
        cfg, state, raw = self.config, self.local, await request.body()
        variant = (faults.response_shape or cfg.response_shape) == "success"
        if forced is not None and not forced.ran:
            return self._forced(forced, raw, variant)
        limits, wait = state.rate(request.headers)
        if wait is not None:
            limited = _bodies.rate_limited(cfg.rate_limit, cfg.rate_window, wait)
            return _json(429, limited, {**limits, "Retry-After": str(wait)})
        if (key := state.key_of(request.headers)) is None:
            return _json(401, {"error": _bodies.AUTH_REQUIRED}, limits)
        with state.lock:
            state.counts["generate_validated"] += 1
        try:
            call = validate_generate(parse_json(raw), variant=variant)
        except ValueError as exc:
            return _json(500, {"error": str(exc)}, limits)
        except Refused as refused:
            return _json(refused.status, refused.body, limits)
        entry.update({"time": iso(time.time()), "prompt": call.prompt, "enhancedPrompt": call.enhanced,
                      "model": call.model, "aspectRatio": call.aspect_ratio, "stylePreset": call.style_preset,
                      "numImages": call.num_images, "imageToImage": call.source_image is not None, "status": None})
        with state.lock:
            state.log.append(entry)
        reserved = cfg.billed(call.model, call.num_images)
        if not state.reserve(key, reserved):
            return _json(402, _bodies.error_body(402, required=reserved, variant=variant), limits)
        created = state.created_at()
        made = [] if faults.body == "zero-images" else await self._draw_all(call, faults)
        done = [m for m in made if m is not None]
        if variant and len(done) < len(made):
            done = []  # the other variant has no partial success: any failure releases everything
        state.settle(key, reserved, call.model, len(done), len(made) - len(done))
        if made and not done:
            return _json(500, _bodies.error_body(500, required=0, variant=variant), limits)
        stored = [self._publish(request, key, call, created, data, label, faults) for data, label in done]
        if forced is not None:  # ran, billed and in the gallery; the answer says otherwise
            return self._forced(forced, b"", variant, call)
        text = cfg.text if faults.text is None else faults.text
        if not variant:
            images = [{"url": url, "text": text, "mimeType": label, "fileSize": size} if url else
                      {"image": data_url, "text": text, "mimeType": label} for url, data_url, label, size in stored]
            return _spoil({"images": images, "numImages": len(images)}, faults, limits)
        charged, base = cfg.billed(call.model, len(stored)), float(cfg.price(call.model) * len(stored))
        cost = {"totalCost": charged, "baseTotalCost": base, "platformMarkup": round(charged - base, 6),
                "matchedEntry": {"modelId": call.model, "unit": "image", "unitPrice": float(cfg.price(call.model))}}
        images = [{"image": data_url, **({"url": url} if url else {}), "text": text} for url, data_url, _, _ in stored]
        return _spoil({"success": True, "model": call.model, "images": images, "cost": cost}, faults, limits)

    async def _draw_all(self, call: GenerateCall, faults: Faults) -> list[tuple[bytes, str] | None]:
        """Every image of the request at once, off the event loop; None for each failure."""
        source = None
        if call.source_image is not None:
            try:
                source = await asyncio.to_thread(decode_source, call.source_image)
            except ValueError:
                return [None] * call.num_images  # the model cannot read it either

        def one(index: int) -> tuple[bytes, str] | None:
            if index < faults.fail_images or random.random() < faults.failure_rate:
                return None
            picture = draw_picture(enhanced=call.enhanced, prompt=call.prompt, model=call.model,
                                   preset=call.style_preset, aspect_ratio=call.aspect_ratio, index=index, source=source)
            # The storage fallback carries the model's PNG; "wrong MIME" keeps WebP bytes under a PNG label.
            if faults.storage_failure and not faults.wrong_mime:
                return encode_png(picture), "image/png"
            return encode_webp(picture, self.config.webp_quality), "image/png" if faults.wrong_mime else "image/webp"

        return list(await asyncio.gather(*(asyncio.to_thread(one, i) for i in range(call.num_images))))

    def _publish(self, request: Request, key: str, call: GenerateCall, created: float, data: bytes, label: str,
                faults: Faults) -> tuple[str | None, str, str, int]:
        """Store one image and record it in the key's gallery (unless storing fails on purpose):
        its URL (None when not stored), data URL, MIME label and size."""
        data_url = f"data:{label};base64,{base64.b64encode(data).decode()}"
        if faults.storage_failure:
            return None, data_url, label, len(data)
        image_id = self.local.store(data, label, faults.image_url)
        url = f"{str(request.base_url).rstrip('/')}/images/{image_id}.{label.split('/')[1]}"
        width, height = IMAGE_SIZES.get(call.aspect_ratio, IMAGE_SIZES["1:1"])
        item = {"id": str(uuid.uuid4()), "type": "image", "url": url, "thumbnailUrl": url, "prompt": call.prompt,
                "negativePrompt": None, "model": call.model, "provider": call.model.split("/")[0],
                "status": "completed", "createdAt": iso(created), "completedAt": iso(time.time()), "mimeType": label,
                "fileSize": str(len(data)), "dimensions": {"width": width, "height": height},
                "metadata": {"aspectRatio": call.aspect_ratio, "stylePreset": call.style_preset}}
        with self.local.lock:
            self.local.gallery.setdefault(key, []).append(item)
        return url, data_url, label, len(data)

    def _forced(self, forced: ForcedStatus, raw: bytes, variant: bool, call: GenerateCall | None = None) -> Response:
        """A forced answer: the service's body for the status (or a proxy's page, or nothing)."""
        cfg, headers = self.config, {}
        status = 401 if forced.status == 500 and "API key" in (forced.message or "") else forced.status
        if status == 429:
            headers = self.local.limit_headers(0, cfg.rate_clock() + (forced.retry_after or cfg.rate_window))
            if forced.retry_after is not None:
                headers["Retry-After"] = str(forced.retry_after)
            payload = _bodies.rate_limited(cfg.rate_limit, cfg.rate_window, forced.retry_after)
        else:
            if call is None:
                with contextlib.suppress(ValueError, Refused):  # a forced 402 says what this body would cost
                    call = validate_generate(parse_json(raw))
            required = cfg.billed(call.model, call.num_images) if call else cfg.billed(DEFAULT_MODEL)
            payload = _bodies.error_body(status, required=required, variant=variant, message=forced.message)
        kind = forced.body or ("html" if status in (502, 504) else "json")
        if kind == "html":
            return Response(_bodies.proxy_page(status), status, headers, "text/html")
        return _json(status, payload, headers) if kind == "json" else Response(b"", status, headers)

    # ------------------------------------------------------------ the service's other routes

    async def _balance(self, request: Request) -> Response:
        return _json(200, {"balance": self.local.balance(self._key(request))})

    async def _gallery(self, request: Request) -> Response:
        key, query = self._key(request), request.query_params
        kind, limit, offset = query.get("type"), query.get("limit", "100"), query.get("offset", "0")
        issues = [{"path": [name], "message": message} for name, bad, message in (
            ("type", kind not in (None, "image", "video"), "Invalid enum value. Expected 'image' | 'video'"),
            ("limit", not limit.isdigit() or not 1 <= int(limit) <= 1000, "limit must be an integer from 1 to 1000"),
            ("offset", not offset.isdigit(), "offset must be an integer from 0")) if bad]
        if issues:
            return _json(400, {"error": "Validation error", "details": issues})
        with self.local.lock:
            mine = [i for i in reversed(self.local.gallery.get(key, [])) if kind in (None, i["type"])]
        mine.sort(key=lambda i: i["createdAt"], reverse=True)
        start, end = int(offset), int(offset) + int(limit)
        return _json(200, {"items": mine[start:end], "count": len(mine[start:end]), "offset": start,
                           "limit": int(limit), "hasMore": end < len(mine)})

    async def _model_status(self, request: Request) -> Response:
        body, cfg = await _body(request), self.config
        ids = body.get("modelIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids:
            return _json(400, {"error": "modelIds array is required"})
        if len(ids) > 50:
            return _json(400, {"error": "Maximum 50 models can be checked at once"})
        if not all(isinstance(i, str) and i.strip() for i in ids):
            return _json(400, {"error": "Each modelId must be a non-empty string"})
        models = []
        for model in ids:
            reason = cfg.unavailable.get(model) or cfg.unavailable.get(model.split("/")[0] + "/")
            reason = reason or (None if model in cfg.prices else "Model not found")
            models.append({"modelId": model, "available": reason is None, **({"reason": reason} if reason else {})})
        return _json(200, {"models": models, "timestamp": int(time.time() * 1000)})

    def _entry(self, model: str) -> dict[str, Any]:
        """One model's catalogue entry."""
        return {"id": model, "object": "model", "created": 1735689600, "owned_by": model.split("/")[0],
                "type": "image", "name": model.split("/")[-1],
                "pricing": {"image": float(self.config.price(model)), "unit": "image"}}

    async def _models(self, request: Request) -> Response:
        return _json(200, {"object": "list", "data": [self._entry(m) for m in self.config.prices]})

    async def _model(self, request: Request) -> Response:
        self._key(request)
        model = request.scope["path"].removeprefix("/api/v1/models/")
        if model not in self.config.prices:
            return _json(404, {"error": f"Model not found: {model}"})
        return _json(200, self._entry(model))

    async def _pricing(self, request: Request) -> Response:
        prices = [self.config.billed(m) for m in self.config.prices]
        summary = {"unit": "image", "isVariable": True, "estimatedRange": {"min": min(prices), "max": max(prices)},
                   "description": f"Per image; the model's catalogue price x {MARKUP}"}
        return _json(200, {"asOf": iso(time.time()), "pricing": {"generate-image": summary}})

    async def _image(self, request: Request) -> Response:
        stored = self.local.image(request.scope["path"].removeprefix("/images/").rsplit(".", 1)[0])
        if stored is None or stored.fault == "404":
            return Response(b"Not Found", 404, media_type="text/plain")
        if stored.fault == "hang":
            await self._pause(self.config.hang_seconds, request)
            return Response(b"", 504)
        if stored.fault == "not-image":
            page = b"<!DOCTYPE html><html><body>This is not an image</body></html>"
            return Response(page, 200, _IMMUTABLE, stored.mime)
        if stored.fault == "truncated":  # a whole HTTP answer holding half a picture
            return Response(stored.data[: len(stored.data) // 2], 200, _IMMUTABLE, stored.mime)
        if stored.fault in ("oversize", "oversize-chunked"):
            total = max(self.config.oversize_bytes, len(stored.data))
            size = {"Content-Length": str(total)} if stored.fault == "oversize" else {}
            return StreamingResponse(_oversize(stored.data, total), 200, {**_IMMUTABLE, **size}, stored.mime)
        return Response(stored.data, 200, _IMMUTABLE, stored.mime)

    async def _openapi(self, request: Request) -> Response:
        return _json(200, openapi_document(str(request.base_url).rstrip("/")))

    # ------------------------------------------------------------ local controls (no auth)

    async def _local_stats(self, request: Request) -> Response:
        stats = self.local.stats()
        return _json(200, {**asdict(stats), "generate_requests": stats.generate_requests})

    async def _local_faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.config.faults.apply_json(parse_json(await request.body()))
            except ValueError as exc:  # FaultError included
                return _json(400, {"error": str(exc)})
        return _json(200, self.config.faults.to_dict())

    async def _local_credits(self, request: Request) -> Response:
        body = await _body(request)
        key, amount = (body.get("key"), body.get("amount")) if isinstance(body, dict) else (None, None)
        if not isinstance(key, str) or not key or isinstance(amount, bool) or not isinstance(amount, (int, float)):
            return _json(400, {"error": 'send {"key": "<api key>", "amount": <number>}'})
        return _json(200, {"key": key, "balance": self.local.balance(key, float(amount))})

    async def _local_requests(self, request: Request) -> Response:
        return _json(200, {"requests": self.local.recent()})

    async def _local_reset(self, request: Request) -> Response:
        self.local.reset()
        return _json(200, {"reset": True})


def create_app(config: ServerConfig | None = None) -> LocalApp:
    """A fresh app with its own state (``app.local``)."""
    return LocalApp(config or ServerConfig())


def _spoil(body: dict[str, Any], faults: Faults, headers: dict[str, str]) -> Response:
    """The 200 answer, broken as the faults ask."""
    if faults.body == "no-url":
        body["images"] = [{k: v for k, v in i.items() if k not in ("url", "image")} for i in body["images"]]
    raw = dumps(body)
    if faults.body == "truncated":
        raw = raw[: max(1, len(raw) // 2)]
    elif faults.body == "invalid-json":
        raw = raw[:-1] + b",}"
    elif faults.body == "empty-object":
        raw = b"{}"
    return _Dropped(faults.drop, raw, headers) if faults.drop else Response(raw, 200, headers, "application/json")


class _Dropped(Response):
    """Breaks the connection instead of answering (the work was done and billed)."""

    def __init__(self, mode: str, content: bytes, headers: dict[str, str]) -> None:
        super().__init__(content, 200, headers, "application/json")
        self.mode = mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.mode == "mid-body":
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})
        await _uvicorn.drop_connection(send)


async def _oversize(head: bytes, total: int) -> Any:
    chunk = bytes(1024 * 1024)  # one zero buffer, sent again and again: never ``total`` bytes in memory
    yield head
    for sent in range(len(head), total, len(chunk)):
        yield chunk[: total - sent]


Handler = Callable[[LocalApp, Request], Awaitable[Response]]
_ROUTES: dict[str, dict[str, Handler]] = {
    "/api/v1/generate-image": {"POST": LocalApp._generate},
    "/api/v1/credits/balance": {"GET": LocalApp._balance},
    "/api/v1/gallery": {"GET": LocalApp._gallery},
    "/api/v1/models/status": {"POST": LocalApp._model_status},
    "/api/v1/models": {"GET": LocalApp._models},
    "/api/v1/pricing/summary": {"GET": LocalApp._pricing},
    "/openapi.json": {"GET": LocalApp._openapi},
    "/_local/stats": {"GET": LocalApp._local_stats},
    "/_local/faults": {"GET": LocalApp._local_faults, "POST": LocalApp._local_faults},
    "/_local/credits": {"POST": LocalApp._local_credits},
    "/_local/requests": {"GET": LocalApp._local_requests},
    "/_local/reset": {"POST": LocalApp._local_reset},
}
_PREFIXES: dict[str, dict[str, Handler]] = {"/api/v1/models/": {"GET": LocalApp._model},
                                            "/images/": {"GET": LocalApp._image}}
