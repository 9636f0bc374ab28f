"""Claiming due jobs: each one handed to exactly one worker (`claim`), the candidates read with
a query built once per shape (`CLAIMABLE`). Part of the queue's API (`store.jobs.queue`, which
re-exports `claim`); on its own because the claim's rules (abandoned leases, a last attempt that
died with its worker, the per-database locking) are a job of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import peewee

from store.db import is_postgres, transaction
from store.jobs.states import FAILED, IN_DUE_INDEX, QUEUED, RUNNING
from store.models import Job, utcnow
from store.prepared import Prepared, param

# (tenant given, kinds, skip_kinds, lock): what changes the claim's SQL text.
Shape = tuple[bool, tuple[str, ...] | None, tuple[str, ...], bool]


def _claimable(shape: Shape) -> peewee.ModelSelect[Job]:
    by_tenant, kinds, skip_kinds, lock = shape
    now = param("now")
    due = (Job.state == QUEUED) & (Job.run_at <= now)
    # A running job whose lease ran out belongs to a worker that died: run it again.
    abandoned = (Job.state == RUNNING) & (Job.locked_until < now)
    query = Job.select().where(IN_DUE_INDEX & (due | abandoned))
    if by_tenant:
        query = query.where(Job.tenant_id == param("tenant_id"))
    if kinds is not None:
        query = query.where(Job.kind.in_(list(kinds)))
    if skip_kinds:
        query = query.where(Job.kind.not_in(list(skip_kinds)))
    query = query.order_by(Job.run_at, Job.id).limit(param("limit"))
    return query.for_update(skip_locked=True) if lock else query


# Every worker round runs it (twice: the batched kinds, then the others): built once per shape.
CLAIMABLE = Prepared(_claimable, ("now", "tenant_id", "limit"))


@transaction
def claim(
    worker_id: str,
    *,
    limit: int = 1,
    lease_seconds: int = 300,
    tenant_id: str | None = None,
    kinds: Sequence[str] | None = None,
    skip_kinds: Sequence[str] = (),
) -> list[Job]:
    """Due jobs (of ``kinds`` if given, none of ``skip_kinds``), each handed to this worker only.

    The candidates are read and taken in this one write transaction, where nobody else can take
    them meanwhile: PostgreSQL's ``FOR UPDATE SKIP LOCKED`` locks them for us (skipping those
    another worker holds), SQLite's IMMEDIATE transaction holds the only writer. So one UPDATE
    per tenant and state seen takes them all, still guarded by the state and attempt count read;
    should it ever take fewer (it cannot, by the above), the rows it did take are read back.
    """
    now = utcnow()
    shape = (tenant_id is not None, None if kinds is None else tuple(kinds), tuple(skip_kinds), is_postgres())
    candidates: list[Job] = CLAIMABLE.rows(Job, shape, {"now": now, "tenant_id": tenant_id, "limit": limit})
    lease = now + dt.timedelta(seconds=lease_seconds)
    claimed: list[Job] = []
    for job in candidates:
        if job.state == RUNNING and job.attempts >= job.max_attempts:
            _give_up(job, now)  # its last attempt died with its worker: do not run it again
        else:
            claimed.append(job)
    # Jobs grouped by what the guard checks: each UPDATE takes a group's rows only if they are
    # still in the state, with the attempt count, that was read (nearly always one group).
    groups: dict[tuple[str, str, int], list[Job]] = {}
    for job in claimed:
        groups.setdefault((job.tenant_id, job.state, job.attempts), []).append(job)
    for (tenant, state, attempts), group in groups.items():
        ids = [job.id for job in group]
        taken = (
            Job.update(
                state=RUNNING,
                locked_by=worker_id,
                locked_until=lease,
                attempts=Job.attempts + 1,
                updated_at=now,
            )
            .where(
                (Job.tenant_id == tenant)
                & Job.id.in_(ids)
                & (Job.state == state)
                & (Job.attempts == attempts)
            )
            .execute()
        )
        if taken != len(group):  # pragma: no cover - see the docstring
            mine = {
                row.id
                for row in Job.select(Job.id).where(
                    (Job.tenant_id == tenant)
                    & Job.id.in_(ids)
                    & (Job.locked_by == worker_id)
                    & (Job.locked_until == lease)
                )
            }
            lost = set(ids) - mine
            claimed = [job for job in claimed if job.id not in lost]
    for job in claimed:
        job.state, job.locked_by, job.locked_until = RUNNING, worker_id, lease
        job.attempts += 1
    return claimed


def _give_up(job: Job, now: dt.datetime) -> None:
    Job.update(
        state=FAILED,
        locked_until=None,
        finished_at=now,
        updated_at=now,
        last_error="worker lost on the last attempt",
    ).where((Job.tenant_id == job.tenant_id) & (Job.id == job.id) & (Job.state == RUNNING)).execute()
