"""A local Milady-compatible server: the service's HTTP contract on loopback, pictures drawn
locally (never by a model), and faults injected on purpose.

    with LocalServer(ServerConfig(initial_credits=1.0)) as server:
        server.base_url, server.api_key   # point a client here
        server.faults.force_status(503, count=2)
        server.stats.images_billed, server.requests

Local controls, without auth: ``GET /_local/stats``, ``GET|POST /_local/faults``, ``POST
/_local/credits`` (``{"key", "amount"}``), ``GET /_local/requests`` (the prompt the server built,
per request) and ``POST /_local/reset``.

A fault (a field of ``Faults`` or ``ForcedStatus`` in ``_faults.py``, each naming its header
``X-Milady-Fault-<Header>``) is set from Python (``server.faults.update(latency=2)``), as JSON
(``POST /_local/faults`` ``{"latency": 2, "force_status": {"status": 500, "ran": true}, "reset": true}``)
or per request by header (``X-Milady-Fault-Latency: 2``; ``none`` switches one off). With ``ran``
a forced status comes after the images were generated, stored, billed and put in the gallery.
"""

from __future__ import annotations

from ._app import LocalApp, create_app
from ._faults import FaultError, Faults, ForcedStatus
from ._openapi import openapi_document
from ._pictures import IMAGE_SIZES
from ._server import LocalServer, serve
from ._state import DEFAULT_PRICES, ServerConfig, ServerStats

__all__ = [
    "DEFAULT_PRICES", "IMAGE_SIZES", "FaultError", "Faults", "ForcedStatus", "LocalApp", "LocalServer",
    "ServerConfig", "ServerStats", "create_app", "openapi_document", "serve",
]
