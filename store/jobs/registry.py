"""Which function runs each kind of job: registered with ``@job_handler("kind")`` by the module
that owns the work (duplicates, imports, webhooks), looked up by the worker. ``batch=True``
marks a kind whose jobs may share one transaction (`store.jobs.batches`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from store.models import Job

JobHandler = Callable[[Job], dict[str, Any] | None]
_HANDLERS: dict[str, JobHandler] = {}
_BATCHED: set[str] = set()


def job_handler(kind: str, *, batch: bool = False) -> Callable[[JobHandler], JobHandler]:
    """Register the function that runs jobs of ``kind`` (one per kind). ``batch=True``: the
    handler only writes to the database (no network, no long work), so many of its jobs may
    share one transaction (`store.jobs.batches`)."""

    def register(fn: JobHandler) -> JobHandler:
        _HANDLERS[kind] = fn
        if batch:
            _BATCHED.add(kind)
        return fn

    return register


def batched(kind: str) -> bool:
    return kind in _BATCHED


def batched_kinds() -> list[str]:
    return sorted(_BATCHED)


def handler_for(kind: str) -> JobHandler | None:
    return _HANDLERS.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)
