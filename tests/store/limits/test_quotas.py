"""The lead counter moves with every path that adds or removes leads, per environment."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.db import transaction
from store.duplicates import merge
from store.imports import rows
from store.leads import lifecycle as leads
from store.limits import quotas
from store.models import Lead, LeadCount
from tests.support import SeededTenant, principal


def fields(**overrides: Any) -> dict[str, Any]:
    return {
        "email": f"c.{uuid.uuid4().hex[:8]}@example.com",
        "first_name": "C",
        "last_name": "D",
        **overrides,
    }


def stored(tenant_id: str, environment: str) -> int:
    return int(Lead.select().where((Lead.tenant_id == tenant_id) & (Lead.environment == environment)).count())


def test_counter_follows_create_import_merge_and_delete(tenant: SeededTenant) -> None:
    live, sandbox = principal(tenant.live_key), principal(tenant.sandbox_key)

    first, second, third = (leads.create_lead(live, fields()) for _ in range(3))
    leads.create_lead(sandbox, fields())
    outcomes = rows.import_items(
        live, [{"email": "imp@example.com", "firstName": "I", "lastName": "M"}, {"email": "bad"}], "allow"
    )
    assert [o.status for o in outcomes].count("created") == 1
    assert quotas.current(tenant.id, "live") == 4

    merge.merge_leads(live, first.id, [second.id, third.id])
    leads.delete_lead(live, first.id)

    assert quotas.current(tenant.id, "live") == stored(tenant.id, "live") == 1
    assert quotas.current(tenant.id, "sandbox") == stored(tenant.id, "sandbox") == 1


def test_a_tenant_without_leads_counts_zero(tenant: SeededTenant) -> None:
    assert quotas.current(tenant.id, "live") == 0


def _reserve_as_built_by_peewee(tenant_id: str, environment: str, adding: int, quota: int | None) -> bool:
    """`quotas.reserve` as it was before its SQL was prepared once: built by peewee per call."""
    if adding <= 0:
        return True
    if quota is not None and adding > quota:
        return False
    update = LeadCount.count + adding
    query = LeadCount.insert(tenant_id=tenant_id, environment=environment, count=adding).on_conflict(
        conflict_target=[LeadCount.tenant_id, LeadCount.environment],
        update={LeadCount.count: update},
        where=None if quota is None else (update <= quota),
    )
    return bool(query.as_rowcount().execute())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.integers(-1, 7), st.one_of(st.none(), st.integers(0, 12))), min_size=1, max_size=6
    )
)
def test_prepared_reserve_moves_the_counter_as_the_peewee_built_one(
    app: Any, steps: list[tuple[int, int | None]]
) -> None:
    """Property: the same reservations against two fresh counters (one through the prepared SQL,
    one through the query peewee builds) answer alike and leave the same count, capped or not,
    from a missing row or an existing one."""
    ours, theirs = f"q{uuid.uuid4().hex[:15]}", f"q{uuid.uuid4().hex[:15]}"

    @transaction
    def run() -> None:
        for adding, quota in steps:
            assert quotas.reserve(ours, "live", adding, quota) is _reserve_as_built_by_peewee(
                theirs, "live", adding, quota
            )
            assert quotas.current(ours, "live") == quotas.current(theirs, "live")

    run()
