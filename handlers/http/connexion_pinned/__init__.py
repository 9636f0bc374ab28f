"""Connexion, version-pinned: per-request work done once, and a leaner path through it.

Every reach into Connexion's (and Starlette's) internals lives in this package, each piece a
subclass of the class it replaces, copying the parent method it overrides:

- `operations`: the decorated handler (`AsyncOperation.fn`), its parameter decorator and URI
  parser are built once per operation, not per request; parameter names go through a memo of
  Connexion's own sanitizer; uploaded files are looked for only in form bodies; a sync handler
  runs on `handlers.http.handler_threads` instead of anyio's ``to_thread`` (the thread hop was
  ~15 % of a GET's CPU under ``python -m bench.profile``).
- `validation`: `RequestValidationOperation` keeps its URI parser, parameter validator, body
  validators and their compiled jsonschema validators (Connexion rebuilt them per request).
- `routing`: the API's routes are tried only among those of the request's method
  (`IndexedRouter`), handing the winner to Starlette's own `Route` (~6 % of a GET).
- `security`: the security function's signature is inspected once, not twice per request
  (`AbstractSecurityHandler._accepts_kwarg`, ~6 % of a GET).

None of them holds per-request state (the request, scope and operation are read from
Connexion's context variables at call time, exactly as before), so behaviour is unchanged:
tests/handlers/http/test_connexion_pinned.py checks each against Connexion's own answers (the
router by a property test against Starlette's) and fails as soon as the installed Connexion is
another version than `WRITTEN_FOR` (pyproject pins ``<3.4``): whoever upgrades re-reads the
parent methods copied here before moving the pin.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

from connexion import AsyncApp
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware

from handlers.http.connexion_pinned.operations import (
    _SANITIZERS,
    CachedAsyncApi,
    CachedAsyncOperation,
    CachedNamesParameterDecorator,
    CachedNamesStarletteDecorator,
)
from handlers.http.connexion_pinned.routing import IndexedRouter, IndexedRoutingAPI, IndexedRoutingMiddleware
from handlers.http.connexion_pinned.security import _accepts_kwarg, security_map
from handlers.http.connexion_pinned.validation import (
    CachedRequestValidationAPI,
    CachedRequestValidationMiddleware,
    CachedRequestValidationOperation,
)

__all__ = [
    "WRITTEN_FOR",
    "_SANITIZERS",
    "CachedAsyncApi",
    "CachedAsyncOperation",
    "CachedNamesParameterDecorator",
    "CachedNamesStarletteDecorator",
    "CachedRequestValidationAPI",
    "CachedRequestValidationMiddleware",
    "CachedRequestValidationOperation",
    "IndexedRouter",
    "IndexedRoutingAPI",
    "IndexedRoutingMiddleware",
    "_accepts_kwarg",
    "install",
    "installed_version",
    "middlewares",
    "security_map",
]


# The Connexion release these subclasses were written against (and the default middleware stack
# `handlers.app.create_app` lists explicitly); see the module docstring.
WRITTEN_FOR = "3.3.0"


def installed_version() -> str:
    return importlib.metadata.version("connexion")


def middlewares() -> list[Any]:
    """Connexion's default middleware stack with request validation and routing swapped for ours."""
    swapped: dict[Any, Any] = {
        RequestValidationMiddleware: CachedRequestValidationMiddleware,
        RoutingMiddleware: IndexedRoutingMiddleware,
    }
    return [swapped.get(m, m) for m in ConnexionMiddleware.default_middlewares]


def install(app: AsyncApp) -> None:
    """Make ``app`` build its handler operations once; call before ``add_api``."""
    app._middleware_app.api_cls = CachedAsyncApi
