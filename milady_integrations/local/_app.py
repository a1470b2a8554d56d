"""The ASGI app: the service's routes and answers on loopback, plus the ``/_local/*`` controls."""

from __future__ import annotations

import asyncio
import base64
import random
import time
import uuid
from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from . import _uvicorn
from ._bodies import (
    AUTH_REQUIRED,
    KEY_INACTIVE,
    KEY_INVALID,
    Refused,
    dumps,
    error_body,
    parse_json,
    proxy_page,
    rate_limited,
    validate_generate,
)
from ._faults import FaultError, Faults, ForcedStatus
from ._openapi import openapi_document
from ._pictures import IMAGE_SIZES, decode_source, draw_picture, encode_png, encode_webp
from ._state import MARKUP, ServerConfig, State, iso

_SEND = "milady.send"  # uvicorn's own send, kept for the drop fault
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
_ENDPOINTS = {"generate-image": "generate", "credits": "balance", "gallery": "gallery", "models": "models",
              "pricing": "pricing", "images": "image", "openapi.json": "openapi", "_local": "local"}


class LocalApp(Starlette):
    """Starlette plus what every answer needs: an ``x-request-id`` and the request counters."""

    local: State

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        parts = scope["path"].strip("/").split("/")
        endpoint = _ENDPOINTS.get(parts[2] if parts[:2] == ["api", "v1"] and len(parts) > 2 else parts[0], "other")
        with self.local.lock:
            self.local.requests[endpoint] += 1
        given = dict(scope["headers"]).get(b"x-request-id", b"")
        request_id = given if 0 < len(given) <= 128 else f"req_{uuid.uuid4().hex}".encode()
        scope[_SEND] = send

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id)]}
            await send(message)

        await super().__call__(scope, receive, send_with_id)


def create_app(config: ServerConfig | None = None) -> LocalApp:
    """A fresh app with its own state (``app.local``)."""
    app = LocalApp(routes=[
        Route("/api/v1/generate-image", _generate, methods=["POST"]),
        Route("/api/v1/credits/balance", _balance),
        Route("/api/v1/gallery", _gallery),
        Route("/api/v1/models/status", _model_status, methods=["POST"]),
        Route("/api/v1/models", _models),
        Route("/api/v1/models/{model:path}", _model),
        Route("/api/v1/pricing/summary", _pricing),
        Route("/images/{name}", _image),
        Route("/openapi.json", lambda r: _json(200, openapi_document(_base(r)))),
        Route("/_local/stats", _local_stats),
        Route("/_local/faults", _local_faults, methods=["GET", "POST"]),
        Route("/_local/credits", _local_credits, methods=["POST"]),
        Route("/_local/requests", lambda r: _json(200, {"requests": list(reversed(_state(r).log))})),
        Route("/_local/reset", _local_reset, methods=["POST"]),
    ])
    app.local = State(config or ServerConfig())
    return app


def _state(request: Request) -> State:
    return request.app.local  # type: ignore[no-any-return]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers, "application/json")


async def _pause(seconds: float, state: State, request: Request | None = None) -> None:
    """Sleep, ending early when the server stops or (if given) the client goes away."""
    deadline = time.monotonic() + seconds
    while not state.stopping.is_set() and (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(left, 0.05))
        if request is not None and await request.is_disconnected():
            return


def _auth(state: State, request: Request) -> str | Response:
    """The shared auth helper of the service's other routes: its own 401 and 403 bodies."""
    key = state.key_of(request.headers)
    if key is None:
        return _json(401, KEY_INVALID)
    return _json(403, KEY_INACTIVE) if key in state.config.inactive_keys else key


# ---------------------------------------------------------------- generate


async def _generate(request: Request) -> Response:
    state, cfg = _state(request), _state(request).config
    raw = await request.body()
    try:
        faults, forced = cfg.faults.for_request(request.headers)
    except FaultError as exc:
        return _json(400, {"error": f"Bad fault setting: {exc}"})
    variant = (faults.response_shape or cfg.response_shape) == "success"
    answer, entry = await _run(request, state, raw, faults, forced, variant)
    await _pause(faults.latency, state)  # after billing: a client that gave up can find the images
    if entry is not None:
        entry["status"] = answer.status_code  # None until answered
    return answer


async def _run(request: Request, state: State, raw: bytes, faults: Faults, forced: ForcedStatus | None,
               variant: bool) -> tuple[Response, dict[str, Any] | None]:
    cfg = state.config
    if forced is not None and not forced.ran:
        return _forced(state, forced, raw, variant), None
    # The service's order: rate limit, auth, JSON, body, price, reserve, generate, store, bill.
    limits, wait = state.rate(request.headers)
    if wait is not None:
        limited = rate_limited(cfg.rate_limit, cfg.rate_window, wait)
        return _json(429, limited, {**limits, "Retry-After": str(wait)}), None
    key = state.key_of(request.headers)
    if key is None:
        return _json(401, {"error": AUTH_REQUIRED}, limits), None
    with state.lock:
        state.counts["generate_validated"] += 1
    try:
        call = validate_generate(parse_json(raw), variant=variant)
    except ValueError as exc:
        return _json(500, {"error": str(exc)}, limits), None
    except Refused as refused:
        return _json(refused.status, refused.body, limits), None
    entry = {"time": iso(time.time()), "prompt": call.prompt, "enhancedPrompt": call.enhanced, "model": call.model,
             "aspectRatio": call.aspect_ratio, "stylePreset": call.style_preset, "numImages": call.num_images,
             "imageToImage": call.source_image is not None, "status": None}
    with state.lock:
        state.log.append(entry)
    reserved = cfg.billed(call.model, call.num_images)
    if not state.reserve(key, reserved):
        return _json(402, error_body(402, required=reserved, variant=variant), limits), entry
    created = state.created_at()
    made = [] if faults.body == "zero-images" else await _draw_all(state, call, faults)
    done = [m for m in made if m is not None]
    if variant and len(done) < len(made):
        done = []  # the other variant has no partial success: any failure releases everything
    state.settle(key, reserved, call.model, len(done), len(made) - len(done))
    if made and not done:
        return _json(500, error_body(500, required=0, variant=variant), limits), entry
    items = [_publish(request, state, key, call, created, data, label, faults) for data, label in done]
    if forced is not None:  # ran, billed and in the gallery; the answer says otherwise
        return _forced(state, forced, raw, variant), entry
    text = cfg.text if faults.text is None else faults.text
    if variant:
        charged, base = cfg.billed(call.model, len(items)), float(cfg.price(call.model) * len(items))
        cost = {"totalCost": charged, "baseTotalCost": base, "platformMarkup": round(charged - base, 6),
                "matchedEntry": {"modelId": call.model, "unit": "image", "unitPrice": float(cfg.price(call.model))}}
        images: list[dict[str, Any]] = [{"image": i["image"], **({"url": i["url"]} if i["url"] else {}), "text": text}
                                        for i in items]
        body: dict[str, Any] = {"success": True, "model": call.model, "images": images, "cost": cost}
    else:
        images = [{"url": i["url"], "text": text, "mimeType": i["mime"], "fileSize": i["size"]} if i["url"] else
                  {"image": i["image"], "text": text, "mimeType": i["mime"]} for i in items]
        body = {"images": images, "numImages": len(images)}
    return _spoil(body, faults, limits), entry


async def _draw_all(state: State, call: Any, faults: Faults) -> list[tuple[bytes, str] | None]:
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
        return encode_webp(picture, state.config.webp_quality), "image/png" if faults.wrong_mime else "image/webp"

    return list(await asyncio.gather(*(asyncio.to_thread(one, i) for i in range(call.num_images))))


def _publish(request: Request, state: State, key: str, call: Any, created: float, data: bytes, label: str,
             faults: Faults) -> dict[str, Any]:
    """Store one image and record it in the key's gallery (unless storing fails on purpose)."""
    item: dict[str, Any] = {"url": None, "mime": label, "size": len(data),
                            "image": f"data:{label};base64,{base64.b64encode(data).decode()}"}
    if faults.storage_failure:
        return item
    item["url"] = url = f"{_base(request)}/images/{state.store(data, label, faults.image_url)}.{label.split('/')[1]}"
    width, height = IMAGE_SIZES.get(call.aspect_ratio, IMAGE_SIZES["1:1"])
    state.record(key, {
        "id": str(uuid.uuid4()), "type": "image", "url": url, "thumbnailUrl": url, "prompt": call.prompt,
        "negativePrompt": None, "model": call.model, "provider": call.model.split("/")[0], "status": "completed",
        "createdAt": iso(created), "completedAt": iso(time.time()), "dimensions": {"width": width, "height": height},
        "mimeType": label, "fileSize": str(len(data)),
        "metadata": {"aspectRatio": call.aspect_ratio, "stylePreset": call.style_preset},
    })
    return item


def _forced(state: State, forced: ForcedStatus, raw: bytes, variant: bool) -> Response:
    """A forced answer: the service's body for the status (or a proxy's page, or nothing)."""
    cfg, headers = state.config, {}
    status = 401 if forced.status == 500 and "API key" in (forced.message or "") else forced.status
    if status == 429:
        headers = state.limit_headers(0, time.time() + (forced.retry_after or cfg.rate_window))
        if forced.retry_after is not None:
            headers["Retry-After"] = str(forced.retry_after)
        payload = rate_limited(cfg.rate_limit, cfg.rate_window, forced.retry_after)
    else:
        try:  # a forced 402 says what this body would cost, when it can be read
            body = parse_json(raw)
            call = validate_generate(body, variant=False)
            required = cfg.billed(call.model, call.num_images)
        except (ValueError, Refused):
            required = cfg.billed("", 1)
        payload = error_body(status, required=required, variant=variant, message=forced.message)
    kind = forced.body or ("html" if status in (502, 504) else "json")
    if kind == "empty":
        return Response(b"", status, headers)
    if kind == "html":
        return Response(proxy_page(status), status, headers, "text/html")
    return _json(status, payload, headers)


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
        await _uvicorn.drop_connection(scope.get(_SEND))


# ---------------------------------------------------------------- the service's other routes


async def _balance(request: Request) -> Response:
    key = _auth(_state(request), request)
    return key if isinstance(key, Response) else _json(200, {"balance": _state(request).balance(key)})


async def _gallery(request: Request) -> Response:
    state = _state(request)
    key = _auth(state, request)
    if isinstance(key, Response):
        return key
    query, kind = request.query_params, request.query_params.get("type")
    limit, offset = query.get("limit", "100"), query.get("offset", "0")
    issues = [{"path": [name], "message": message} for name, bad, message in (
        ("type", kind not in (None, "image", "video"), "Invalid enum value. Expected 'image' | 'video'"),
        ("limit", not limit.isdigit() or not 1 <= int(limit) <= 1000, "limit must be an integer from 1 to 1000"),
        ("offset", not offset.isdigit(), "offset must be an integer from 0")) if bad]
    if issues:
        return _json(400, {"error": "Validation error", "details": issues})
    with state.lock:
        mine = [i for i in reversed(state.gallery.get(key, [])) if kind in (None, i["type"])]
    mine.sort(key=lambda i: i["createdAt"], reverse=True)
    start, end = int(offset), int(offset) + int(limit)
    return _json(200, {"items": mine[start:end], "count": len(mine[start:end]), "offset": start,
                       "limit": int(limit), "hasMore": end < len(mine)})


async def _model_status(request: Request) -> Response:
    cfg = _state(request).config
    try:
        ids = parse_json(await request.body())
    except ValueError:
        ids = None
    ids = ids.get("modelIds") if isinstance(ids, dict) else None
    if not isinstance(ids, list) or not ids:
        return _json(400, {"error": "modelIds array is required"})
    if len(ids) > 50:
        return _json(400, {"error": "Maximum 50 models can be checked at once"})
    if not all(isinstance(i, str) and i.strip() for i in ids):
        return _json(400, {"error": "Each modelId must be a non-empty string"})
    models = []
    for model in ids:
        reason = cfg.unavailable.get(model) or cfg.unavailable.get(model.split("/")[0] + "/")
        if reason is None and model not in cfg.prices:
            reason = "Model not found"
        models.append({"modelId": model, "available": reason is None, **({"reason": reason} if reason else {})})
    return _json(200, {"models": models, "timestamp": int(time.time() * 1000)})


def _entry(cfg: ServerConfig, model: str) -> dict[str, Any]:
    owner = model.split("/")[0]
    return {"id": model, "object": "model", "created": 1735689600, "owned_by": owner, "type": "image",
            "name": model.split("/")[-1], "pricing": {"image": float(cfg.price(model)), "unit": "image"}}


async def _models(request: Request) -> Response:
    cfg = _state(request).config
    return _json(200, {"object": "list", "data": [_entry(cfg, m) for m in cfg.prices]})


async def _model(request: Request) -> Response:
    state = _state(request)
    key, model = _auth(state, request), request.path_params["model"]
    if isinstance(key, Response):
        return key
    if model not in state.config.prices:
        return _json(404, {"error": f"Model not found: {model}"})
    return _json(200, _entry(state.config, model))


async def _pricing(request: Request) -> Response:
    cfg = _state(request).config
    prices = [cfg.billed(m) for m in cfg.prices]
    summary = {"unit": "image", "isVariable": True, "estimatedRange": {"min": min(prices), "max": max(prices)},
               "description": f"Per image; the model's catalogue price x {MARKUP}"}
    return _json(200, {"asOf": iso(time.time()), "pricing": {"generate-image": summary}})


async def _image(request: Request) -> Response:
    state = _state(request)
    stored = state.image(str(request.path_params["name"]).rsplit(".", 1)[0])
    if stored is None or stored.fault == "404":
        return Response(b"Not Found", 404, media_type="text/plain")
    if stored.fault == "hang":
        await _pause(state.config.hang_seconds, state, request)
        return Response(b"", 504)
    if stored.fault == "not-image":
        return Response(b"<!DOCTYPE html><html><body>This is not an image</body></html>", 200, _IMMUTABLE, stored.mime)
    if stored.fault in ("oversize", "oversize-chunked"):
        total = max(state.config.oversize_bytes, len(stored.data))
        size = {"Content-Length": str(total)} if stored.fault == "oversize" else {}
        return StreamingResponse(_oversize(stored.data, total), 200, {**_IMMUTABLE, **size}, stored.mime)
    return Response(stored.data, 200, _IMMUTABLE, stored.mime)


async def _oversize(head: bytes, total: int) -> Any:
    chunk = bytes(1024 * 1024)  # one zero buffer, sent again and again: never ``total`` bytes in memory
    yield head
    for sent in range(len(head), total, len(chunk)):
        yield chunk[: total - sent]


# ---------------------------------------------------------------- local controls (no auth)


async def _local_reset(request: Request) -> Response:
    _state(request).reset()
    return _json(200, {"reset": True})


async def _local_stats(request: Request) -> Response:
    stats = _state(request).stats()
    return _json(200, {**asdict(stats), "generate_requests": stats.generate_requests})


async def _local_faults(request: Request) -> Response:
    faults = _state(request).config.faults
    if request.method == "POST":
        try:
            faults.apply_json(parse_json(await request.body()))
        except ValueError as exc:  # FaultError included
            return _json(400, {"error": str(exc)})
    return _json(200, faults.to_dict())


async def _local_credits(request: Request) -> Response:
    try:
        body = parse_json(await request.body())
    except ValueError:
        body = None
    key, amount = (body.get("key"), body.get("amount")) if isinstance(body, dict) else (None, None)
    if not isinstance(key, str) or not key or isinstance(amount, bool) or not isinstance(amount, (int, float)):
        return _json(400, {"error": 'send {"key": "<api key>", "amount": <number>}'})
    return _json(200, {"key": key, "balance": _state(request).balance(key, float(amount))})
