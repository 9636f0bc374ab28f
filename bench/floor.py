"""The FRAMEWORK FLOOR: Leadpipe's own spec served by Connexion with canned handlers.

Same spec, same Connexion options as `handlers.app.create_app` (our validator map, strict
validation, pythonic params, response validation off), sync handlers like ours (so the
thread-pool hop is included), and security functions that accept any key without a lookup.
Nothing touches the database and no middleware of ours runs: what this serves per second is what
Connexion alone allows. Leadpipe / floor is then the share our own auth, database and envelope
work leaves.

``LEADPIPE_BENCH_FLOOR_FAST=1`` serves it with `handlers.http.connexion_pinned` too (when that module
exists), to compare like with like once Leadpipe builds its operations once.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from connexion import AsyncApp
from connexion.resolver import Resolver

from handlers.app import BASE_PATH, SPEC_DIR, load_spec
from handlers.http.validation import VALIDATOR_MAP

LEAD = {
    "id": "AbCdEfGhIjKlMnOp",
    "tenantId": "TnTnTnTnTnTnTnTn",
    "environment": "live",
    "email": "jane.doe@example.com",
    "firstName": "Jane",
    "lastName": "Doe",
    "phone": None,
    "phoneE164": None,
    "company": "Acme Corp",
    "title": "Buyer",
    "industry": "Software",
    "message": None,
    "source": "web",
    "status": "new",
    "score": 42,
    "assignedTo": None,
    "customFields": {},
    "tags": [],
    "createdAt": "2026-01-01T00:00:00.000Z",
    "updatedAt": "2026-01-01T00:00:00.000Z",
}


def _meta(pagination: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "version": "v1",
        "requestId": "-",
    }
    if pagination is not None:
        meta["pagination"] = pagination
    return meta


def canned_created(**kwargs: Any) -> tuple[dict[str, Any], int]:
    return {"success": True, "status": 201, "message": "Created", "data": LEAD, "meta": _meta()}, 201


def canned_ok(**kwargs: Any) -> tuple[dict[str, Any], int]:
    return {"success": True, "status": 200, "message": "Success", "data": LEAD, "meta": _meta()}, 200


def canned_page(**kwargs: Any) -> tuple[dict[str, Any], int]:
    limit = int(kwargs.get("limit") or 20)
    page = {"limit": limit, "nextCursor": "c", "hasMore": True}
    return {
        "success": True,
        "status": 200,
        "message": "Success",
        "data": [LEAD] * limit,
        "meta": _meta(page),
    }, 200


def _canned(operation_id: str) -> Any:
    name = operation_id.rpartition(".")[2]
    if name.startswith("create") or name == "rotateApiKey":
        return canned_created
    if name.startswith("list") or name.endswith("History"):
        return canned_page
    return canned_ok


async def accept_key(
    token: str, required_scopes: list[str] | None = None, request: Any = None
) -> dict[str, Any]:
    return {"sub": "bench", "scopes": list(required_scopes or [])}


def app_factory() -> AsyncApp:
    spec = load_spec()
    schemes = spec["components"]["securitySchemes"]
    schemes["apiKey"]["x-apikeyInfoFunc"] = "bench.floor.accept_key"
    schemes["bearer"]["x-bearerInfoFunc"] = "bench.floor.accept_key"
    options: dict[str, Any] = {"validator_map": VALIDATOR_MAP}
    fast = os.environ.get("LEADPIPE_BENCH_FLOOR_FAST") == "1"
    if fast:
        from handlers.http import connexion_pinned

        options["middlewares"] = connexion_pinned.middlewares()
    app = AsyncApp(__name__, specification_dir=SPEC_DIR, **options)
    if fast:
        connexion_pinned.install(app)
    app.add_api(
        spec,
        base_path=BASE_PATH,
        resolver=Resolver(function_resolver=_canned),
        strict_validation=True,
        validate_responses=False,
        pythonic_params=True,
    )
    return app
