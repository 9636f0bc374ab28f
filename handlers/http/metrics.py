"""Prometheus metrics: their definitions and the text exposition behind ``GET /metrics``.

Why `prometheus_client` is imported lazily: it decides at *import* time whether values live in
process memory or in per-process files under ``PROMETHEUS_MULTIPROC_DIR`` (its multiprocess
mode, needed as soon as ``leadpipe serve --workers N`` runs several processes, each answering
some of the scrapes). ``leadpipe serve`` sets that directory before it spawns the workers, so
nothing may import the library earlier; `metrics()` imports it on first use and a test holds
``import handlers.cli`` to that.

Labels are bounded on purpose (cardinality): the operationId (never the raw path: ids in paths
would make a series per lead), the status, a job kind, a rate-limit scope, a delivery outcome.
Never a tenant, lead or key.

Queue depth is read from the database at scrape time (it is global, whichever process scrapes);
everything else is counted by the process that did the work and summed across processes by
`MultiProcessCollector`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from store import db
from store.errors import StoreError
from store.jobs import queue as jobs
from store.jobs import registry, upkeep

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

log = logging.getLogger("leadpipe.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The ``operation`` label of requests no operation answered (unknown paths, the served spec).
UNMATCHED = "unmatched"
# The ``operation`` label of the scrape itself.
SCRAPE = "metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Requests: most answer in milliseconds; imports and exports take seconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)
QUEUE_STATES = (jobs.QUEUED, jobs.RUNNING)


class QueueDepth:
    """A custom collector: ``leadpipe_jobs{kind,state}`` counted in the jobs table per scrape."""

    def describe(self) -> list[Metric]:
        # Declared so registering never runs a query; samples come from collect().
        from prometheus_client.core import GaugeMetricFamily

        return [GaugeMetricFamily("leadpipe_jobs", "Jobs in the queue table", labels=["kind", "state"])]

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("leadpipe_jobs", "Jobs in the queue table", labels=["kind", "state"])
        try:
            rows = upkeep.depth_by_kind()
        except StoreError as exc:  # a scrape must still answer; the gap in the series says enough
            log.warning("queue depth not collected: %s", exc.message)
            return
        seen = {(kind, state) for kind, state, _ in rows}
        # Known kinds show queued/running 0 too, so "nothing waiting" is a sample, not an absence.
        idle = [(kind, state, 0) for kind in registry.registered_kinds() for state in QUEUE_STATES]
        for kind, state, count in [*rows, *(row for row in idle if row[:2] not in seen)]:
            family.add_metric([kind, state], count)
        yield family


class Metrics:
    """Every metric Leadpipe exports, registered in a registry of its own (not the global one)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry()
        reg = self.registry
        self.http_requests = Counter(
            "leadpipe_http_requests_total",
            "HTTP requests answered, by operationId and status",
            ["operation", "status"],
            registry=reg,
        )
        self.http_duration = Histogram(
            "leadpipe_http_request_duration_seconds",
            "Time to answer an HTTP request, by operationId",
            ["operation"],
            buckets=HTTP_BUCKETS,
            registry=reg,
        )
        self.job_duration = Histogram(
            "leadpipe_job_duration_seconds",
            "Time to run one job attempt (succeeded or failed), by kind",
            ["kind"],
            buckets=JOB_BUCKETS,
            registry=reg,
        )
        self.rate_limited = Counter(
            "leadpipe_rate_limited_total",
            "Requests refused with 429, by the budget that ran out (ip, tenant, capture-ip, "
            "capture-key, login)",
            ["scope"],
            registry=reg,
        )
        # Webhook delivery attempts by outcome (succeeded, retry_scheduled, failed,
        # endpoint_disabled, deferred, skipped, superseded), counted by handlers/worker.py.
        self.webhook_deliveries = Counter(
            "leadpipe_webhook_deliveries_total",
            "Webhook delivery attempts, by outcome",
            ["outcome"],
            registry=reg,
        )
        # Per process, summed over the live ones (a dead worker's pool is gone with it).
        pool_gauge: dict[str, Any] = {"registry": reg, "multiprocess_mode": "livesum"}
        self.pool_in_use = Gauge(
            "leadpipe_db_pool_connections_in_use", "Pooled connections lent out", **pool_gauge
        )
        self.pool_idle = Gauge(
            "leadpipe_db_pool_connections_idle", "Pooled connections open and idle", **pool_gauge
        )
        self.pool_max = Gauge(
            "leadpipe_db_pool_max_connections", "Pool size (LEADPIPE_DB_POOL_SIZE)", **pool_gauge
        )
        if not self.multiprocess:
            reg.register(QueueDepth())

    def observe_request(self, operation: str, status: int, seconds: float) -> None:
        self.http_requests.labels(operation, str(status)).inc()
        self.http_duration.labels(operation).observe(seconds)
        self.sample_pool()

    def sample_pool(self) -> None:
        """Copy the pool's counts into the gauges (peewee exposes them only as attributes)."""
        pool = db.database.obj
        in_use, idle, size = (
            getattr(pool, name, None) for name in ("_in_use", "_connections", "_max_connections")
        )
        if in_use is None or idle is None or size is None:
            return  # not a pooled database: nothing to report
        self.pool_in_use.set(len(in_use))
        self.pool_idle.set(len(idle))
        self.pool_max.set(size)

    def exposition(self) -> bytes:
        """The text format of every metric, summed over the processes in multiprocess mode."""
        from prometheus_client import generate_latest, multiprocess

        self.sample_pool()
        registry: CollectorRegistry = self.registry
        if self.multiprocess:
            from prometheus_client import CollectorRegistry

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            registry.register(QueueDepth())
        return bytes(generate_latest(registry))


_lock = threading.Lock()
_metrics: Metrics | None = None


def metrics() -> Metrics:
    """The process's metrics, created (and prometheus_client imported) on first use."""
    global _metrics
    if _metrics is None:
        with _lock:
            if _metrics is None:
                _metrics = Metrics()
    return _metrics


@contextlib.contextmanager
def job_timer(kind: str) -> Iterator[None]:
    """Time one job attempt into ``leadpipe_job_duration_seconds{kind}``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        metrics().job_duration.labels(kind).observe(time.perf_counter() - started)


def mark_dead() -> None:
    """When a process stops serving: drop its live gauges from the shared directory."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())
