"""The only place that performs I/O for a flow: once blocking, once async.

``resolve`` is a seam: tests pass a scripted resolver (a name that answers differently
the second time) without touching the network.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import httpx

from ._flow import Addresses, BodyTooLarge, Flow, Outcome, Received, Resolve, Send, Sleep, T

SyncResolver = Callable[[str], Outcome]
AsyncResolver = Callable[[str], Awaitable[Outcome]]


def _send_sync(http: httpx.Client, action: Send) -> Outcome:
    started, cap = time.monotonic(), action.max_bytes
    try:
        # API answers are small: read in one go; only downloads take the capped chunk loop (it costs per request).
        response = http.send(action.request, stream=cap is not None, follow_redirects=False)
        body: bytes | bytearray = response.content if cap is None else bytearray()
        if cap is not None:
            try:
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > cap:
                        return BodyTooLarge(len(body))
            finally:
                response.close()
    except httpx.TransportError as exc:
        return exc
    return Received(response.status_code, response.headers, bytes(body), time.monotonic() - started)


async def _send_async(http: httpx.AsyncClient, action: Send) -> Outcome:
    started, cap = time.monotonic(), action.max_bytes
    try:
        response = await http.send(action.request, stream=cap is not None, follow_redirects=False)
        body: bytes | bytearray = response.content if cap is None else bytearray()
        if cap is not None:
            try:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > cap:
                        return BodyTooLarge(len(body))
            finally:
                await response.aclose()
    except httpx.TransportError as exc:
        return exc
    return Received(response.status_code, response.headers, bytes(body), time.monotonic() - started)


def resolve_sync(host: str) -> Outcome:
    try:
        return Addresses(tuple(str(info[4][0]) for info in socket.getaddrinfo(host, None)))
    except OSError as exc:
        return exc


async def resolve_async(host: str) -> Outcome:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError as exc:
        return exc
    return Addresses(tuple(str(info[4][0]) for info in infos))


def _with_timeout(action: Send) -> Send:
    # httpx takes timeouts per request through extensions.
    action.request.extensions["timeout"] = action.timeout.as_dict()
    return action


def run_sync(flow: Flow[T], http: httpx.Client, *, resolve: SyncResolver = resolve_sync) -> T:
    outcome: Outcome | None = None
    try:
        while True:
            action = flow.send(outcome)
            if isinstance(action, Sleep):
                time.sleep(action.seconds)
                outcome = None
            elif isinstance(action, Resolve):
                outcome = resolve(action.host)
            else:
                outcome = _send_sync(http, _with_timeout(action))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        flow.close()


async def run_async(flow: Flow[T], http: httpx.AsyncClient, *, resolve: AsyncResolver = resolve_async) -> T:
    outcome: Outcome | None = None
    try:
        while True:
            action = flow.send(outcome)
            if isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
                outcome = None
            elif isinstance(action, Resolve):
                outcome = await resolve(action.host)
            else:
                outcome = await _send_async(http, _with_timeout(action))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        flow.close()
