"""The power check for webhook endpoints (create, update, rotate-secret, replay).

An endpoint is power twice over: its secret lets the holder forge deliveries, and the endpoint
itself is a standing read of lead data (events carry leads). Every path that creates, re-points,
re-keys or replays one goes through `ensure_can_manage`, which asks the one power check
(`store.access.power`) whether that stays within the caller's power.
"""

from __future__ import annotations

from store.access import power
from store.access.principals import Principal
from store.errors import NotFound


def ensure_can_manage(caller: Principal, tenant_id: str, environment: str) -> None:
    """The caller holds ``admin:webhooks`` in the endpoint's own tenant and environment."""
    if tenant_id != caller.tenant_id or environment != caller.environment:
        raise NotFound("Webhook endpoint not found")
    power.ensure_within(caller, power.of_webhook_secret(tenant_id, environment), "issue a webhook secret")
