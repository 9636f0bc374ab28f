"""API key endpoints. The plaintext secret leaves the server only in create and rotate replies."""

from __future__ import annotations

import json
from typing import Any

from handlers.api import presenters, timestamps
from handlers.http import envelope
from handlers.http.context import app_state
from handlers.http.idempotency import idempotent
from handlers.http.security import principal_of
from store.access.principals import Principal
from store.errors import FieldError, ValidationFailed
from store.keys import api_keys, rotation

# Seed 002's documented example asks for contacts scopes; a Leadpipe contact is a lead.
SEED_SCOPE_ALIASES = {"read:contacts": "read:leads", "write:contacts": "write:leads"}


def _scopes(body: dict[str, Any]) -> list[str]:
    """``permissions`` is the seed's name for ``scopes``; one of them, not both."""
    if "scopes" in body and "permissions" in body:
        raise ValidationFailed([FieldError("permissions", "Send either scopes or permissions, not both")])
    scopes = body.get("scopes", body.get("permissions"))
    if scopes is None and body.get("type", api_keys.SECRET) == api_keys.SECRET:
        raise ValidationFailed([FieldError("scopes", "Is required")])
    return [SEED_SCOPE_ALIASES.get(scope, scope) for scope in scopes or []]


def create_api_key(body: dict[str, Any], token_info: dict[str, Any]) -> Any:
    caller = principal_of(token_info)
    return idempotent(caller, body, lambda: _create(caller, body))


def _create(caller: Principal, body: dict[str, Any]) -> envelope.Reply:
    expires_at = body.get("expiresAt")
    issued = api_keys.create_key(
        caller,
        name=body["name"].strip(),
        scopes=_scopes(body),
        key_type=body.get("type", api_keys.SECRET),
        environment=body.get("environment"),
        description=body.get("description"),
        rate_limit_tier=body.get("rateLimitTier", "standard"),
        expires_at=timestamps.parse(expires_at, "expiresAt"),
        allowed_origins=body.get("allowedOrigins"),
    )
    return envelope.created(presenters.issued_key(issued))


def list_api_keys(token_info: dict[str, Any], limit: int = 20, cursor: str | None = None) -> envelope.Reply:
    result = api_keys.list_keys(
        principal_of(token_info), limit=limit, cursor=cursor, codec=app_state().cursors
    )
    return envelope.page(result, presenters.api_key, limit=limit)


def get_api_key(key_id: str, token_info: dict[str, Any]) -> envelope.Reply:
    return envelope.ok(presenters.api_key(api_keys.get_key(principal_of(token_info), key_id)))


def revoke_api_key(key_id: str, token_info: dict[str, Any]) -> envelope.Reply:
    key = api_keys.revoke_key(principal_of(token_info), key_id)
    return envelope.ok(presenters.api_key(key), message="API key revoked")


def _rotate_options(body: Any) -> dict[str, Any]:
    """The body is optional: sent without one (and so without a Content-Type), Connexion's
    validator checks its ``default: {}`` and hands it over as bytes, not parsed."""
    if isinstance(body, bytes | str):
        body = json.loads(body) if body.strip() else {}
    return body if isinstance(body, dict) else {}


def rotate_api_key(key_id: str, token_info: dict[str, Any], body: Any = None) -> Any:
    caller = principal_of(token_info)
    body = _rotate_options(body)
    grace = int(body.get("gracePeriodSeconds", 0))

    def produce() -> envelope.Reply:
        issued = rotation.rotate_key(caller, key_id, grace_seconds=grace)
        return envelope.ok(presenters.issued_key(issued), message="API key rotated")

    return idempotent(caller, body or None, produce)
