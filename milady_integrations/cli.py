"""The `milady` command: generate, batch, serve, demo.

Exit codes say what went wrong, so scripts can react without parsing text.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ._version import __version__
from .client import AsyncMiladyClient
from .errors import (
    AuthenticationError,
    GenerationFailedError,
    ImageDownloadError,
    InsufficientCreditsError,
    InvalidRequestError,
    MiladyConnectionError,
    MiladyError,
    MiladyTimeoutError,
    OutcomeUnknownError,
    RateLimitError,
    ServiceUnavailableError,
    UnexpectedResponseError,
)
from .images import write_image
from .offline import service_or_local
from .schema import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_MODEL,
    DEFAULT_STYLE_PRESET,
    FIELD_DESCRIPTIONS,
    MODELS,
    NUM_IMAGES_MAX,
    STYLE_PRESETS,
    GenerateImageRequest,
    ImageGenerationResult,
)

#: One exit code per kind of failure (argparse itself uses 2 for bad flags).
EXIT_CODES: dict[type[MiladyError], int] = {
    InvalidRequestError: 2,
    AuthenticationError: 3,
    InsufficientCreditsError: 4,
    RateLimitError: 5,
    GenerationFailedError: 6,
    ServiceUnavailableError: 6,
    OutcomeUnknownError: 6,
    UnexpectedResponseError: 6,
    MiladyConnectionError: 7,
    MiladyTimeoutError: 7,
    ImageDownloadError: 8,
}


def exit_code_for(error: MiladyError) -> int:
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


def _slug(prompt: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")
    return words[:40].rstrip("-") or "image"


async def _ticker(label: str, stream: TextIO, started: float) -> None:
    """Elapsed time while waiting; one line when not on a terminal."""
    if not stream.isatty():
        print(f"{label}...", file=stream, flush=True)
        return
    while True:
        print(f"\r{label}... {time.monotonic() - started:5.1f} s", end="", file=stream, flush=True)
        await asyncio.sleep(0.2)


async def _generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Check the arguments before starting anything: bad input costs nothing.
    request = GenerateImageRequest.create(
        args.prompt,
        model=args.model,
        aspect_ratio=args.aspect_ratio,
        num_images=args.num_images,
        style_preset=args.style,
        source_image=args.source,
        allow_unlisted_model=args.allow_unlisted_model,
    )
    with service_or_local(base_url=args.base_url) as endpoint:
        if endpoint.banner:
            print(f"NOTE: {endpoint.banner}", file=err, flush=True)
        async with AsyncMiladyClient(api_key=endpoint.api_key, base_url=endpoint.base_url) as client:
            started = time.monotonic()
            label = f"generating {request.num_images} image{'s' * (request.num_images > 1)}"
            ticker = asyncio.create_task(_ticker(label, err, started))
            try:
                result: ImageGenerationResult = await client.send(request)
            finally:
                ticker.cancel()
                if err.isatty():
                    print(file=err)
            print(f"done in {time.monotonic() - started:.1f} s", file=err, flush=True)
            if result.partial:
                print(f"warning: {result.partial_note}", file=err)
            stem = f"{_slug(args.prompt)}-{time.strftime('%Y%m%d-%H%M%S')}"
            for index, data in enumerate(await client.read_images(result), start=1):
                print(write_image(Path(args.output) / f"{stem}-{index}", data), file=out, flush=True)
            if result.text:
                print(f"service text: {result.text}", file=err)
    return 0


async def _batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``milady batch``: check every line first, then run them; exit nonzero if any failed."""
    import signal

    from .batch import ProgressBar, read_batch, run_batch

    lines = read_batch(args.prompts, allow_unlisted_model=args.allow_unlisted_model)
    stop = asyncio.Event()
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()

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
        with service_or_local(base_url=args.base_url) as endpoint:
            if endpoint.banner:
                print(f"NOTE: {endpoint.banner}", file=err, flush=True)
            bar = ProgressBar(err)
            try:
                summary = await run_batch(
                    lines,
                    args.output,
                    api_key=endpoint.api_key,
                    base_url=endpoint.base_url,
                    concurrency=args.concurrency,
                    allow_unlisted_model=args.allow_unlisted_model,
                    progress=bar,
                    stop=stop,
                )
            finally:
                bar.close()
    except asyncio.CancelledError:
        print(f"interrupted: finished lines are in {Path(args.output) / 'manifest.jsonl'}", file=err)
        return 130
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)
    for text in summary.lines():
        print(text, file=err)
    print(f"manifest: {Path(args.output) / 'manifest.jsonl'}", file=err, flush=True)
    if summary.stopped == "interrupted":
        return 130
    if summary.failed:
        codes = {exit_code_for(o.error) for o in summary.failed if o.error is not None}
        return codes.pop() if len(codes) == 1 else 1
    return 0 if summary.ok else 1


def _concurrency(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("concurrency must be from 1 to 64")
    return value


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    from .local import Faults, ServerConfig, serve
    from .local._config import DEFAULT_LOCAL_KEY

    faults = Faults(latency=args.latency, failure_rate=args.failure_rate)
    config = ServerConfig(
        initial_credits=args.credits,
        rate_limit=args.rate_limit,
        faults=faults,
    )
    print(
        f"Milady-compatible local server on http://{args.host}:{args.port}\n"
        f"  export MILADY_BASE_URL=http://{args.host}:{args.port} MILADY_API_KEY={DEFAULT_LOCAL_KEY}\n"
        "  images are drawn locally, not by a model",
        file=out,
        flush=True,
    )
    serve(host=args.host, port=args.port, config=config)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from gradio_app import launch_demo

    launch_demo(host=args.host, port=args.port, share=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="milady", description="Milady Cloud image generation.")
    parser.add_argument("--version", action="version", version=f"milady-integrations {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="generate images and save them")
    gen.add_argument("prompt", help=FIELD_DESCRIPTIONS["prompt"])
    gen.add_argument("--model", default=DEFAULT_MODEL, help=f"one of: {', '.join(MODELS)}")
    gen.add_argument("--allow-unlisted-model", action="store_true", help="send a model id this version does not know")
    gen.add_argument("--aspect-ratio", default=DEFAULT_ASPECT_RATIO, help=f"one of: {', '.join(ASPECT_RATIOS)}")
    gen.add_argument("--style", default=DEFAULT_STYLE_PRESET, help=f"one of: {', '.join(STYLE_PRESETS)}")
    gen.add_argument("-n", "--num-images", type=int, default=1, help=f"1 to {NUM_IMAGES_MAX}")
    gen.add_argument("--source", default=None, help="an image file to transform (image-to-image)")
    gen.add_argument("-o", "--output", default=".", help="folder for the images (default: here)")
    gen.add_argument("--base-url", default=None, help="service URL (default: MILADY_BASE_URL or Milady Cloud)")

    srv = commands.add_parser("serve", help="run the local Milady-compatible server")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8787)
    srv.add_argument("--credits", type=float, default=100.0, help="credits each key starts with")
    srv.add_argument("--rate-limit", type=int, default=60, help="requests per minute per key")
    srv.add_argument("--latency", type=float, default=0.0, help="seconds added to each generation")
    srv.add_argument("--failure-rate", type=float, default=0.0, help="chance (0-1) that an image fails")

    bat = commands.add_parser(
        "batch",
        help="generate one request per line of a JSONL file, resumably",
        description="Each line: {\"prompt\": ..., \"model\"?, \"aspect_ratio\"?, \"style_preset\"?, "
        "\"num_images\"?, \"source_image\"? (a path, relative to the file), \"id\"?}. Every line is checked "
        "before anything is sent. DIR/manifest.jsonl records each finished line; running again skips them.",
    )
    bat.add_argument("prompts", help="the JSONL file")
    bat.add_argument("-o", "--output", required=True, help="folder for the images and manifest.jsonl")
    bat.add_argument("--concurrency", type=_concurrency, default=4, help="requests at once, at most (default 4)")
    bat.add_argument("--allow-unlisted-model", action="store_true", help="send model ids this version does not know")
    bat.add_argument("--base-url", default=None, help="service URL (default: MILADY_BASE_URL or Milady Cloud)")

    demo = commands.add_parser("demo", help="launch the Gradio demo (local server when no key)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=7860)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        # argparse writes usage errors (exit 2) and --help straight to sys.*: keep them on out/err.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = build_parser().parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    try:
        if args.command == "generate":
            return asyncio.run(_generate(args, out, err))
        if args.command == "serve":
            return _serve(args, out)
        if args.command == "batch":
            return asyncio.run(_batch(args, out, err))
        return _demo(args)
    except MiladyError as error:
        print(f"error: {error}", file=err)
        return exit_code_for(error)
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
