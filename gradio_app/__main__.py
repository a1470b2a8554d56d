"""``python -m gradio_app [--host 127.0.0.1] [--port 7860]``: the standalone demo."""

import argparse
import sys

from .block import STOPPED_TEXT
from .demo import launch_demo

parser = argparse.ArgumentParser(prog="python -m gradio_app", description="Milady image generation demo.")
parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback)")
parser.add_argument("--port", type=int, default=7860)
args = parser.parse_args()
try:
    launch_demo(host=args.host, port=args.port)
except KeyboardInterrupt:
    print(STOPPED_TEXT, file=sys.stderr)  # a generation running then was cut off on our side only
    sys.exit(130)
