"""Property: the claim's prepared query (`queue.CLAIMABLE`, built once per shape, with the
partial index's condition spelled out) picks exactly the jobs the query peewee built per call
picked, in the same order, and `claim` takes exactly those (less any whose last attempt died),
each once, with its attempt counted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import bulk
from store.db import reading, transaction
from store.ids import new_id
from store.jobs import queue as jobs
from store.models import Job, utcnow

STATES = (jobs.QUEUED, jobs.RUNNING, jobs.DONE, jobs.FAILED)
KINDS = ("test-a", "test-b", "test-c")
OFFSETS = st.sampled_from((-120, -1, 1, 120))  # seconds from now: due or not, lease out or not


def _old_claimable(now: dt.datetime, tenant_id: str | None, kinds: Any, skip_kinds: Any) -> Any:
    """`queue._claimable` as it was before it was prepared: built by peewee on every claim."""
    due = (Job.state == jobs.QUEUED) & (Job.run_at <= now)
    abandoned = (Job.state == jobs.RUNNING) & (Job.locked_until < now)
    query = Job.select().where(due | abandoned)
    if tenant_id is not None:
        query = query.where(Job.tenant_id == tenant_id)
    if kinds is not None:
        query = query.where(Job.kind.in_(list(kinds)))
    if skip_kinds:
        query = query.where(Job.kind.not_in(list(skip_kinds)))
    return query.order_by(Job.run_at, Job.id)


job_rows = st.lists(
    st.tuples(st.sampled_from(STATES), st.sampled_from(KINDS), OFFSETS, OFFSETS, st.integers(0, 3)),
    min_size=0,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=job_rows,
    kinds=st.one_of(st.none(), st.lists(st.sampled_from(KINDS), min_size=1, max_size=2, unique=True)),
    skip=st.lists(st.sampled_from(KINDS), max_size=1, unique=True),
    limit=st.integers(1, 6),
)
def test_claim_takes_what_the_peewee_built_query_picks(
    app: Any, rows: list[tuple[str, str, int, int, int]], kinds: list[str] | None, skip: list[str], limit: int
) -> None:
    tenant_id, now = new_id(), utcnow()
    values = [
        {
            "tenant_id": tenant_id, "id": new_id(), "kind": kind, "payload": {}, "state": state,
            "attempts": attempts, "max_attempts": 2, "run_at": now + dt.timedelta(seconds=run_at),
            "created_at": now, "updated_at": now, "locked_by": "w" if state == jobs.RUNNING else None,
            "locked_until": now + dt.timedelta(seconds=lease) if state == jobs.RUNNING else None,
            "last_error": None, "result": None, "finished_at": None,
        }
        for state, kind, run_at, lease, attempts in rows
    ]  # fmt: skip
    transaction(bulk.insert_rows)(Job, values)
    later = utcnow()

    @reading
    def both() -> tuple[list[str], list[str]]:
        shape = (True, None if kinds is None else tuple(kinds), tuple(skip), False)
        ours = jobs.CLAIMABLE.rows(Job, shape, {"now": later, "tenant_id": tenant_id, "limit": limit})
        theirs = _old_claimable(later, tenant_id, kinds, skip).limit(limit)
        return [job.id for job in ours], [job.id for job in theirs]

    ours, theirs = both()
    assert ours == theirs
    before = {row["id"]: row for row in values}
    claimed = jobs.claim("worker-p", limit=limit, tenant_id=tenant_id, kinds=kinds, skip_kinds=skip)
    exhausted = {i for i in theirs if before[i]["state"] == jobs.RUNNING and before[i]["attempts"] >= 2}
    assert [job.id for job in claimed] == [i for i in theirs if i not in exhausted]
    for job in claimed:
        stored = Job.get((Job.tenant_id == tenant_id) & (Job.id == job.id))
        assert (stored.state, stored.locked_by) == (jobs.RUNNING, "worker-p")
        assert stored.attempts == before[job.id]["attempts"] + 1 == job.attempts
    for job_id in exhausted:
        assert Job.get((Job.tenant_id == tenant_id) & (Job.id == job_id)).state == jobs.FAILED
