"""The per-tenant, per-environment lead counter behind plan quotas and ``GET /v1/tenant``.

Every path that inserts or deletes lead rows calls `adjust` inside its own transaction, so
the counter commits or rolls back with the rows. On PostgreSQL the upsert locks the counter
row until commit, which serialises one tenant's lead writes per environment for the few
milliseconds a create takes; SQLite serialises all writers anyway.
"""

from __future__ import annotations

from store.models import LeadCount


def adjust(tenant_id: str, environment: str, delta: int) -> None:
    if delta == 0:
        return
    (
        LeadCount.insert(tenant_id=tenant_id, environment=environment, count=max(delta, 0))
        .on_conflict(
            conflict_target=[LeadCount.tenant_id, LeadCount.environment],
            update={LeadCount.count: LeadCount.count + delta},
        )
        .execute()
    )


def current(tenant_id: str, environment: str) -> int:
    row = (
        LeadCount.select(LeadCount.count)
        .where((LeadCount.tenant_id == tenant_id) & (LeadCount.environment == environment))
        .first()
    )
    return int(row.count) if row is not None else 0
