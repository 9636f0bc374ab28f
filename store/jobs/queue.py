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
- ``claim(worker_id, *, limit=1, lease_seconds=300, tenant_id=None) -> list[Job]`` (`store.jobs.claims`)
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
from store.db import reading, transaction
from store.errors import NotFound
from store.ids import new_id
from store.jobs.claims import CLAIMABLE as CLAIMABLE
from store.jobs.claims import claim as claim
from store.jobs.states import DONE as DONE
from store.jobs.states import FAILED as FAILED
from store.jobs.states import QUEUED as QUEUED
from store.jobs.states import RUNNING as RUNNING
from store.models import Job, utcnow

# `CLAIMABLE`, `claim` and the states are imported for callers: the queue's API (see above).

log = logging.getLogger("leadpipe.jobs")

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
