"""The queue's upkeep and the readings operators need: leases of dead workers released after a
restart, finished jobs purged, the depth per kind for ``/metrics``, the pending count for health
checks. The queue itself (enqueue, claim, complete, fail) is `store.jobs.queue`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import peewee

from store.db import reading, transaction
from store.jobs.states import DONE, IN_DUE_INDEX, RUNNING
from store.models import Job, utcnow

log = logging.getLogger("leadpipe.jobs")


@transaction
def release_dead_leases(host: str, is_dead: Callable[[str], bool]) -> int:
    """Expire now the leases of this host's workers that are gone (killed, crashed, OOM), so
    their jobs run again at once after a restart instead of when the lease (5 minutes) runs
    out. ``is_dead`` judges a worker id; the claim then treats the jobs as abandoned, which
    keeps its rules (a job that died on its last attempt fails instead of running again)."""
    now = utcnow()
    running = Job.select(Job.tenant_id, Job.id, Job.locked_by).where(
        (Job.state == RUNNING) & (Job.locked_until >= now) & Job.locked_by.startswith(f"{host}:")
    )
    released = 0
    for job in list(running):
        holder = str(job.locked_by or "")
        if holder.split(":", 1)[0] == host and is_dead(holder):
            released += (
                Job.update(locked_until=now - dt.timedelta(seconds=1), updated_at=now)
                .where(
                    (Job.tenant_id == job.tenant_id) & (Job.id == job.id) & (Job.locked_by == job.locked_by)
                )
                .execute()
            )
    if released:
        log.warning("released %d job(s) of dead workers on %s", released, host)
    return released


def pending(tenant_id: str | None = None) -> peewee.ModelSelect[Job]:
    """Jobs not yet finished (queued or running), read from the partial index ``jobs_due``
    (`IN_DUE_INDEX`): the queue's few pending rows, not every job kept for the week."""
    query = Job.select(Job.id).where(IN_DUE_INDEX)
    if tenant_id is not None:
        query = query.where(Job.tenant_id == tenant_id)
    return query


@reading
def pending_count(tenant_id: str | None = None) -> int:
    """How many jobs are not yet finished: for health checks and tests."""
    return pending(tenant_id).count()


@transaction
def purge_finished(older_than: dt.timedelta = dt.timedelta(days=7)) -> int:
    """Delete jobs that succeeded before the cutoff, so the queue table stays small. Failed jobs
    are kept: their ``last_error`` is what an operator needs."""
    cutoff = utcnow() - older_than
    return Job.delete().where((Job.state == DONE) & (Job.finished_at < cutoff)).execute()


@reading
def depth_by_kind() -> list[tuple[str, str, int]]:
    """``(kind, state, count)`` over every tenant: the queue depth ``/metrics`` exports."""
    query = (
        Job.select(Job.kind, Job.state, peewee.fn.COUNT(Job.id).alias("total"))
        .group_by(Job.kind, Job.state)
        .order_by(Job.kind, Job.state)
    )
    # getattr: "total" is an alias of the query, not a field the model (or mypy) knows.
    return [(job.kind, job.state, int(getattr(job, "total"))) for job in query]  # noqa: B009
