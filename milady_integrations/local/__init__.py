"""A local Milady-compatible server: the service's HTTP contract on loopback, with pictures
drawn locally (never by a model) and faults injected on purpose.

    from milady_integrations.local import LocalServer, ServerConfig

    with LocalServer(ServerConfig(initial_credits=1.0)) as server:
        server.base_url, server.api_key   # point a client here
        server.faults.force_status(503, count=2)
        server.stats.images_billed

Endpoints: ``POST /api/v1/generate-image``, ``GET /api/v1/credits/balance``,
``GET /images/<id>.<ext>`` (stored images; in memory, least recently used
dropped past ``ServerConfig.image_store_bytes``, 256 MiB by default),
``GET /openapi.json``, and the unauthenticated controls ``GET /_local/stats``,
``GET|POST /_local/faults``, ``POST /_local/credits`` (``{"key", "amount"}``)
and ``POST /_local/reset``.

Behaviour follows the service's code: checks run rate limit (60 requests per
60 s per caller, keyed as the service keys them: X-API-Key, else a Bearer token
starting ``eliza_``, else one shared bucket), then auth, then the body; unknown
models silently become the default (``strict_models=True`` answers 400
``Invalid model`` instead); credits are reserved up front and only succeeded
images are billed (prices: ``DEFAULT_PRICES``, illustrative). Each item's
``text`` is the prompt the service would send its model.

Faults, per request by header (one request only) or for every request via
``Faults`` (from Python, or ``POST /_local/faults``):

===============================  ====================  ===============================================
header                           Faults / JSON key     effect
===============================  ====================  ===============================================
X-Milady-Fault-Latency: 0.5      latency               seconds to wait before answering
X-Milady-Fault-Status: 503       force_status(...)     answer this status; nothing generated or billed
X-Milady-Fault-Status-Body: x    body=                 json (the service's body; default), html (a
                                                       proxy page; default for 502/504), empty
X-Milady-Fault-Retry-After: 7    retry_after=          429 only; ``none`` drops the header and field
X-Milady-Fault-Fail-Rate: 0.5    failure_rate          chance each image fails (partial success;
                                                       all failed -> 500, nothing billed)
X-Milady-Fault-Fail-Images: 2    fail_images           the first N images of each request fail
X-Milady-Fault-Drop: mode        drop                  after the work is done and billed, break the
                                                       connection: ``before-response`` (no status line)
                                                       or ``mid-body`` (headers, half the body)
X-Milady-Fault-Body: kind        body                  a broken 200: ``truncated`` (valid HTTP, cut
                                                       JSON), ``invalid-json``, ``empty-object``
                                                       (``{}``), ``no-url`` (items without url/image),
                                                       ``zero-images`` (nothing generated or billed)
X-Milady-Fault-Storage: fail     storage_failure       items carry ``image`` (a PNG data URL), no url
X-Milady-Fault-Mime: wrong       wrong_mime            labelled image/png, bytes are WebP
X-Milady-Fault-Image-Url: kind   image_url             the returned URLs answer ``404``, ``hang``
                                                       (until the client leaves; at most
                                                       ``hang_seconds``), ``not-image``, ``oversize``
                                                       (``oversize_bytes``, 64 MiB, with Content-Length)
                                                       or ``oversize-chunked`` (no Content-Length)
X-Milady-Response-Shape: success response_shape        the other variant's ``{success, model, images,
                                                       cost}``; ``standard`` for ``{images, numImages}``
===============================  ====================  ===============================================

Header values ``none`` switch a configured fault off for that request. A bad
fault header is answered 400 ``{"error": "Bad fault setting: ..."}``.

``POST /_local/faults`` takes a JSON object with any of the keys above, plus
``"force_status"`` (a status, or ``{"status", "count"?, "body"?,
"retry_after"?}``, or a list of them) and ``"reset": true`` (clear everything
first); it answers the faults now in force, as ``GET /_local/faults`` does::

    {"reset": true, "latency": 0.2, "force_status": {"status": 429, "count": 2, "retry_after": 3}}
"""

from __future__ import annotations

try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "The local server needs starlette and uvicorn: pip install 'milady-integrations[server]'"
    ) from exc

from ._app import LocalApp, create_app
from ._config import DEFAULT_PRICES, ServerConfig
from ._faults import FaultError, Faults, ForcedStatus
from ._openapi import openapi_document
from ._pictures import IMAGE_SIZES
from ._server import LocalServer, serve
from ._stats import ServerStats

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
