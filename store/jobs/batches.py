"""Batched jobs: many claimed jobs of one batchable kind (``@job_handler(kind, batch=True)``,
e.g. dedup) run in ONE transaction, each in a savepoint together with its completion (or,
claimed in that transaction, all in one savepoint, run again one savepoint each if a job raised).

Why: a dedup job is a few ms of short writes; run one by one, each costs a claim transaction
and a completion transaction, i.e. three turns of SQLite's single writer (and on PostgreSQL
three commits). `claim_and_run` takes one turn for up to a batch of jobs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import peewee

from store.db import database, is_postgres, transaction
from store.errors import Unavailable
from store.jobs import queue, registry
from store.models import Job, utcnow


class BatchRun(Protocol):
    """A batch's shared work, for kinds whose jobs are cheaper together (one query for all the
    batch's leads instead of a few per job). `run_batch` calls, in its transaction, in claim
    order: ``run`` for each job, in the job's savepoint (its result
    is the job's); ``kept`` once a job's savepoint committed with its ``done`` (a job that
    raised or lost its lease gets none); ``close`` after the last job, for the writes of the
    kept jobs that are cheaper done once (their events)."""

    def run(self, job: Job) -> dict[str, Any] | None: ...

    def kept(self, job: Job) -> None: ...

    def close(self) -> None: ...


BatchStart = Callable[[Sequence[Job]], BatchRun]
_STARTS: dict[str, BatchStart] = {}


def batch_start(kind: str) -> Callable[[BatchStart], BatchStart]:
    """Register how a batch of ``kind`` starts: ``fn(claimed) -> BatchRun``, reading what the
    whole batch needs. Without one, `run_batch` calls the kind's handler per job. The handler
    stays what a job run alone (the fallback when a batch cannot commit) uses."""

    def register(fn: BatchStart) -> BatchStart:
        _STARTS[kind] = fn
        return fn

    return register


@transaction
def claim_and_run(
    worker_id: str, kind: str, handler: registry.JobHandler, *, limit: int, tenant_id: str | None = None
) -> tuple[list[Job], dict[str, Exception]]:
    """Claim due jobs of one batchable ``kind`` and run them (`run_batch`) in the SAME
    transaction: one turn of SQLite's writer lock for the whole batch, where claiming apart
    would queue twice behind the request path's writes. A crash before the commit leaves the
    jobs queued as they were (no lease to wait out)."""
    claimed = queue.claim(worker_id, limit=limit, tenant_id=tenant_id, kinds=(kind,))
    if not claimed:
        return claimed, {}
    try:
        # Optimistic: no savepoint per job (two statements each, most of a batch's round trips
        # on PostgreSQL). `run_batch` is itself one savepoint here (nested `transaction`), so a
        # job that raises rolls the whole batch back to the claim ...
        return claimed, run_batch(claimed, handler, leases_held=True, per_job=False)
    except _JobRaised:
        # ... and it runs again with a savepoint per job: the others commit, that one is failed.
        return claimed, run_batch(claimed, handler, leases_held=True)


class _JobRaised(Exception):
    """A job of a batch run without savepoints raised (`run_batch` with ``per_job=False``)."""


def take_turn(kind: str, tenant_id: str) -> None:
    """Wait for, then hold until the transaction ends, the turn of ``kind`` work for one tenant
    (a transaction-scoped advisory lock on PostgreSQL; SQLite's single writer already serializes
    writers). Whatever else does that kind's work for the tenant in bulk takes the same turn."""
    if is_postgres():
        database.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{kind}:{tenant_id}",))


@transaction
def run_batch(
    claimed: Sequence[Job], handler: registry.JobHandler, *, leases_held: bool = False, per_job: bool = True
) -> dict[str, Exception]:
    """Run claimed jobs of one batchable kind in ONE transaction (one BEGIN/COMMIT, on SQLite one
    turn of the writer lock, instead of two per job); returns job id -> the error of each job
    that raised (the caller records it with `fail`, in its own transaction).

    Each job runs in a savepoint together with its completion, so a job's writes commit exactly
    when its ``done`` does: a job that raised, or whose lease is no longer held (a worker that
    was too slow), leaves nothing behind. The completion's UPDATE also holds the job row until
    the commit (PostgreSQL; SQLite has one writer), so no other worker can claim it meanwhile.

    ``leases_held``: the jobs were claimed in this same transaction (`claim_and_run`), so no
    lease can have been lost; their completions are then one UPDATE after the last job
    (`finish_all`), still in this transaction: a job's writes and its ``done`` commit together.

    ``per_job=False`` (with ``leases_held`` only: no lease can be lost) runs the jobs without
    their savepoints and raises `_JobRaised` at the first job that raises, for the caller to roll
    the batch back and run it again with them: the same outcome, two statements fewer per job.
    """
    # Batches of one kind and tenant take turns, in a fixed order: two workers' batches over the
    # same leads would otherwise lock rows in different orders and deadlock.
    for kind, tenant_id in sorted({(job.kind, job.tenant_id) for job in claimed}):
        take_turn(kind, tenant_id)
    start = _STARTS.get(claimed[0].kind) if claimed else None
    batch = start(claimed) if start is not None else None
    errors: dict[str, Exception] = {}
    done: list[tuple[Job, dict[str, Any] | None]] = []
    if not per_job and not leases_held:
        raise ValueError("jobs without their savepoints need leases held by this transaction")
    for job in claimed:
        try:
            with database.atomic() if per_job else contextlib.nullcontext() as savepoint:
                result = batch.run(job) if batch is not None else handler(job)
                held = leases_held or queue.finish(job, result)
                if not held and savepoint is not None:  # only per job: leases held never lose
                    savepoint.rollback()  # lease lost: the job is another worker's now
            if held and batch is not None:
                batch.kept(job)
            if leases_held:
                done.append((job, result))
        except (Unavailable, peewee.OperationalError, peewee.InterfaceError):
            # The database, not the job: a deadlock with another worker's batch (PostgreSQL)
            # or a lost connection. The whole batch rolls back; `transaction` runs it again
            # (deadlocks), else the caller runs the jobs one by one.
            raise
        except Exception as exc:  # this job's attempt failed; the others of the batch go on
            if not per_job:
                raise _JobRaised from exc
            errors[job.id] = exc
    if batch is not None:
        batch.close()
    finish_all(done)
    return errors


def finish_all(done: Sequence[tuple[Job, dict[str, Any] | None]]) -> None:
    """`queue.finish` for many held jobs: one UPDATE per tenant (and lease holder), each job's
    ``result`` by a CASE.
    Raises (rolling the caller's transaction back) if any lease is not held after all."""
    now = utcnow()
    # By tenant and lease holder (a batch's jobs all have the one worker that claimed them).
    by_holder: dict[tuple[str, str | None], list[tuple[Job, dict[str, Any] | None]]] = {}
    for job, result in done:
        by_holder.setdefault((job.tenant_id, job.locked_by), []).append((job, result))
    for (tenant_id, holder), group in by_holder.items():
        results = [(job.id, _json(result)) for job, result in group]
        finished = Job.update(
            {
                Job.state: queue.DONE,
                Job.locked_until: None,
                Job.finished_at: now,
                Job.updated_at: now,
                Job.result: peewee.Case(Job.id, results),
            }
        ).where(
            (Job.tenant_id == tenant_id)
            & Job.id.in_([job.id for job, _ in group])
            & (Job.state == queue.RUNNING)
            & (Job.locked_by == holder)
        )
        if finished.execute() != len(group):
            raise RuntimeError("a batched job's lease was lost inside its own claiming transaction")


def _json(result: dict[str, Any] | None) -> Any:
    """A job result as a CASE branch: typed as the column is (PostgreSQL infers no type there)."""
    value = Job.result.to_value(result)
    return peewee.Cast(value, "json") if is_postgres() else value
