"""The dedup job's prepared writes (`store.duplicates.writes`) send exactly the SQL and
parameters peewee builds for the same calls, on the database under test."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.duplicates import writes
from store.duplicates.matching import REASONS
from store.models import Lead, LeadDuplicate

IDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=16, max_size=16)
REASON_SETS = st.lists(st.sampled_from(REASONS), min_size=1, max_size=3, unique=True).map(
    lambda reasons: tuple(sorted(reasons))
)


def _adapted(params: list[Any]) -> list[Any]:
    return [getattr(value, "adapted", value) for value in params]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tenant_id=IDS,
    pairs=st.lists(st.tuples(IDS, IDS, REASON_SETS), min_size=1, max_size=6),
    micros=st.integers(0, 999_999),
)
def test_prepared_pairs_upsert_is_peewees(
    app: Any, tenant_id: str, pairs: list[tuple[str, str, tuple[str, ...]]], micros: int
) -> None:
    now = dt.datetime(2026, 12, 1, 12, 0, 0, micros)
    rows = [
        {"tenant_id": tenant_id, "lead_id": a, "duplicate_id": b, "environment": "live",
         "reasons": list(reasons), "detected_at": now}
        for a, b, reasons in pairs
    ]  # fmt: skip
    theirs = (
        LeadDuplicate.insert_many(rows)
        .on_conflict(
            conflict_target=(LeadDuplicate.tenant_id, LeadDuplicate.lead_id, LeadDuplicate.duplicate_id),
            preserve=(LeadDuplicate.reasons, LeadDuplicate.detected_at),
        )
        .sql()
    )
    values: dict[str, Any] = {"tenant_id": tenant_id, "environment": "live", "now": now}
    for n, (a, b, _) in enumerate(pairs):
        values[f"lead{n}"], values[f"other{n}"] = a, b
    ours = writes.PAIRS.sql(tuple(reasons for _, _, reasons in pairs), values)
    assert ours[0] == theirs[0]
    assert _adapted(ours[1]) == _adapted(theirs[1])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tenant_id=IDS, lead_id=IDS, pointed=st.one_of(st.none(), IDS))
def test_prepared_point_is_peewees(app: Any, tenant_id: str, lead_id: str, pointed: str | None) -> None:
    differs = (
        Lead.duplicate_of.is_null(False)
        if pointed is None
        else (Lead.duplicate_of.is_null() | (Lead.duplicate_of != pointed))
    )
    theirs = (
        Lead.update(duplicate_of=pointed, version=Lead.version + 1)
        .where((Lead.tenant_id == tenant_id) & (Lead.id == lead_id) & differs)
        .sql()
    )
    ours = writes.POINT.sql(pointed is None, {"tenant_id": tenant_id, "id": lead_id, "pointed": pointed})
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
