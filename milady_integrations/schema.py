"""The shared schema, by job: :mod:`.catalogue` (choices, limits, descriptions),
:mod:`.request` (what a user can set, and its checks) and :mod:`.results` (what comes back).

This module gathers their public names (each module's ``__all__``) in one place.
"""

from __future__ import annotations

from . import catalogue, request, results
from .catalogue import *  # noqa: F403
from .request import *  # noqa: F403
from .results import *  # noqa: F403

__all__ = [*catalogue.__all__, *request.__all__, *results.__all__]
