"""The durable job queue: transactional enqueue, exclusive claims, retries and leases."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest

from handlers.worker import Worker
from store.db import transaction
from store.ids import new_id
from store.jobs import queue as jobs
from store.jobs import registry, upkeep
from store.models import Job, utcnow

SEEN: Counter[str] = Counter()
SEEN_LOCK = threading.Lock()


@registry.job_handler("test-count")
def _count(job: Job) -> dict[str, Any]:
    with SEEN_LOCK:
        SEEN[job.id] += 1
    return {"n": job.payload["n"]}


@registry.job_handler("test-boom")
def _boom(job: Job) -> None:
    raise RuntimeError("boom")


def _state(job: Job) -> Job:
    return jobs.get_job(job.tenant_id, job.id)


def test_enqueue_commits_and_rolls_back_with_the_callers_transaction(app: Any) -> None:
    tenant_id = new_id()

    @transaction
    def create_then_fail() -> None:
        jobs.enqueue(tenant_id, "test-count", {"n": 1})
        raise RuntimeError("the caller's write failed")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert upkeep.pending_count(tenant_id) == 0

    job = jobs.enqueue(tenant_id, "test-count", {"n": 2})
    assert _state(job).state == jobs.QUEUED
    assert upkeep.pending_count(tenant_id) == 1


def test_a_worker_runs_a_job_and_stores_its_result(app: Any) -> None:
    tenant_id = new_id()
    job = jobs.enqueue(tenant_id, "test-count", {"n": 7})
    assert Worker().run_until_idle(tenant_id=tenant_id) == 1
    stored = _state(job)
    assert (stored.state, stored.attempts, stored.result) == (jobs.DONE, 1, {"n": 7})
    assert stored.finished_at is not None and stored.locked_until is None
    assert SEEN[job.id] == 1


def test_workers_racing_on_one_queue_run_every_job_exactly_once(app: Any) -> None:
    tenant_id = new_id()
    queued = [jobs.enqueue(tenant_id, "test-count", {"n": n}) for n in range(60)]
    barrier = threading.Barrier(4)
    claimed: list[int] = []

    def work() -> None:
        barrier.wait()
        claimed.append(Worker().run_until_idle(tenant_id=tenant_id))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(claimed) == len(queued)
    assert all(SEEN[job.id] == 1 for job in queued)
    states = {row.state for row in Job.select().where(Job.tenant_id == tenant_id)}
    assert states == {jobs.DONE}


def test_a_claimed_job_is_not_handed_out_again(app: Any) -> None:
    tenant_id = new_id()
    jobs.enqueue(tenant_id, "test-count", {"n": 1})
    first = jobs.claim("worker-a", tenant_id=tenant_id)
    assert len(first) == 1
    assert jobs.claim("worker-b", tenant_id=tenant_id) == []


def test_a_failing_job_is_retried_with_backoff_then_fails_for_good(app: Any) -> None:
    tenant_id = new_id()
    job = jobs.enqueue(tenant_id, "test-boom", {}, max_attempts=2)
    worker = Worker()
    assert worker.run_until_idle(tenant_id=tenant_id) == 1
    stored = _state(job)
    assert stored.state == jobs.QUEUED and stored.attempts == 1
    assert stored.last_error == "RuntimeError: boom"
    assert stored.run_at > utcnow()  # backed off: not due yet
    assert worker.run_until_idle(tenant_id=tenant_id) == 0

    Job.update(run_at=utcnow()).where(Job.id == job.id).execute()
    assert worker.run_until_idle(tenant_id=tenant_id) == 1
    stored = _state(job)
    assert (stored.state, stored.attempts) == (jobs.FAILED, 2)
    assert stored.finished_at is not None


def test_an_unknown_kind_fails_instead_of_looping(app: Any) -> None:
    tenant_id = new_id()
    job = jobs.enqueue(tenant_id, "no-such-kind", {}, max_attempts=1)
    Worker().run_until_idle(tenant_id=tenant_id)
    stored = _state(job)
    assert stored.state == jobs.FAILED and "no handler" in (stored.last_error or "")


def test_a_job_whose_worker_died_is_reclaimed_after_its_lease(app: Any) -> None:
    tenant_id = new_id()
    job = jobs.enqueue(tenant_id, "test-count", {"n": 3})
    [dead] = jobs.claim("dead-worker", tenant_id=tenant_id, lease_seconds=60)
    assert Worker().run_until_idle(tenant_id=tenant_id) == 0  # lease still held

    Job.update(locked_until=utcnow() - dt.timedelta(seconds=1)).where(Job.id == job.id).execute()
    assert Worker().run_until_idle(tenant_id=tenant_id) == 1
    stored = _state(job)
    assert (stored.state, stored.attempts) == (jobs.DONE, 2)
    # The dead worker's late outcome cannot overwrite the newer run.
    assert jobs.fail(dead, "late") is False
    assert _state(job).state == jobs.DONE


def test_heartbeat_and_progress_need_the_lease(app: Any) -> None:
    tenant_id = new_id()
    job = jobs.enqueue(tenant_id, "test-count", {"n": 4})
    [claimed] = jobs.claim("w", tenant_id=tenant_id, lease_seconds=5)
    assert jobs.heartbeat(claimed, lease_seconds=600)
    assert jobs.progress(claimed, {"rows": 10})
    assert _state(job).result == {"rows": 10}
    assert jobs.complete(claimed, {"rows": 20})
    assert jobs.heartbeat(claimed) is False
    assert _state(job).result == {"rows": 20}


def test_purge_deletes_old_successes_and_keeps_failures(app: Any) -> None:
    tenant_id = new_id()
    done = jobs.enqueue(tenant_id, "test-count", {"n": 5})
    failed = jobs.enqueue(tenant_id, "test-boom", {}, max_attempts=1)
    Worker().run_until_idle(tenant_id=tenant_id)
    assert upkeep.purge_finished(dt.timedelta(days=1)) >= 0
    assert _state(done).state == jobs.DONE  # recent: kept
    old = utcnow() - dt.timedelta(days=30)
    Job.update(finished_at=old).where(Job.tenant_id == tenant_id).execute()
    assert upkeep.purge_finished(dt.timedelta(days=7)) >= 1
    assert [row.id for row in Job.select().where(Job.tenant_id == tenant_id)] == [failed.id]
