"""The scopes an operation needs: its ``x-scopes`` extension in the spec.

OpenAPI 3.0 allows scope lists in a security requirement only for OAuth2 and OpenID Connect;
for ``apiKey`` and ``http`` schemes they must be empty. So each operation names its scopes in
``x-scopes`` (machine-readable, served to clients) and `handlers.security` reads them from here.
An operation without ``x-scopes`` fails closed: no credential passes it (`handlers.spec_check`
reports such operations before they ship).
"""

from __future__ import annotations

import functools
from typing import Any

EXTENSION = "x-scopes"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def by_operation(spec: dict[str, Any]) -> dict[str, tuple[str, ...] | None]:
    """operationId -> its ``x-scopes`` (None where the operation has none)."""
    found: dict[str, tuple[str, ...] | None] = {}
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method in METHODS:
                scopes = operation.get(EXTENSION)
                found[operation["operationId"]] = None if scopes is None else tuple(scopes)
    return found


@functools.cache
def _table() -> dict[str, tuple[str, ...] | None]:
    from handlers.app import load_spec  # the app module imports the security functions

    return by_operation(load_spec())


def required_for(request: Any) -> tuple[str, ...] | None:
    """The scopes of the operation Connexion routed ``request`` to; None if it declares none."""
    routing = (request.scope.get("extensions") or {}).get("connexion_routing") or {} if request else {}
    operation_id = str(routing.get("operation_id") or "").rpartition(".")[2]
    return _table().get(operation_id)
