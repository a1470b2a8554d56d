"""A local Milady-compatible server: the service's HTTP contract on loopback, pictures drawn
locally (never by a model), and faults injected on purpose.

    from milady_integrations.local import LocalServer, ServerConfig

    with LocalServer(ServerConfig(initial_credits=1.0)) as server:
        server.base_url, server.api_key   # point a client here
        server.faults.force_status(503, count=2)
        server.stats.images_billed, server.requests

Routes of the service: ``POST /api/v1/generate-image``, ``GET /api/v1/credits/balance``,
``GET /api/v1/gallery``, ``POST /api/v1/models/status``, ``GET /api/v1/pricing/summary``,
``GET /api/v1/models``, ``GET /api/v1/models/<id>``, ``GET /images/<id>.<ext>`` and
``GET /openapi.json``. Local controls (no auth): ``GET /_local/stats``, ``GET|POST
/_local/faults``, ``POST /_local/credits`` (``{"key", "amount"}``), ``GET /_local/requests``
(the prompt the server built, per request) and ``POST /_local/reset``.

Faults (``_faults.Faults``; each field declares its header ``X-Milady-Fault-<Header>``) are
set from Python (``server.faults.update(latency=2)``), as JSON (``POST /_local/faults``
``{"latency": 2, "force_status": {"status": 500, "message": "Upload failed", "ran": true},
"reset": true}``) or per request by header (``X-Milady-Fault-Latency: 2``; ``none`` switches
one off). ``force_status`` answers a status with the service's body; with ``ran`` the images
are first generated, stored, billed and put in the gallery (the catch-all 500 that keeps the
charge, a 502/504 whose origin finished). A latency or dropped connection comes after billing.
"""

from __future__ import annotations

try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    needs = "The local server needs starlette and uvicorn: pip install 'milady-integrations[server]'"
    raise ImportError(needs) from exc

from ._app import LocalApp, create_app
from ._faults import FaultError, Faults, ForcedStatus
from ._openapi import openapi_document
from ._pictures import IMAGE_SIZES
from ._server import LocalServer, serve
from ._state import DEFAULT_PRICES, ServerConfig, ServerStats

__all__ = [
    "DEFAULT_PRICES",
    "IMAGE_SIZES",
    "FaultError",
    "Faults",
    "ForcedStatus",
    "LocalApp",
    "LocalServer",
    "ServerConfig",
    "ServerStats",
    "create_app",
    "openapi_document",
    "serve",
]
