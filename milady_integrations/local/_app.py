"""The ASGI app: the service's HTTP contract on loopback, plus ``/_local/*`` controls."""

from __future__ import annotations

import asyncio
import base64
import random
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from ..schema import NUM_IMAGES_MAX, NUM_IMAGES_MIN
from ._bodies import (
    AUTH_REQUIRED,
    INSUFFICIENT_CREDITS,
    NO_IMAGES,
    GenerateCall,
    RequestRefused,
    dumps,
    forced_answer,
    parse_json,
    rate_limited_body,
    validate_generate,
)
from ._config import ServerConfig
from ._faults import FaultError, RequestFaults
from ._ledger import cost
from ._openapi import openapi_document
from ._pictures import decode_source, draw_picture, encode_png, encode_webp
from ._ratelimit import caller_key
from ._state import ServerState
from ._store import StoredImage

GENERATE_PATH = "/api/v1/generate-image"
BALANCE_PATH = "/api/v1/credits/balance"
IMAGES_PREFIX = "/images/"

# Where the outer app leaves the server's per-connection object, so a fault
# can drop the connection itself (an error answer would be a clean HTTP reply).
_CYCLE_KEY = "milady.cycle"
_REQUEST_ID_KEY = "milady.request_id"

_NOT_IMAGE = b"<!DOCTYPE html><html><body><h1>This is not an image</h1></body></html>\n"
_CHUNK = bytes(1024 * 1024)
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


def _endpoint(path: str) -> str:
    if path == GENERATE_PATH:
        return "generate"
    if path == BALANCE_PATH:
        return "balance"
    if path.startswith(IMAGES_PREFIX):
        return "image"
    if path == "/openapi.json":
        return "openapi"
    if path.startswith("/_local/"):
        return "local"
    return "other"


class LocalApp(Starlette):
    """Starlette plus what every answer needs: an ``x-request-id`` and the request counters."""

    local: ServerState

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        self.local.counters.request(_endpoint(scope["path"]))
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 128 else f"req_{uuid.uuid4().hex}"
        scope[_REQUEST_ID_KEY] = request_id
        scope[_CYCLE_KEY] = getattr(send, "__self__", None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, send_with_id)


def create_app(config: ServerConfig | None = None) -> LocalApp:
    """A fresh app with its own balances, counters and images; ``app.local`` is its state."""
    app = LocalApp(
        routes=[
            Route(GENERATE_PATH, _generate, methods=["POST"]),
            Route(BALANCE_PATH, _balance, methods=["GET"]),
            Route(IMAGES_PREFIX + "{name}", _image, methods=["GET"]),
            Route("/openapi.json", _openapi, methods=["GET"]),
            Route("/_local/stats", _local_stats, methods=["GET"]),
            Route("/_local/faults", _local_faults, methods=["GET", "POST"]),
            Route("/_local/credits", _local_credits, methods=["POST"]),
            Route("/_local/reset", _local_reset, methods=["POST"]),
        ]
    )
    app.local = ServerState.from_config(config or ServerConfig())
    return app


def _state(request: Request) -> ServerState:
    app: LocalApp = request.app
    return app.local


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers, "application/json")


async def _pause(seconds: float, state: ServerState, request: Request | None = None) -> None:
    """Sleep, but end early when the server stops or (if given) the client goes away."""
    deadline = time.monotonic() + seconds
    while not state.stopping.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 0.05))
        if request is not None and await request.is_disconnected():
            return


# ---------------------------------------------------------------- generate


@dataclass(frozen=True)
class _Made:
    data: bytes
    label: str  # the MIME type the answer claims


async def _generate(request: Request) -> Response:
    state = _state(request)
    raw = await request.body()
    try:
        faults = state.config.faults.for_request(request.headers)
    except FaultError as exc:
        return _json(400, {"error": f"Bad fault setting: {exc}"})
    if faults.latency:
        await _pause(faults.latency, state)
    if faults.forced is not None:
        answer = forced_answer(
            faults.forced,
            required=_forced_required(state, raw),
            limit=state.config.rate_limit,
            window=state.config.rate_window,
            now=time.time(),
        )
        return Response(answer.body, answer.status, answer.headers, answer.media_type)

    # The service's order: rate limit, then auth, then the body.
    decision = state.limiter.check(caller_key(request.headers))
    limit_headers = decision.headers()
    if not decision.allowed:
        headers = {**limit_headers, "Retry-After": str(decision.retry_after or 60)}
        return _json(429, rate_limited_body(decision, decision.retry_after), headers)
    key = state.key_of(request.headers)
    if key is None:
        return _json(401, {"error": AUTH_REQUIRED}, limit_headers)
    state.counters.validated()
    try:
        parsed = parse_json(raw)
    except ValueError as exc:
        return _json(500, {"error": str(exc)}, limit_headers)
    try:
        call = validate_generate(parsed, strict_models=state.config.strict_models)
    except RequestRefused as exc:
        return _json(exc.status, exc.body, limit_headers)

    price = state.config.price(call.model)
    total = cost(price, call.num_images)
    # Reserve first, as the service does, so concurrent requests cannot overspend.
    if not state.ledger.reserve(key, total):
        return _json(402, {"error": INSUFFICIENT_CREDITS, "required": total}, limit_headers)
    shape = faults.response_shape or state.config.response_shape
    if faults.body == "zero-images":
        state.ledger.refund(key, total)
        return _json(200, _empty_body(shape, call.model), limit_headers)

    made = await _draw_all(state, call, faults)
    done = [m for m in made if m is not None]
    state.counters.images(len(done), len(made) - len(done))
    state.ledger.refund(key, cost(price, call.num_images - len(done)))
    if not done:
        return _json(500, {"error": NO_IMAGES}, limit_headers)
    state.counters.billed(len(done), price)

    base = str(request.base_url).rstrip("/")
    published = [_publish(state, base, m, faults, i) for i, m in enumerate(done)]
    body = _body(shape, call, published, cost(price, len(done)))
    return _deliver(body, faults, limit_headers)


def _forced_required(state: ServerState, raw: bytes) -> float:
    """The 402 ``required`` for a forced answer: what this body would cost, if it can be read."""
    try:
        body = parse_json(raw)
    except ValueError:
        body = None
    fields = body if isinstance(body, dict) else {}
    model, count = fields.get("model"), fields.get("numImages", 1)
    valid_count = (
        isinstance(count, int) and not isinstance(count, bool) and NUM_IMAGES_MIN <= count <= NUM_IMAGES_MAX
    )
    return cost(state.config.price(model if isinstance(model, str) else ""), count if valid_count else 1)


def _empty_body(shape: str, model: str) -> dict[str, Any]:
    if shape == "success":
        return {"success": True, "model": model, "images": [], "cost": 0}
    return {"images": [], "numImages": 0}


async def _draw_all(state: ServerState, call: GenerateCall, faults: RequestFaults) -> list[_Made | None]:
    """Every image of the request at once, off the event loop; None for each failure."""
    source = None
    if call.source_image is not None:
        try:
            source = await asyncio.to_thread(decode_source, call.source_image)
        except ValueError:
            return [None] * call.num_images  # the model cannot read it either

    quality = state.config.webp_quality

    def one(index: int) -> _Made | None:
        if index < faults.fail_images or random.random() < faults.failure_rate:
            return None
        picture = draw_picture(
            enhanced=call.enhanced,
            prompt=call.prompt,
            model=call.model,
            preset=call.style_preset,
            aspect_ratio=call.aspect_ratio,
            index=index,
            source=source,
        )
        label = "image/png" if faults.storage_failure or faults.wrong_mime else "image/webp"
        # The storage fallback carries the model's PNG; "wrong MIME" keeps WebP bytes under a PNG label.
        png = faults.storage_failure and not faults.wrong_mime
        return _Made(encode_png(picture) if png else encode_webp(picture, quality), label)

    return list(await asyncio.gather(*(asyncio.to_thread(one, i) for i in range(call.num_images))))


@dataclass(frozen=True)
class _Published:
    made: _Made
    url: str | None  # None: storage failed, the answer carries a data URL

    @property
    def data_url(self) -> str:
        return f"data:{self.made.label};base64,{base64.b64encode(self.made.data).decode()}"


def _publish(state: ServerState, base: str, made: _Made, faults: RequestFaults, index: int) -> _Published:
    if faults.storage_failure:
        return _Published(made, None)
    image_id = state.store.put(StoredImage(made.data, made.label, faults.image_url), index=index)
    extension = made.label.split("/", 1)[1]
    return _Published(made, f"{base}{IMAGES_PREFIX}{image_id}.{extension}")


def _body(shape: str, call: GenerateCall, published: list[_Published], charged: float) -> dict[str, Any]:
    # ``text`` is the prompt the service would have sent its model.
    if shape == "success":
        images: list[dict[str, Any]] = [
            {"image": p.data_url, **({"url": p.url} if p.url else {}), "text": call.enhanced} for p in published
        ]
        return {"success": True, "model": call.model, "images": images, "cost": charged}
    images = []
    for p in published:
        if p.url is None:  # the service's fallback: the whole image as a data URL, no url, no size
            images.append({"image": p.data_url, "text": call.enhanced, "mimeType": p.made.label})
        else:
            images.append({"url": p.url, "text": call.enhanced, "mimeType": p.made.label, "fileSize": len(p.made.data)})
    return {"images": images, "numImages": len(published)}


def _deliver(body: dict[str, Any], faults: RequestFaults, headers: dict[str, str]) -> Response:
    """The 200 answer, spoiled as the faults ask."""
    if faults.body == "no-url":
        body["images"] = [{k: v for k, v in item.items() if k not in ("url", "image")} for item in body["images"]]
    raw = dumps(body)
    if faults.body == "truncated":
        raw = raw[: max(1, len(raw) // 2)]
    elif faults.body == "invalid-json":
        raw = raw[:-1] + b",}"
    elif faults.body == "empty-object":
        raw = b"{}"
    if faults.drop is not None:
        return _Dropped(faults.drop, raw, headers)
    return Response(raw, 200, headers, "application/json")


class _Dropped(Response):
    """Breaks the connection instead of answering (the work was done and billed)."""

    def __init__(self, mode: str, content: bytes, headers: dict[str, str]) -> None:
        super().__init__(content, 200, headers, "application/json")
        self.mode = mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.mode == "mid-body":
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            half = self.body[: len(self.body) // 2]
            await send({"type": "http.response.body", "body": half, "more_body": True})
        cycle = scope.get(_CYCLE_KEY)
        transport = getattr(cycle, "transport", None)
        if transport is None:
            # Not under uvicorn: an exception after the start line also breaks the reply.
            raise ConnectionAbortedError("connection dropped on purpose (local server fault)")
        transport.close()
        # Let the server notice the disconnect, so it does not try to answer 500.
        for _ in range(200):
            if getattr(cycle, "disconnected", True):
                break
            await asyncio.sleep(0.005)


# ---------------------------------------------------------------- other endpoints


async def _balance(request: Request) -> Response:
    state = _state(request)
    key = state.key_of(request.headers)
    if key is None:
        return _json(401, {"error": AUTH_REQUIRED})
    return _json(200, {"balance": state.ledger.balance(key)})


async def _image(request: Request) -> Response:
    state = _state(request)
    image_id = str(request.path_params["name"]).rsplit(".", 1)[0]
    stored = state.store.get(image_id)
    if stored is None or stored.fault == "404":
        return Response(b"Not Found", 404, media_type="text/plain")
    if stored.fault == "hang":
        await _pause(state.config.hang_seconds, state, request)
        return Response(b"", 504)
    if stored.fault == "not-image":
        return Response(_NOT_IMAGE, 200, _IMMUTABLE, stored.mime_type)
    if stored.fault in ("oversize", "oversize-chunked"):
        total = max(state.config.oversize_bytes, len(stored.data))
        headers = dict(_IMMUTABLE)
        if stored.fault == "oversize":
            headers["Content-Length"] = str(total)
        return StreamingResponse(_oversize(stored.data, total), 200, headers, stored.mime_type)
    return Response(stored.data, 200, _IMMUTABLE, stored.mime_type)


async def _oversize(head: bytes, total: int) -> Any:
    # Streamed from one shared zero buffer: the server never holds ``total`` bytes.
    yield head
    sent = len(head)
    while sent < total:
        chunk = _CHUNK if total - sent >= len(_CHUNK) else _CHUNK[: total - sent]
        yield chunk
        sent += len(chunk)


async def _openapi(request: Request) -> Response:
    return _json(200, openapi_document(str(request.base_url).rstrip("/")))


async def _local_stats(request: Request) -> Response:
    stats = _state(request).stats()
    return _json(200, {**asdict(stats), "generate_requests": stats.generate_requests})


async def _local_faults(request: Request) -> Response:
    faults = _state(request).config.faults
    if request.method == "POST":
        try:
            faults.apply_json(parse_json(await request.body()))
        except (FaultError, ValueError) as exc:
            return _json(400, {"error": str(exc)})
    return _json(200, faults.to_dict())


async def _local_credits(request: Request) -> Response:
    state = _state(request)
    try:
        body = parse_json(await request.body())
    except ValueError as exc:
        return _json(400, {"error": str(exc)})
    key = body.get("key") if isinstance(body, dict) else None
    amount = body.get("amount") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key or isinstance(amount, bool) or not isinstance(amount, (int, float)):
        return _json(400, {"error": 'send {"key": "<api key>", "amount": <number>}'})
    state.ledger.set(key, float(amount))
    return _json(200, {"key": key, "balance": state.ledger.balance(key)})


async def _local_reset(request: Request) -> Response:
    state = _state(request)
    state.config.faults.clear()
    state.counters.reset()
    state.limiter.reset()
    return _json(200, {"reset": True})
