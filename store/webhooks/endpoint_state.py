"""An endpoint's health: failing since when, and disabling it (410 Gone, or failing too long).

A disabled endpoint is never deleted and no event is dropped: the feed keeps every event, and
re-enabling (PATCH ``enabled: true``) plus a replay catches up. Disabling writes an audit event
(actor ``system``) with the reason.
"""

from __future__ import annotations

import datetime as dt

from store.access import power
from store.access.principals import Principal
from store.audit import log as audit
from store.models import utcnow
from store.webhooks.models import WebhookEndpoint

SYSTEM_ACTOR = "webhooks"


def _key(endpoint: WebhookEndpoint) -> object:
    return (WebhookEndpoint.tenant_id == endpoint.tenant_id) & (WebhookEndpoint.id == endpoint.id)


def system_principal(tenant_id: str, environment: str) -> Principal:
    """The actor of changes the delivery machinery makes on its own."""
    return power.acting(
        power.Power(tenant_id, environment, frozenset(), None),
        plan="",
        actor_type="system",
        actor_id=SYSTEM_ACTOR,
    )


def disable(endpoint: WebhookEndpoint, reason: str) -> None:
    now = utcnow()
    WebhookEndpoint.update(enabled=False, disabled_reason=reason, disabled_at=now, updated_at=now).where(
        _key(endpoint)
    ).execute()
    caller = system_principal(endpoint.tenant_id, endpoint.environment)
    audit.record(
        caller,
        "webhook_endpoint.disabled",
        "webhook_endpoint",
        endpoint.id,
        {"enabled": [True, False], "disabled_reason": [None, reason]},
    )


def recovered(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.update(failing_since=None).where(_key(endpoint)).execute()


def failing_too_long(endpoint: WebhookEndpoint, at: dt.datetime, limit: dt.timedelta) -> bool:
    """Note a failure at ``at``; True once the failures have run unbroken for ``limit``."""
    if endpoint.failing_since is None:
        WebhookEndpoint.update(failing_since=at).where(_key(endpoint)).execute()
        return False
    return bool(at - endpoint.failing_since >= limit)
