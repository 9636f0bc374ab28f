"""Translation between the API's camelCase JSON and the store's snake_case values."""

from __future__ import annotations

from typing import Any

from handlers.http.envelope import timestamp
from handlers.http.names import to_camel
from store.events import objects
from store.keys.api_keys import IssuedKey, key_status
from store.keys.rotation import previous_secret_expires_at
from store.models import ApiKey, Lead, LeadEvent


def _ts(value: Any) -> str | None:
    return timestamp(value) if value is not None else None


def lead(row: Lead) -> dict[str, Any]:
    """The API's lead, the same one events carry (`store.events.objects`)."""
    return objects.lead(row)


def lead_event(row: LeadEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "leadId": row.lead_id,
        "action": row.action,
        "actor": {"type": row.actor_type, "id": row.actor_id},
        "onBehalfOf": row.on_behalf_of,
        "changes": {to_camel(name): pair for name, pair in row.changes.items()},
        "requestId": row.request_id,
        "occurredAt": _ts(row.occurred_at),
    }


def api_key(row: ApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "type": row.type,
        "environment": row.environment,
        "prefix": row.prefix,
        "scopes": row.scopes,
        "rateLimitTier": row.rate_limit_tier,
        "status": key_status(row),
        "createdBy": row.created_by,
        "expiresAt": _ts(row.expires_at),
        "revokedAt": _ts(row.revoked_at),
        "previousSecretExpiresAt": _ts(previous_secret_expires_at(row)),
        "allowedOrigins": row.allowed_origins,
        "createdAt": _ts(row.created_at),
    }


def issued_key(issued: IssuedKey) -> dict[str, Any]:
    return {**api_key(issued.record), "key": issued.plaintext}


def duplicate(row: Lead) -> dict[str, Any]:
    """A lead joined with its duplicate pair (``reasons``, ``detected_at``)."""
    return {"lead": lead(row), "reasons": row.reasons, "detectedAt": _ts(row.detected_at)}  # type: ignore[attr-defined]
