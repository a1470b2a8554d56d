"""``python -m gradio_app [--host 127.0.0.1] [--port 7860]``: the standalone demo."""

import argparse
import sys

from .block import STOPPED_TEXT
from .demo import launch_demo

parser = argparse.ArgumentParser(prog="python -m gradio_app", description="Milady image generation demo.")
parser.add_argument("--host", help="interface to listen on (default: loopback)")
parser.add_argument("--port", type=int, help="port to listen on (default: 7860)")
given = {name: value for name, value in vars(parser.parse_args()).items() if value is not None}
try:
    launch_demo(**given)  # its own defaults for what is not given
except KeyboardInterrupt:
    print(STOPPED_TEXT, file=sys.stderr)  # a generation running then was cut off on our side only
    sys.exit(130)
