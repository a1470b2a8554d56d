"""The only place that performs I/O for a flow: once blocking, once async."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx

from ._flow import Addresses, BodyTooLarge, Flow, Outcome, Received, Resolve, Send, Sleep, T


def _send_sync(http: httpx.Client, action: Send) -> Outcome:
    started = time.monotonic()
    try:
        response = http.send(action.request, stream=True, follow_redirects=False)
        # httpx takes timeouts per request through extensions.
    except httpx.TransportError as exc:
        return exc
    try:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if action.max_bytes is not None and size > action.max_bytes:
                return BodyTooLarge(size)
            chunks.append(chunk)
    except httpx.TransportError as exc:
        return exc
    finally:
        response.close()
    return Received(response.status_code, response.headers, b"".join(chunks), time.monotonic() - started)


async def _send_async(http: httpx.AsyncClient, action: Send) -> Outcome:
    started = time.monotonic()
    try:
        response = await http.send(action.request, stream=True, follow_redirects=False)
    except httpx.TransportError as exc:
        return exc
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if action.max_bytes is not None and size > action.max_bytes:
                return BodyTooLarge(size)
            chunks.append(chunk)
    except httpx.TransportError as exc:
        return exc
    finally:
        await response.aclose()
    return Received(response.status_code, response.headers, b"".join(chunks), time.monotonic() - started)


def _resolve_sync(host: str) -> Outcome:
    try:
        return Addresses(tuple(str(info[4][0]) for info in socket.getaddrinfo(host, None)))
    except OSError as exc:
        return exc


async def _resolve_async(host: str) -> Outcome:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError as exc:
        return exc
    return Addresses(tuple(str(info[4][0]) for info in infos))


def _with_timeout(action: Send) -> Send:
    action.request.extensions["timeout"] = action.timeout.as_dict()
    return action


def run_sync(flow: Flow[T], http: httpx.Client) -> T:
    outcome: Outcome | None = None
    try:
        while True:
            action = flow.send(outcome)
            if isinstance(action, Sleep):
                time.sleep(action.seconds)
                outcome = None
            elif isinstance(action, Resolve):
                outcome = _resolve_sync(action.host)
            else:
                outcome = _send_sync(http, _with_timeout(action))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        flow.close()


async def run_async(flow: Flow[T], http: httpx.AsyncClient) -> T:
    outcome: Outcome | None = None
    try:
        while True:
            action = flow.send(outcome)
            if isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
                outcome = None
            elif isinstance(action, Resolve):
                outcome = await _resolve_async(action.host)
            else:
                outcome = await _send_async(http, _with_timeout(action))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        flow.close()
