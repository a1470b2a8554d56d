"""The `milady` command: generate, batch, models, serve, demo, mcp. Exit codes say what went wrong."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from . import errors as e
from ._config import RECOVER_FOR
from ._version import __version__
from .calls import FACE_OPTIONS, model_about, models_now, read_what_came, unread_note
from .catalogue import MODELS
from .client import AsyncMiladyClient
from .config_file import CONFIG_FILE_NAME, resolve_endpoint
from .errors import InvalidRequestError, MiladyError
from .images import write_image
from .offline import service_or_local
from .progress import Tick, wait_with_progress
from .request import FIELDS, FieldProblem, check_request
from .results import ImageGenerationResult
from .wording import model_state

#: One exit code per kind of failure, so scripts can react without parsing text (argparse uses 2 too).
EXIT_CODES: dict[type[MiladyError], int] = {
    e.InvalidRequestError: 2, e.AuthenticationError: 3, e.InsufficientCreditsError: 4, e.RateLimitError: 5,
    e.GenerationFailedError: 6, e.ServiceUnavailableError: 6, e.OutcomeUnknownError: 6, e.UnexpectedResponseError: 6,
    e.MiladyConnectionError: 7, e.MiladyTimeoutError: 7, e.ImageDownloadError: 8,
}


def exit_code_for(error: MiladyError) -> int:
    return next((EXIT_CODES[cls] for cls in type(error).__mro__ if cls in EXIT_CODES), 1)


#: What the user types for each request field (the face's words for the core's fields).
FLAGS = {"prompt": "prompt", "model": "--model", "aspect_ratio": "--aspect-ratio", "style_preset": "--style",
         "num_images": "-n", "source_image": "--source"}
UNLISTED_FLAG = "--allow-unlisted-model"
HOST_HELP = "address to listen on (default: 127.0.0.1, this machine only)"


def _slug(prompt: str) -> str:
    # \w is Unicode-aware: a prompt in Japanese keeps its words in the file name.
    words = re.sub(r"[^\w]+", "-", prompt.lower()).strip("-_")
    return words[:40].rstrip("-_") or "image"


def _whole_number(text: str) -> int | str:
    # Left as text when it is not one, so the core reports it with every other problem.
    try:
        return int(text)
    except ValueError:
        return text


def _account(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """Key and URL of ``--account NAME`` (from milady_config.json: MILADY_CONFIG, else this folder's); else none."""
    if not args.account:
        return None, args.base_url
    found = resolve_endpoint([Path.cwd() / CONFIG_FILE_NAME], account=args.account)
    return found.api_key, args.base_url or found.base_url


def _bad_output(folder: object, why: str, allowed: str = "a writable folder") -> InvalidRequestError:
    return InvalidRequestError(f"-o {str(folder)!r} {why}", field="output", value=str(folder), allowed=allowed)


def _check_output(folder: str) -> Path:
    """The output folder, checked before anything is spent (a file there would lose paid images)."""
    path = Path(folder)
    if path.suffix.lower() in (".png", ".webp", ".jpg", ".jpeg", ".gif", ".bmp") and not path.is_dir():
        why = "looks like a file name: -o takes a folder (images are named after the prompt)"
        raise _bad_output(folder, why, "a folder")
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise _bad_output(folder, f"is not a folder: {existing} is a file", "a folder")
    if existing is not None and not os.access(existing, os.W_OK):
        raise _bad_output(folder, "cannot be written to")
    return path


def _prepare_output(path: Path) -> None:
    """Make the folder and write a probe file in it: permission bits alone do not tell (root, /proc, mounts)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise _bad_output(path, f"cannot be written to ({exc.strerror or type(exc).__name__})") from None


@dataclass
class _Spending:
    """Whether a request that may be billed is out: Ctrl-C says so, or says nothing was sent."""

    sent: bool = False
    saved: bool = False

    def interrupted(self) -> str:
        if not self.sent:
            return "interrupted before anything was sent: nothing was billed"
        if self.saved:
            return "interrupted after the images were saved"
        return "interrupted: the request had already been sent, so it may still be generated and billed " \
            "(its images were not saved)"


def _waiting(stream: TextIO) -> Callable[[Tick], None]:
    """The core's waiting line, redrawn in place on a terminal; said once in a log."""
    said: list[str] = []

    def show(tick: Tick) -> None:
        if stream.isatty():
            print(f"\r{tick.text}\x1b[K", end="", file=stream, flush=True)
        elif not said:
            said.append(tick.text)
            print(tick.text, file=stream, flush=True)

    return show


async def _generate(args: argparse.Namespace, out: TextIO, err: TextIO, spending: _Spending) -> int:
    # Everything that could fail after spending is checked before anything starts.
    folder = _check_output(args.output)
    options = {name: getattr(args, name) for name in FIELDS if name != "prompt"}
    request = check_request(args.prompt, **options, allow_unlisted_model=args.allow_unlisted_model)
    _prepare_output(folder)
    for note in request.notes:
        print(f"warning: {note}", file=err, flush=True)
    api_key, base_url = _account(args)
    with service_or_local(api_key=api_key, base_url=base_url) as endpoint:
        if endpoint.banner:
            print(f"NOTE: {endpoint.banner}", file=err, flush=True)
        # As every face: a request that may have run is looked up in the gallery before failing (never paid twice).
        async with AsyncMiladyClient(endpoint.api_key, base_url=endpoint.base_url, **FACE_OPTIONS) as client:
            client.config.require_key()  # no key: said alone, before any request or waiting line
            unavailable = await client.model_note(request.model)
            if unavailable:
                print(f"warning: {unavailable}", file=err, flush=True)
            started = time.monotonic()
            try:
                spending.sent = True
                result: ImageGenerationResult = await wait_with_progress(
                    client.send(request), images=request.num_images, model=request.model, show=_waiting(err),
                    client=client)
            finally:
                if err.isatty():
                    print(file=err)
            print(f"done in {time.monotonic() - started:.1f} s", file=err, flush=True)
            if result.partial:
                print(f"warning: {result.partial_note}", file=err)
            for line in result.notes:
                if line not in request.notes:  # those were said before sending
                    print(f"note: {line}", file=err)
            stem = f"{_slug(args.prompt)}-{time.strftime('%Y%m%d-%H%M%S')}"
            # Every paid image that can be read is on disk before a path is printed: a reader that stops
            # early (| head) loses none, and one unreadable image costs none of the others.
            datas, unread = await read_what_came(client, result)
            paths = [write_image(folder / f"{stem}-{index}", data) for index, data in enumerate(datas, start=1)]
            spending.saved = True
            for path in paths:
                print(path, file=out, flush=True)
            if result.text:
                print(f"service text: {result.text}", file=err)
            if unread:
                print(f"error: {unread_note(unread, where='the image URLs below')}", file=err)
                for url in result.urls:
                    print(f"  {url}", file=err)
                return exit_code_for(unread[0])
    return 0


async def _batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``milady batch``: check every line first, then run them; exit nonzero if any failed."""
    from .batch import MANIFEST_NAME, ProgressBar, read_batch, run_batch

    folder = _check_output(args.output)
    lines = read_batch(args.prompts, allow_unlisted_model=args.allow_unlisted_model)
    api_key, base_url = _account(args)
    _prepare_output(folder)
    stop, main_task, loop = asyncio.Event(), asyncio.current_task(), asyncio.get_running_loop()
    manifest = Path(args.output) / MANIFEST_NAME

    def on_interrupt() -> None:
        # First Ctrl-C: start nothing new, let requests in flight finish and be saved.
        # Second: stop at once (the manifest holds only lines whose files are all written).
        if stop.is_set() and main_task is not None:
            main_task.cancel()
            return
        stop.set()
        print("\nstopping: finishing requests in flight (Ctrl-C again to abandon them)", file=err, flush=True)

    # Not available on Windows or off the main thread: there Ctrl-C stops at once, which is safe too.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        with service_or_local(api_key=api_key, base_url=base_url) as endpoint:
            if endpoint.banner:
                print(f"NOTE: {endpoint.banner}", file=err, flush=True)
            bar = ProgressBar(err)
            try:
                summary = await run_batch(
                    lines, args.output, api_key=endpoint.api_key, base_url=endpoint.base_url, progress=bar, stop=stop,
                    concurrency=args.concurrency, allow_unlisted_model=args.allow_unlisted_model,
                    urls_temporary=endpoint.local,
                )
            finally:
                bar.close()
    except asyncio.CancelledError:
        abandoned = "requests that were running were abandoned and may still be billed (run again to redo their lines)"
        print(f"interrupted: finished lines are in {manifest}; {abandoned}", file=err)
        return 130
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)
    print(*summary.lines(), f"manifest: {manifest}", sep="\n", file=err, flush=True)
    if summary.stopped == "interrupted":
        saved = "every request that had been sent finished and was saved; nothing is still running"
        print(f"interrupted: {saved}. Run the same command again to do the lines not started.", file=err)
        return 130
    # One kind of failure: its own exit code; several: 1.
    codes = {exit_code_for(o.error) for o in summary.failed if o.error is not None}
    return codes.pop() if len(codes) == 1 else 0 if summary.ok else 1


def _concurrency(text: str) -> int:
    if not 1 <= (value := int(text)) <= 64:
        raise argparse.ArgumentTypeError("concurrency must be from 1 to 64")
    return value


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import errno
    import ipaddress

    from .local import Faults, ServerConfig, serve

    keys = set(args.api_key or ())
    try:
        loopback = args.host == "localhost" or ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = False
    if not keys and not args.allow_any_key and not loopback:
        print(f"error: refusing to serve {args.host} to others with no key: add --api-key KEY (or --allow-any-key)",
              file=err)
        return 2
    faults = Faults(latency=args.latency, failure_rate=args.failure_rate)
    config = ServerConfig(api_keys=keys or None, initial_credits=args.credits, rate_limit=args.rate_limit,
                          faults=faults)
    url = f"http://{args.host}:{args.port}"
    # Key values are never printed: the user typed them; without keys any key works.
    key = "<one of your --api-key values>" if keys else config.local_key
    which = f"only the {len(keys)} key(s) given with --api-key" if keys else "any key (no --api-key given)"

    def ready() -> None:
        print(f"Milady-compatible local server on {url}\n  export MILADY_BASE_URL={url} MILADY_API_KEY={key}\n"
              f"  accepts {which}\n  images are drawn locally, not by a model", file=out, flush=True)

    try:
        serve(host=args.host, port=args.port, config=config, ready=ready)
    except OSError as exc:
        reason = f"port {args.port} is in use: choose another with --port" if exc.errno == errno.EADDRINUSE else exc
        print(f"error: {reason}", file=err)
        return 1
    return 0


async def _models(args: argparse.Namespace, out: TextIO) -> int:
    """``milady models``: the known models, what each is for, and what the service says of them now."""
    with service_or_local(base_url=args.base_url) as endpoint:
        async with AsyncMiladyClient(endpoint.api_key, base_url=endpoint.base_url) as client:

            async def estimate(model_id: str) -> float | None:
                with contextlib.suppress(MiladyError):  # advice, as the status: the list stands without it
                    return await client.estimated_price(model_id)
                return None

            priced = MODELS if client.has_api_key else ()
            estimating = asyncio.gather(*map(estimate, priced))  # each model's price, all at once
            models, prices = await models_now(client)
            estimates = dict(zip(priced, await estimating, strict=True))
    for model in models:
        state = model_state(model["available"], model["reason"])
        price = estimates.get(model["id"])
        price_text = f"~{price:g} credits/image (estimate)" if price is not None else ""
        print(f"{model['id']}  {model_about(model)}  [{state}]  {price_text}".rstrip(), file=out)
    if prices is not None:
        print(f"one image costs {prices.min:g} to {prices.max:g} credits, by model", file=out)
    if endpoint.local:
        print("(the built-in local server answered: its prices and status are illustrative)", file=out)
    return 0


def port_in_use(host: str, port: int) -> str | None:
    """One line saying the port is taken (or cannot be used), or None when it is free."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As servers bind: a port left in TIME_WAIT is free, one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port} ({exc.strerror or exc}): choose another port with --port"
    return None


def _demo(args: argparse.Namespace, err: TextIO) -> int:
    try:
        from gradio_app import launch_demo
    except ImportError as exc:
        print(f"error: the demo needs Gradio ({exc}): pip install 'milady-integrations[gradio]'", file=err)
        return 1
    busy = port_in_use(args.host, args.port)
    if busy is not None:
        print(f"error: {busy}", file=err)
        return 1
    try:
        launch_demo(host=args.host, port=args.port, share=False)
    except OSError as exc:  # the port was taken between the check and the launch
        print(f"error: cannot start the demo on {args.host}:{args.port}: {exc}", file=err)
        return 1
    return 0


def _mcp(args: argparse.Namespace, err: TextIO) -> int:
    try:
        from mcp_server import run
    except ImportError as exc:
        print(f"error: the MCP server needs the MCP SDK ({exc}): pip install 'milady-integrations[mcp]'", file=err)
        return 1

    run(**{name: value for name, value in vars(args).items() if name != "command"})  # its flags are its arguments
    return 0


def _request_arguments(parser: argparse.ArgumentParser) -> None:
    """One argument per request field, from the core's declarations."""
    for name, spec in FIELDS.items():
        if name == "prompt":
            parser.add_argument("prompt", help=spec.description)
            continue
        if spec.choices is not None:
            text = f"one of: {', '.join(spec.choices)} (default: {spec.default})"
        elif spec.minimum is not None:
            text = f"{spec.minimum} to {spec.maximum} (default: {spec.default})"
        else:
            text = "an image file to transform (image-to-image)"
        flags = [FLAGS[name], *(["--num-images"] if name == "num_images" else [])]
        kind = _whole_number if spec.minimum is not None else str
        parser.add_argument(*flags, dest=name, type=kind, default=spec.default, help=text)


ACCOUNT_HELP = "a named account of milady_config.json (MILADY_CONFIG names it, else ./milady_config.json); " \
    "it wins over MILADY_API_KEY"
BASE_URL_HELP = "service URL (default: MILADY_BASE_URL or Milady Cloud)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="milady", description="Milady Cloud image generation.")
    parser.add_argument("--version", action="version", version=f"milady-integrations {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="generate images and save them")
    _request_arguments(gen)
    gen.add_argument("-o", "--output", default=".", help="folder for the images (default: here)")

    srv = commands.add_parser("serve", help="run the local Milady-compatible server")
    srv.add_argument("--host", default="127.0.0.1", help=HOST_HELP)
    srv.add_argument("--port", type=int, default=8787, help="port to listen on (default: 8787)")
    srv.add_argument("--credits", type=float, default=100.0, help="credits each key starts with")
    srv.add_argument("--rate-limit", type=int, default=60, help="requests per minute per key")
    srv.add_argument("--latency", type=float, default=0.0, help="seconds added to each generation")
    srv.add_argument("--failure-rate", type=float, default=0.0, help="chance (0-1) that an image fails")
    srv.add_argument("--api-key", action="append", metavar="KEY", help="accept only this key (repeatable)")
    srv.add_argument("--allow-any-key", action="store_true", help="serve a non-loopback host with no --api-key")

    bat = commands.add_parser(
        "batch", help="generate one request per line of a JSONL file, resumably",
        description='Each line: {"prompt": ..., "model"?, "aspect_ratio"?, "style_preset"?, '
        '"num_images"?, "source_image"? (a path, relative to the file), "id"?}. Every line is checked '
        "before anything is sent. DIR/manifest.jsonl records each finished line; running again skips them.",
    )
    bat.add_argument("prompts", help="the JSONL file")
    bat.add_argument("-o", "--output", required=True, help="folder for the images and manifest.jsonl")
    bat.add_argument("--concurrency", type=_concurrency, default=4, help="requests at once, at most (default 4)")
    for sub, ids in ((gen, "a model id"), (bat, "model ids")):
        sub.add_argument("--allow-unlisted-model", action="store_true", help=f"send {ids} this version does not know")
        sub.add_argument("--account", default=None, metavar="NAME", help=ACCOUNT_HELP)
    models = commands.add_parser("models", help="list the image models, their status now and their prices")
    for sub in (gen, bat, models):
        sub.add_argument("--base-url", default=None, help=BASE_URL_HELP)

    demo = commands.add_parser("demo", help="launch the Gradio demo (local server when no key)")
    demo.add_argument("--host", default="127.0.0.1", help=HOST_HELP)
    demo.add_argument("--port", type=int, default=7860, help="port to listen on (default: 7860)")

    mcp = commands.add_parser(
        "mcp", help="run the MCP server (stdio; --http for streamable HTTP at /mcp)",
        description="Tools generate_image, credits_balance, list_models. With no MILADY_API_KEY and no "
        "MILADY_BASE_URL, images are drawn by an in-process local server.",
    )
    mcp.add_argument("--http", action="store_true", help="serve streamable HTTP at /mcp instead of stdio")
    mcp.add_argument("--host", default="127.0.0.1")
    mcp.add_argument("--port", type=int, default=8000)
    without = "over HTTP, callers without an X-API-Key header use this server's key, within the limits below"
    mcp.add_argument("--serve-without-key", action="store_true", help=without)
    mcp.add_argument("--caller-images-per-hour", type=int, default=20, help="limit per caller on this server's key")
    mcp.add_argument("--app-images-per-hour", type=int, default=200, help="limit for all callers on this server's key")
    mcp.add_argument("--urls-only", action="store_true", help="results carry URLs but no image content")
    chars = "base64 characters of image content per result, all images together (images are shrunk to fit)"
    mcp.add_argument("--max-image-chars", type=int, default=700_000, help=chars)
    recover = f"seconds to look in the gallery for what a call that may have run made (default {RECOVER_FOR:g})"
    mcp.add_argument("--recover-for", type=float, default=RECOVER_FOR, help=recover)
    return parser


def _described(error: MiladyError) -> str:
    """One line, or one line per bad argument, in the words the user typed (its flags)."""
    problems = [p for p in getattr(error, "problems", []) if isinstance(p, FieldProblem)]
    lines = [p.text(FLAGS.get(p.field), assign=" ", unlisted=f"add {UNLISTED_FLAG}") for p in problems]
    if len(lines) < 2:
        return lines[0] if lines else str(error)
    return f"{len(lines)} problems, nothing was sent:\n  " + "\n  ".join(lines)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        # argparse writes usage errors (exit 2) and --help straight to sys.*: keep them on out/err.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = build_parser().parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    spending = _Spending()
    commands: dict[str, Callable[[], int]] = {
        "generate": lambda: asyncio.run(_generate(args, out, err, spending)),
        "batch": lambda: asyncio.run(_batch(args, out, err)),
        "models": lambda: asyncio.run(_models(args, out)),
        "serve": lambda: _serve(args, out, err),
        "mcp": lambda: _mcp(args, err),
        "demo": lambda: _demo(args, err),
    }
    try:
        return commands[args.command]()
    except MiladyError as error:
        print(f"error: {_described(error)}", file=err)
        return exit_code_for(error)
    except KeyboardInterrupt:
        other = "interrupted: a request that was already sent may still be billed"
        print(f"\n{spending.interrupted() if args.command == 'generate' else other}", file=err)
        return 130
    except BrokenPipeError:
        # The reader stopped early (`milady models | head`): end quietly, as Unix tools do.
        if out is sys.stdout:
            with contextlib.suppress(OSError):  # nor a second complaint when Python flushes stdout at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:  # never a traceback: one line, exit 1
        print(f"error: {type(error).__name__}: {error}", file=err)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
