"""THE POWER CHECK CALL SITE for webhook secrets (``POST .../rotate-secret``).

A secret handed out is power: whoever holds it can forge deliveries to the endpoint's
receiver. `ensure_can_manage` is the single place that decides whether the caller may obtain
one for this endpoint. It is written here for now; point it at the power branch's
``store.access.power`` (``ensure_within``-style) when that lands, and nothing else changes.
"""

from __future__ import annotations

from store.errors import NotFound, PermissionDenied
from store.principals import Principal
from store.webhooks.models import WebhookEndpoint

SCOPE = "admin:webhooks"


def ensure_can_manage(caller: Principal, endpoint: WebhookEndpoint) -> None:
    """The caller holds ``admin:webhooks`` in the endpoint's own tenant and environment."""
    if endpoint.tenant_id != caller.tenant_id or endpoint.environment != caller.environment:
        raise NotFound("Webhook endpoint not found")
    if SCOPE not in caller.scopes:
        raise PermissionDenied(f"Issuing a webhook secret needs scope {SCOPE}")
