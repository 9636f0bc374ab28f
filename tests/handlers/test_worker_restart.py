"""A restart runs at once the jobs a killed process of this host held, not after their lease."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from handlers import worker
from store.ids import new_id
from store.jobs import queue as jobs
from store.models import Job


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _claimed_by(worker_id: str, tenant_id: str) -> Job:
    job = jobs.enqueue(tenant_id, "test-restart", {})
    (claimed,) = jobs.claim(worker_id, tenant_id=tenant_id, lease_seconds=300)
    assert claimed.id == job.id
    return claimed


def test_jobs_of_dead_workers_are_released_and_live_ones_kept(app: Any) -> None:
    tenant_id = new_id()
    host = worker.new_worker_id().split(":")[0]
    live = worker.new_worker_id()  # a worker of this process: alive
    dead_process = f"{host}:{_dead_pid()}:deadbeef"  # its process has exited
    earlier_self = f"{host}:{os.getpid()}:00000000"  # this pid, but not one of this process's workers
    other_host = f"elsewhere:{_dead_pid()}:deadbeef"  # never judged from here
    held = {wid: _claimed_by(wid, tenant_id) for wid in (live, dead_process, earlier_self, other_host)}

    worker.release_dead_workers_jobs()

    again = jobs.claim(worker.new_worker_id(), limit=10, tenant_id=tenant_id)
    assert {job.id for job in again} == {held[dead_process].id, held[earlier_self].id}
    assert all(job.attempts == 2 for job in again)  # the lost attempt still counts
    kept = {job.id: job.locked_by for job in Job.select().where(Job.tenant_id == tenant_id)}
    assert kept[held[live].id] == live and kept[held[other_host].id] == other_host


def test_a_job_that_died_on_its_last_attempt_fails_instead_of_running_again(app: Any) -> None:
    tenant_id = new_id()
    host = worker.new_worker_id().split(":")[0]
    jobs.enqueue(tenant_id, "test-restart", {}, max_attempts=1)
    (claimed,) = jobs.claim(f"{host}:{_dead_pid()}:deadbeef", tenant_id=tenant_id)
    worker.release_dead_workers_jobs()
    assert jobs.claim(worker.new_worker_id(), tenant_id=tenant_id) == []
    assert jobs.get_job(tenant_id, claimed.id).state == jobs.FAILED
