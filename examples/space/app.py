"""A Hugging Face Space with Milady image generation: each visitor brings their own key.

Visitors who enter a Milady Cloud key get images from Milady Cloud, paid by that key.
Visitors without one get images drawn by the built-in local server (not by a model),
and the page says so: the Space owner's credits are never spent by default.

Settings (the Space's "Variables and secrets"):
- MILADY_PAYS: "visitor" (default) or "visitor_or_server" to lend the owner's key
  (the secret MILADY_API_KEY) to visitors without one, within the limits below.
- MILADY_IMAGES_PER_VISITOR (default 20) and MILADY_IMAGES_PER_HOUR (default 200):
  billed images per hour on the owner's key, per visitor and for everyone together.
"""

from __future__ import annotations

import os

from gradio_app import create_demo
from milady_integrations.access import OperatorLimits

pays = "visitor_or_server" if os.environ.get("MILADY_PAYS") == "visitor_or_server" else "visitor"
limits = OperatorLimits(
    per_caller=int(os.environ.get("MILADY_IMAGES_PER_VISITOR", "20")),
    per_app=int(os.environ.get("MILADY_IMAGES_PER_HOUR", "200")),
)
demo = create_demo(pays=pays, limits=limits)

if __name__ == "__main__":
    # On a Space, GRADIO_SERVER_NAME and GRADIO_SERVER_PORT say where to listen.
    demo.launch()
