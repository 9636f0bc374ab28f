"""Per-request and per-app state that handlers reach without globals.

The outermost middleware sets both variables for every request; Connexion copies context
variables into the worker thread that runs a sync handler, so they are visible there.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Scope

from handlers.http.credentials import KnownKeys
from handlers.http.limiter import Limiter
from handlers.settings import Settings
from store.pagination import CursorCodec


@dataclass(frozen=True)
class AppState:
    settings: Settings
    cursors: CursorCodec
    # Rate-limit counters; the tenant endpoint reads them, the middleware counts into them.
    limiter: Limiter | None = None
    # Principals of keys seen before: a hint for the security check (`handlers.http.credentials`).
    known_keys: KnownKeys = field(default_factory=KnownKeys)


request_id_var: ContextVar[str] = ContextVar("leadpipe_request_id", default="-")
app_state_var: ContextVar[AppState] = ContextVar("leadpipe_app_state")
# The token_info of a key checked only on a hint (`handlers.http.security`), set in the request's
# task so that an error answer (outside routing, which copies the ASGI scope) can still find it.
hinted_credential_var: ContextVar[dict[str, Any] | None] = ContextVar("leadpipe_hinted", default=None)
# The token_info entry of a key checked only on a hint, until `principal_of` confirms it: nothing
# that acts on the principal (the tenant rate limit, the access log) may trust it before.
UNCONFIRMED = "leadpipe.unconfirmed"


def request_id() -> str:
    return request_id_var.get()


def app_state() -> AppState:
    return app_state_var.get()


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of an ASGI request header (``name`` in lower case), or None."""
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None
