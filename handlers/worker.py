"""The loop that runs queued jobs (`store.jobs.queue`): in a thread of ``leadpipe serve`` by default,
or on its own as ``leadpipe worker`` (as many processes as you like: claiming never hands one
job to two workers).

Job kinds are registered by importing the modules that define their handlers: add yours to
`JOB_MODULES`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import socket
import threading
import time
import uuid

from handlers.http.metrics import job_timer, metrics
from store.db import writes_first
from store.errors import StoreError
from store.events import retention
from store.jobs import batches, registry, upkeep
from store.jobs import queue as jobs
from store.models import Job

log = logging.getLogger("leadpipe.worker")

# Modules whose import registers job handlers with ``@registry.job_handler(kind)``.
JOB_MODULES: tuple[str, ...] = (
    "store.duplicates.detection",
    "store.duplicates.batch",  # dedup jobs checked a batch at a time
    "store.imports.job",
    "store.webhooks.delivery",
)

WEBHOOK_KIND = "webhook"  # store.webhooks.fanout.KIND
IDLE_POLL_SECONDS = 1.0
# After a wake-up from an enqueue of this process that found nothing (the enqueuing transaction
# had not committed yet), look again this soon, then fall back to the idle poll.
WAKE_RETRY_SECONDS = (0.01, 0.05)
BATCH = 10
# Dedup jobs claimed and checked per transaction (`batches.claim_and_run`): a few ms each, so a
# batch holds SQLite's writer for tens of ms; larger batches starve the request path's writes.
DB_BATCH = 20
# After a batch that was not full, the next one waits this long to gather jobs (the loop serving
# the other kinds meanwhile): under a stream of creates one batch of many instead of many of
# one or two, which is what makes a job cheap (its reads are shared, `store.duplicates.batch`)
# and takes SQLite's writer from the requests a few times a second instead of after each
# create. Adds at most this much to a duplicate's detection latency (target: p99 <= 1 s).
BATCH_GATHER_SECONDS = 0.2
# Succeeded jobs are deleted after a week (failed ones stay for inspection), checked hourly.
FINISHED_JOB_RETENTION = dt.timedelta(days=7)
PURGE_INTERVAL_SECONDS = 3600.0


def load_handlers() -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)


# Worker ids of this process (``host:pid:token``): the tokens tell this process's live workers
# from an earlier process that had the same pid (a container restarted as pid 1).
_LIVE_TOKENS: set[str] = set()


def _host() -> str:
    return socket.gethostname()[:32]


def new_worker_id() -> str:
    token = uuid.uuid4().hex[:8]
    _LIVE_TOKENS.add(token)
    return f"{_host()}:{os.getpid()}:{token}"


def worker_is_dead(worker_id: str) -> bool:
    """Whether the worker ``host:pid:token`` of this host is gone (its process no longer runs)."""
    _, pid_text, token = [*worker_id.split(":"), "", ""][:3]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return token not in _LIVE_TOKENS
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def release_dead_workers_jobs() -> None:
    """At startup: jobs a killed process of this host held are run again now, not in 5 minutes."""
    try:
        upkeep.release_dead_leases(_host(), worker_is_dead)
    except StoreError as exc:
        log.warning("could not release dead workers' jobs: %s", exc.message)


class Worker:
    """Claims due jobs in batches and runs each one's handler, recording the outcome."""

    def __init__(
        self, worker_id: str | None = None, *, lease_seconds: int = 300, gather_seconds: float = 0.0
    ) -> None:
        load_handlers()
        self.worker_id = worker_id or new_worker_id()
        self.lease_seconds = lease_seconds
        # `BATCH_GATHER_SECONDS` for the serving loop; 0 (drain at once) for tests and one-shot runs.
        self.gather_seconds = gather_seconds
        self.next_batch_at = 0.0  # time.monotonic() before which batchable kinds are not claimed

    def run_job(self, job: Job) -> bool:
        """Run one claimed job; True when it completed."""
        handler = registry.handler_for(job.kind)
        if handler is None:
            jobs.fail(job, f"no handler registered for job kind {job.kind!r}")
            return False
        try:
            result = handler(job)
        except Exception as exc:  # any failure of a job is recorded, never fatal to the loop
            # The type only: an exception's text can quote a row's personal data (last_error keeps it).
            log.warning(
                "job %s (%s) attempt %d failed: %s", job.id, job.kind, job.attempts, type(exc).__name__
            )
            jobs.fail(job, f"{type(exc).__name__}: {exc}")
            return False
        if job.kind == WEBHOOK_KIND and isinstance(result, dict) and "outcome" in result:
            # The store reports an attempt's outcome; counting it is the HTTP side's concern.
            metrics().webhook_deliveries.labels(str(result["outcome"])).inc()
        return jobs.complete(job, result)

    def run_batch(self, kind: str, batch: list[Job]) -> None:
        """Jobs of one batchable kind in one transaction (`batches.run_batch`). If the batch as a
        whole cannot commit (database unavailable), each job runs on its own as before."""
        handler = registry.handler_for(kind)
        assert handler is not None  # batched() is only true for registered kinds
        started = time.perf_counter()
        try:
            errors = batches.run_batch(batch, handler)
        except StoreError as exc:
            log.warning(
                "batch of %d %s jobs failed (%s); running them one by one", len(batch), kind, exc.message
            )
            for job in batch:
                with job_timer(job.kind):
                    self.run_job(job)
            return
        self._record(kind, batch, errors, started)

    def run_batched(self, kind: str, *, tenant_id: str | None = None) -> int:
        """Claim and run up to `DB_BATCH` jobs of a batchable kind in one transaction."""
        handler = registry.handler_for(kind)
        assert handler is not None  # batched_kinds() lists registered kinds only
        started = time.perf_counter()
        claimed, errors = batches.claim_and_run(
            self.worker_id, kind, handler, limit=DB_BATCH, tenant_id=tenant_id
        )
        self._record(kind, claimed, errors, started)
        return len(claimed)

    def _record(self, kind: str, batch: list[Job], errors: dict[str, Exception], started: float) -> None:
        share = (time.perf_counter() - started) / max(1, len(batch))
        for job in batch:
            metrics().job_duration.labels(kind).observe(share)
            if job.id in errors:
                exc = errors[job.id]
                log.warning(
                    "job %s (%s) attempt %d failed: %s", job.id, kind, job.attempts, type(exc).__name__
                )
                jobs.fail(job, f"{type(exc).__name__}: {exc}")

    def run_once(self, *, limit: int = BATCH, tenant_id: str | None = None) -> int:
        """Run due jobs; returns how many were claimed. Batchable kinds (dedup) first, claimed
        and run in one transaction per batch; then up to ``limit`` jobs of the other kinds, one
        by one in claim order."""
        total = 0
        if time.monotonic() >= self.next_batch_at:
            total = sum(self.run_batched(kind, tenant_id=tenant_id) for kind in registry.batched_kinds())
            # A full batch: more may be due, go on at once. Otherwise let the next one gather.
            full = total >= DB_BATCH
            self.next_batch_at = 0.0 if full or not total else time.monotonic() + self.gather_seconds
        claimed = jobs.claim(
            self.worker_id,
            limit=limit,
            lease_seconds=self.lease_seconds,
            tenant_id=tenant_id,
            skip_kinds=registry.batched_kinds(),
        )
        index = 0
        while index < len(claimed):
            job = claimed[index]
            if registry.batched(job.kind):
                end = index
                while end < len(claimed) and claimed[end].kind == job.kind:
                    end += 1
                self.run_batch(job.kind, claimed[index:end])
                index = end
                continue
            with job_timer(job.kind):
                self.run_job(job)
            index += 1
        return total + len(claimed)

    def run_until_idle(self, *, tenant_id: str | None = None, max_rounds: int = 1000) -> int:
        """Drain what is due now (tests, one-shot runs); returns the number of jobs claimed."""
        total = 0
        for _ in range(max_rounds):
            claimed = self.run_once(tenant_id=tenant_id)
            if not claimed:
                break
            total += claimed
        return total

    def run_forever(self, stop: threading.Event, tenant_id: str | None = None) -> None:
        """Run until ``stop`` is set; with ``tenant_id``, only that tenant's jobs (a worker pool
        dedicated to one big tenant, or a test that must not touch other tests' jobs)."""
        log.info("worker %s started", self.worker_id)
        writes_first()  # its batches go ahead of queued requests (store.writer_queue)
        next_purge = time.monotonic()
        retry = 0  # > 0: woken by an enqueue, and the claims since found nothing (yet)
        while not stop.is_set():
            try:
                if time.monotonic() >= next_purge:
                    next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
                    upkeep.purge_finished(FINISHED_JOB_RETENTION)
                    retention.purge_all_expired()  # events past LEADPIPE_EVENT_RETENTION_DAYS
                busy = self.run_once(tenant_id=tenant_id)
            except StoreError as exc:  # database briefly unavailable: back off, keep going
                log.warning("worker %s could not claim jobs: %s", self.worker_id, exc.message)
                busy = 0
            except Exception:  # the loop must survive anything and log it
                log.exception("worker %s loop error", self.worker_id)
                busy = 0
            gathering = self.next_batch_at - time.monotonic()
            if gathering > 0 and not busy:  # the next batch is gathering: wait for it, no longer
                stop.wait(gathering)
                retry = 0
            elif busy:
                retry = 0
            elif 0 < retry <= len(WAKE_RETRY_SECONDS):
                stop.wait(WAKE_RETRY_SECONDS[retry - 1])
                retry += 1
            else:
                retry = 1 if self._idle(stop) else 0
        log.info("worker %s stopped", self.worker_id)

    @staticmethod
    def _idle(stop: threading.Event) -> bool:
        """Wait for work up to `IDLE_POLL_SECONDS`, ended early by an enqueue of this process
        (True) or by ``stop`` (checked every 0.1 s)."""
        deadline = time.monotonic() + IDLE_POLL_SECONDS
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if jobs.wait_for_work(min(left, 0.1)):
                return True
        return False


def start_threads(count: int, stop: threading.Event, tenant_id: str | None = None) -> list[threading.Thread]:
    """Start ``count`` daemon worker threads (for ``leadpipe serve``); set ``stop`` to end them."""
    if count:
        release_dead_workers_jobs()
    threads = []
    for index in range(count):
        thread = threading.Thread(
            target=Worker(gather_seconds=BATCH_GATHER_SECONDS).run_forever,
            args=(stop, tenant_id),
            name=f"leadpipe-worker-{index}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    return threads
