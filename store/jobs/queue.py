"""A durable job queue in the application database.

API (for other modules; see ``handlers/worker.py`` for the loop that runs jobs):

- ``enqueue(tenant_id, kind, payload, *, run_at=None, max_attempts=5) -> Job``
  Inserts a queued job. Call it inside the caller's ``@transaction``: the job commits (or rolls
  back) together with the row it is about, so a crash or restart never loses one.
- ``enqueue_many(tenant_id, kind, payloads)``: the same for many jobs in a few multi-row INSERTs.
- ``@job_handler("kind")`` (`store.jobs.registry`) registers ``fn(job: Job) -> dict | None``
  for a kind. The handler runs OUTSIDE any transaction (open your own with ``@transaction``
  store functions, e.g. one per batch); its return value is stored as ``job.result``. Raise to
  fail the attempt: it is retried with exponential backoff until ``max_attempts``, then left in
  state ``failed`` with ``last_error``. Delivery is at-least-once (a worker killed mid-job
  leaves a lease that expires and the job runs again), so handlers must be idempotent.
- ``claim(worker_id, *, limit=1, lease_seconds=300, tenant_id=None) -> list[Job]``
  Hands each job to exactly one worker: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL,
  a conditional ``UPDATE ... WHERE state = <seen>`` checked by row count on SQLite (whose
  IMMEDIATE transactions serialize writers anyway).
- ``heartbeat(job, lease_seconds=300)`` extends a long job's lease (call it between batches);
  ``progress(job, result)`` stores intermediate ``result`` (e.g. import counters) at the same time.
- ``complete(job, result=None)`` / ``fail(job, error)`` end an attempt; both only act while the
  caller still holds the lease, so a worker that lost its lease cannot overwrite a newer run.
- ``get_job(tenant_id, job_id)`` reads one job (state, attempts, result, last_error). The
  upkeep (dead leases, purging, depth for ``/metrics``) is `store.jobs.upkeep`.
- ``@job_handler("kind", batch=True)`` marks a handler whose work is a few short database
  writes (dedup): the worker runs many claimed jobs of that kind in ONE transaction
  (`store.jobs.batches`), each job in its own savepoint together with its completion.
- ``wait_for_work(timeout)``: how an idle worker sleeps; `enqueue` in this process wakes it.

States: ``queued`` -> ``running`` -> ``done`` | back to ``queued`` (retry) | ``failed``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from typing import Any

import peewee

from store import bulk
from store.db import is_postgres, reading, transaction
from store.errors import NotFound
from store.ids import new_id
from store.models import Job, utcnow
from store.prepared import Prepared, param

log = logging.getLogger("leadpipe.jobs")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_BACKOFF_SECONDS = 600

# Set by every enqueue of this process (before its commit: the waiter re-polls shortly after,
# see handlers/worker.py); workers in other processes poll.
_ENQUEUED = threading.Event()


def wait_for_work(timeout: float) -> bool:
    """Sleep up to ``timeout`` s or until a job is enqueued in this process; True if woken."""
    woken = _ENQUEUED.wait(timeout)
    _ENQUEUED.clear()
    return woken


def enqueue(
    tenant_id: str,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: dt.datetime | None = None,
    max_attempts: int = 5,
) -> Job:
    """Queue a job; joins the caller's transaction when called inside one."""
    now = utcnow()
    job = _insert(tenant_id, kind, payload, run_at or now, max_attempts, now)
    _ENQUEUED.set()
    return job


@transaction
def _insert(
    tenant_id: str,
    kind: str,
    payload: dict[str, Any],
    run_at: dt.datetime,
    max_attempts: int,
    now: dt.datetime,
) -> Job:
    return Job.create(**_row(tenant_id, kind, payload, run_at, max_attempts, now))


def enqueue_many(
    tenant_id: str, kind: str, payloads: Sequence[dict[str, Any]], *, max_attempts: int = 5
) -> None:
    """`enqueue` for many jobs at once (bulk imports): a few multi-row INSERTs. Call it inside
    the caller's transaction, like `enqueue`."""
    now = utcnow()
    rows = [_row(tenant_id, kind, payload, now, max_attempts, now) for payload in payloads]
    bulk.insert_rows(Job, rows)
    _ENQUEUED.set()


def _row(
    tenant_id: str,
    kind: str,
    payload: dict[str, Any],
    run_at: dt.datetime,
    max_attempts: int,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": new_id(),
        "kind": kind,
        "payload": payload,
        "state": QUEUED,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_at": run_at,
        "created_at": now,
        "updated_at": now,
        "locked_by": None,
        "locked_until": None,
        "last_error": None,
        "result": None,
        "finished_at": None,
    }


# Implied by the conditions of `_claimable`, but written as the partial index ``jobs_due``
# (migration 0004) writes its WHERE, with literal values: SQLite uses a partial index only when
# the query's WHERE contains its condition, and a bound parameter never counts as one, so the
# claim scanned every job ever run (all the done ones too), twice per worker round.
_IN_DUE_INDEX = Job.state.in_([peewee.SQL(f"'{QUEUED}'"), peewee.SQL(f"'{RUNNING}'")])

# (tenant given, kinds, skip_kinds, lock): what changes the claim's SQL text.
Shape = tuple[bool, tuple[str, ...] | None, tuple[str, ...], bool]


def _claimable(shape: Shape) -> peewee.ModelSelect[Job]:
    by_tenant, kinds, skip_kinds, lock = shape
    now = param("now")
    due = (Job.state == QUEUED) & (Job.run_at <= now)
    # A running job whose lease ran out belongs to a worker that died: run it again.
    abandoned = (Job.state == RUNNING) & (Job.locked_until < now)
    query = Job.select().where(_IN_DUE_INDEX & (due | abandoned))
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


def _held(job: Job) -> peewee.Expression:
    return (
        (Job.tenant_id == job.tenant_id)
        & (Job.id == job.id)
        & (Job.state == RUNNING)
        & (Job.locked_by == job.locked_by)
        & (Job.attempts == job.attempts)
    )


@transaction
def heartbeat(job: Job, lease_seconds: int = 300) -> bool:
    """Extend the lease; False means the lease was lost and the worker should stop."""
    lease = utcnow() + dt.timedelta(seconds=lease_seconds)
    held = Job.update(locked_until=lease, updated_at=utcnow()).where(_held(job)).execute() == 1
    if held:
        job.locked_until = lease
    return held


@transaction
def progress(job: Job, result: dict[str, Any], lease_seconds: int = 300) -> bool:
    """Store intermediate results and extend the lease in one write."""
    lease = utcnow() + dt.timedelta(seconds=lease_seconds)
    query = Job.update(result=result, locked_until=lease, updated_at=utcnow()).where(_held(job))
    return query.execute() == 1


@transaction
def complete(job: Job, result: dict[str, Any] | None = None) -> bool:
    return finish(job, result)


def finish(job: Job, result: dict[str, Any] | None) -> bool:
    """Mark a held job ``done`` (call inside a transaction); False if its lease was lost."""
    now = utcnow()
    values: dict[Any, Any] = {
        Job.state: DONE,
        Job.locked_until: None,
        Job.finished_at: now,
        Job.updated_at: now,
    }
    if result is not None:
        values[Job.result] = result
    return Job.update(values).where(_held(job)).execute() == 1


@transaction
def fail(job: Job, error: str) -> bool:
    """End a failed attempt: retry later with exponential backoff, or give up for good."""
    now = utcnow()
    final = job.attempts >= job.max_attempts
    backoff = min(2**job.attempts, MAX_BACKOFF_SECONDS)
    values: dict[Any, Any] = {
        Job.state: FAILED if final else QUEUED,
        Job.last_error: error[:2000],
        Job.locked_until: None,
        Job.updated_at: now,
        Job.run_at: now + dt.timedelta(seconds=0 if final else backoff),
    }
    if final:
        values[Job.finished_at] = now
        log.error("job %s (%s) failed for good after %d attempts", job.id, job.kind, job.attempts)
    return Job.update(values).where(_held(job)).execute() == 1


@reading
def get_job(tenant_id: str, job_id: str) -> Job:
    job = Job.select().where((Job.tenant_id == tenant_id) & (Job.id == job_id)).first()
    if job is None:
        raise NotFound("Job not found")
    return job
