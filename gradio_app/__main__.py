"""``python -m gradio_app [--host 127.0.0.1] [--port 7860]``: the standalone demo."""

from __future__ import annotations

import argparse
import sys

from .demo import launch_demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gradio_app", description="Milady image generation demo.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    try:
        launch_demo(host=args.host, port=args.port)
    except KeyboardInterrupt:
        # A generation running at that moment was cut off on our side only.
        print("Stopped. A request already sent may still finish and be billed.", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
