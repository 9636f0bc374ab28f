"""Webhook endpoints: create, read, change, delete, rotate the signing secret.

Endpoints belong to the caller's tenant *and environment* (a sandbox key manages sandbox
endpoints, which receive sandbox events only). Every change is audited without the secret; the
URL is audited without its query string (receivers sometimes put tokens there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from store.access.principals import Principal
from store.audit import log as audit
from store.db import reading, transaction
from store.errors import FieldError, NotFound, ValidationFailed
from store.events.emit import LEAD_UPDATED, TYPES
from store.events.objects import camel
from store.ids import new_id
from store.leads.lifecycle import WRITABLE
from store.models import utcnow
from store.pagination import CursorCodec, Keyset, PageRequest, PageResult, keyset_page
from store.webhooks import access, config, secrets, ssrf
from store.webhooks.fanout import WILDCARD
from store.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

LEAD_FIELDS = tuple(camel(name) for name in WRITABLE)
ROTATION_OVERLAP = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Issued:
    endpoint: WebhookEndpoint
    secret: str


def _check(url: str | None, events: list[str] | None, fields: list[str] | None) -> None:
    """All problems at once, or nothing (raises `ValidationFailed`)."""
    cfg = config.current()
    problems: list[FieldError] = []
    if url is not None:
        problems += ssrf.check_url(url, production=cfg.production, allow=cfg.allow_networks)
    if events is not None:
        unknown = [t for t in events if t != WILDCARD and t not in TYPES]
        if unknown:
            problems.append(
                FieldError(
                    "events", f"Unknown event type(s): {', '.join(unknown)}; use {', '.join(TYPES)} or *"
                )
            )
    if fields:
        unknown = [f for f in fields if f not in LEAD_FIELDS]
        if unknown:
            problems.append(FieldError("fields", f"Unknown lead field(s): {', '.join(unknown)}"))
        if events is not None and LEAD_UPDATED not in events and WILDCARD not in events:
            problems.append(
                FieldError("fields", "Applies to lead.updated only: subscribe to lead.updated (or *)")
            )
    if problems:
        raise ValidationFailed(problems)


def _audited_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def find_endpoint(caller: Principal, endpoint_id: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.get_or_none(
        (WebhookEndpoint.tenant_id == caller.tenant_id)
        & (WebhookEndpoint.id == endpoint_id)
        & (WebhookEndpoint.environment == caller.environment)
    )
    if endpoint is None:
        raise NotFound("Webhook endpoint not found")
    return endpoint


@transaction
def create_endpoint(
    caller: Principal,
    *,
    url: str,
    events: list[str],
    fields: list[str] | None = None,
    description: str | None = None,
    enabled: bool = True,
) -> Issued:
    events, fields = list(dict.fromkeys(events)), list(dict.fromkeys(fields)) if fields else None
    _check(url, events, fields)
    access.ensure_can_manage(caller, caller.tenant_id, caller.environment)  # it yields a secret
    secret, endpoint_id, now = secrets.new_secret(), new_id(), utcnow()
    endpoint = WebhookEndpoint.create(
        tenant_id=caller.tenant_id,
        id=endpoint_id,
        environment=caller.environment,
        url=url,
        events=events,
        fields=fields,
        description=description,
        enabled=enabled,
        secret_sealed=secrets.seal(config.current().secret_keys, caller.tenant_id, endpoint_id, secret),
        created_at=now,
        updated_at=now,
    )
    changes = {
        "url": [None, _audited_url(url)],
        "events": [None, events],
        "fields": [None, fields],
        "enabled": [None, enabled],
    }
    audit.record(caller, "webhook_endpoint.created", "webhook_endpoint", endpoint.id, changes)
    return Issued(endpoint, secret)


@reading
def get_endpoint(caller: Principal, endpoint_id: str) -> WebhookEndpoint:
    return find_endpoint(caller, endpoint_id)


@reading
def list_endpoints(
    caller: Principal, *, limit: int, cursor: str | None, codec: CursorCodec
) -> PageResult[WebhookEndpoint]:
    """Newest first."""
    query = WebhookEndpoint.select().where(
        (WebhookEndpoint.tenant_id == caller.tenant_id) & (WebhookEndpoint.environment == caller.environment)
    )
    return keyset_page(
        query,
        PageRequest(limit, cursor, codec),
        Keyset(WebhookEndpoint.created_at, WebhookEndpoint.id, descending=True),
        "webhook_endpoints",
        {"env": caller.environment},
    )


@transaction
def update_endpoint(caller: Principal, endpoint_id: str, values: dict[str, Any]) -> WebhookEndpoint:
    """Partial update of url, events, fields, description, enabled. Re-enabling clears the
    reason it was disabled and its failure streak (replay to catch up on missed events)."""
    endpoint = find_endpoint(caller, endpoint_id)
    access.ensure_can_manage(caller, endpoint.tenant_id, endpoint.environment)  # it re-points a read
    if "events" in values:
        values["events"] = list(dict.fromkeys(values["events"]))
    if values.get("fields"):
        values["fields"] = list(dict.fromkeys(values["fields"]))
    events = values.get("events", endpoint.events)
    fields = values.get("fields", endpoint.fields)
    _check(values.get("url"), events if ("events" in values or "fields" in values) else None, fields)
    changes: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(endpoint, name)
        if old != value:
            changes[name] = [_audited_url(old), _audited_url(value)] if name == "url" else [old, value]
            setattr(endpoint, name, value)
    if not changes:
        return endpoint
    if changes.get("enabled") == [False, True]:
        endpoint.disabled_reason = endpoint.disabled_at = endpoint.failing_since = None
    endpoint.updated_at = utcnow()
    endpoint.save()
    audit.record(caller, "webhook_endpoint.updated", "webhook_endpoint", endpoint.id, changes)
    return endpoint


@transaction
def delete_endpoint(caller: Principal, endpoint_id: str) -> WebhookEndpoint:
    """Delete it with its deliveries and their attempts (their queued jobs then do nothing)."""
    endpoint = find_endpoint(caller, endpoint_id)
    deliveries = WebhookDelivery.select(WebhookDelivery.id).where(
        (WebhookDelivery.tenant_id == endpoint.tenant_id) & (WebhookDelivery.endpoint_id == endpoint.id)
    )
    WebhookAttempt.delete().where(
        (WebhookAttempt.tenant_id == endpoint.tenant_id) & WebhookAttempt.delivery_id.in_(deliveries)
    ).execute()
    WebhookDelivery.delete().where(
        (WebhookDelivery.tenant_id == endpoint.tenant_id) & (WebhookDelivery.endpoint_id == endpoint.id)
    ).execute()
    endpoint.delete_instance()
    audit.record(caller, "webhook_endpoint.deleted", "webhook_endpoint", endpoint.id)
    return endpoint


@transaction
def rotate_secret(caller: Principal, endpoint_id: str) -> Issued:
    """A new secret; the previous one keeps signing too (a second signature) for 24 hours."""
    endpoint = find_endpoint(caller, endpoint_id)
    access.ensure_can_manage(caller, endpoint.tenant_id, endpoint.environment)  # the power check
    secret, now = secrets.new_secret(), utcnow()
    endpoint.previous_secret_sealed = endpoint.secret_sealed
    endpoint.previous_secret_until = now + ROTATION_OVERLAP
    endpoint.secret_sealed = secrets.seal(
        config.current().secret_keys, endpoint.tenant_id, endpoint.id, secret
    )
    endpoint.updated_at = now
    endpoint.save()
    audit.record(
        caller, "webhook_endpoint.secret_rotated", "webhook_endpoint", endpoint.id, {"secret": [None, None]}
    )
    return Issued(endpoint, secret)
