"""The per-tenant, per-environment lead counter behind plan quotas and ``GET /v1/tenant``.

Every path that inserts or deletes lead rows changes the counter inside its own transaction,
so the counter commits or rolls back with the rows. Creating leads goes through `reserve`: one
conditional ``UPDATE ... SET count = count + n WHERE count + n <= quota``, which checks and
takes the room in the same statement. On PostgreSQL that UPDATE locks the counter row and
re-reads it after any concurrent writer commits, so racing creates can never overshoot the
quota (a separate read-then-write could: 30 concurrent creates at 995/1000 once ended at
1,002). SQLite serialises all writers anyway.

Lock order: a transaction that locks the counter row and lead rows takes the counter first
(`lock`, then `store.leads` row locks), so a delete, a merge, an upsert and an import batch can
never wait on each other in a cycle.
"""

from __future__ import annotations

import peewee

from store.db import database, is_postgres, locked
from store.models import LeadCount
from store.prepared import Prepared, param


def _row(tenant_id: str, environment: str) -> peewee.Expression:
    return (LeadCount.tenant_id == tenant_id) & (LeadCount.environment == environment)


def _ensure(tenant_id: str, environment: str) -> None:
    LeadCount.insert(tenant_id=tenant_id, environment=environment, count=0).on_conflict_ignore().execute()


def lock(tenant_id: str, environment: str) -> None:
    """Hold the counter row until the transaction ends (PostgreSQL; SQLite holds everything)."""
    _ensure(tenant_id, environment)
    if is_postgres():
        locked(LeadCount.select(LeadCount.count).where(_row(tenant_id, environment))).execute()


def reserve(tenant_id: str, environment: str, adding: int, quota: int | None) -> bool:
    """Count ``adding`` new leads if they fit under ``quota`` (None: no cap); False if not.

    One statement: an upsert whose ``DO UPDATE`` is conditional, so a missing counter row is
    created and an existing one checked and moved at once (it changes no row when the leads do
    not fit). PostgreSQL re-checks the condition on the latest row after waiting for its lock.
    """
    if adding <= 0:
        return True
    if quota is not None and adding > quota:
        return False  # not even into an empty counter
    values = {"tenant_id": tenant_id, "environment": environment, "adding": adding, "quota": quota}
    text, params = RESERVE.sql(quota is not None, values)
    return bool(database.execute_sql(text, params).rowcount)


def _reserve_query(capped: bool) -> peewee.Insert:
    # Plain parameters, not the count column's conversion (peewee would convert the markers).
    adding = peewee.Value(param("adding"), converter=False)
    update = LeadCount.count + adding
    return LeadCount.insert(
        tenant_id=param("tenant_id"), environment=param("environment"), count=adding
    ).on_conflict(
        conflict_target=[LeadCount.tenant_id, LeadCount.environment],
        update={LeadCount.count: update},
        where=(update <= peewee.Value(param("quota"), converter=False)) if capped else None,
    )


# Run by every create: built once per dialect (capped or not), not per create.
RESERVE = Prepared(_reserve_query, ("tenant_id", "environment", "adding", "quota"))


def adjust(tenant_id: str, environment: str, delta: int) -> None:
    """Move the counter by ``delta`` without a quota (removals: deletes and merges)."""
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
    row = LeadCount.select(LeadCount.count).where(_row(tenant_id, environment)).first()
    return int(row.count) if row is not None else 0
