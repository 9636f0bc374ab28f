"""CSV imports as background jobs: the import record, its status, and the job that processes
its file row batch by batch.

Life of an import: ``uploading`` (`store.imports.upload` streams the file into
`store.imports.chunks`) -> ``queued``
(the job is enqueued in the same transaction, `store.jobs.queue`) -> ``processing`` -> ``completed``
or ``failed``. The file is deleted when the import ends.

Delivery of jobs is at-least-once, yet every row is applied exactly once: each batch of rows
commits together with the import's ``rows_done`` counter, advanced by a conditional update, so
a second worker (or a retry after a crash) resumes after the last committed batch and can never
commit the same rows twice. Errors are kept per row (header = row 1), the first `MAX_ERRORS`.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any

from store.access.principals import Principal
from store.db import reading, transaction
from store.errors import Conflict, FieldError, NotFound
from store.events import emit as events
from store.imports import chunks, csv_format, rows
from store.jobs import queue as jobs
from store.jobs import registry
from store.models import Job, LeadImport, utcnow

UPLOADING, QUEUED, PROCESSING, COMPLETED, FAILED = "uploading", "queued", "processing", "completed", "failed"
JOB_KIND = "lead_import"
MAX_ERRORS = 1000


def record_key(tenant_id: str, import_id: str) -> Any:
    return (LeadImport.tenant_id == tenant_id) & (LeadImport.id == import_id)


def _principal(record: LeadImport) -> Principal:
    return Principal(**{**record.actor, "scopes": frozenset(record.actor["scopes"])})


@reading
def get_import(caller: Principal, import_id: str) -> LeadImport:
    record = (
        LeadImport.select()
        .where(
            record_key(caller.tenant_id, import_id)
            & (LeadImport.environment == caller.environment)
            & (LeadImport.status != UPLOADING)
        )
        .first()
    )
    if record is None:
        raise NotFound("Import not found")
    return record


@reading
def _load(tenant_id: str, import_id: str) -> LeadImport | None:
    return LeadImport.select().where(record_key(tenant_id, import_id)).first()


@transaction
def _start(record: LeadImport) -> None:
    now = utcnow()
    LeadImport.update(status=PROCESSING, started_at=record.started_at or now, updated_at=now).where(
        record_key(record.tenant_id, record.id) & LeadImport.status.in_((QUEUED, PROCESSING))
    ).execute()


@transaction
def _end(
    record: LeadImport, status: str, message: str | None = None, errors: Sequence[FieldError] = ()
) -> None:
    now = utcnow()
    found = [{"row": 1, "field": e.field, "message": e.message} for e in errors[:MAX_ERRORS]]
    values: dict[Any, Any] = {
        LeadImport.status: status, LeadImport.message: message, LeadImport.finished_at: now,
        LeadImport.updated_at: now, LeadImport.bytes_done: record.size_bytes if status == COMPLETED else
        record.bytes_done,
    }  # fmt: skip
    if found:
        values.update({LeadImport.errors: found, LeadImport.error_count: len(errors)})
    ended = (
        LeadImport.update(values)
        .where(record_key(record.tenant_id, record.id) & (LeadImport.status == PROCESSING))
        .execute()
    )
    chunks.delete(record.tenant_id, record.id)
    if ended:  # import.completed / import.failed, once
        events.emit(f"import.{status}", LeadImport.get(record_key(record.tenant_id, record.id)))


Numbered = tuple[int, dict[str, Any] | list[FieldError]]


@transaction
def _commit(record: LeadImport, numbered: Sequence[Numbered], consumed: int, bytes_done: int) -> LeadImport:
    """Apply one batch and advance the counters, all or nothing."""
    claimed = (
        LeadImport.update(rows_done=record.rows_done + consumed, bytes_done=bytes_done, updated_at=utcnow())
        .where(
            record_key(record.tenant_id, record.id)
            & (LeadImport.rows_done == record.rows_done)
            & (LeadImport.status == PROCESSING)
        )
        .execute()
    )
    if claimed != 1:  # another run of this job got here first: it owns the import now
        raise Conflict("The import is being processed by another worker")
    prepared = [item if isinstance(item, list) else rows.prepare(item) for _, item in numbered]
    outcomes = rows.apply_rows(_principal(record), prepared, record.on_duplicate)
    found = [
        {"row": number, "field": e.field, "message": e.message}
        for (number, _), outcome in zip(numbered, outcomes, strict=True)
        for e in outcome.errors
    ]
    record.rows_done += consumed
    record.bytes_done = bytes_done
    record.created_count += sum(o.status == rows.CREATED for o in outcomes)
    record.updated_count += sum(o.status == rows.UPDATED for o in outcomes)
    record.failed_count += sum(o.status == rows.ERROR for o in outcomes)
    record.errors = list(record.errors) + found[: max(0, MAX_ERRORS - len(record.errors))]
    record.error_count += len(found)
    record.save(only=[LeadImport.created_count, LeadImport.updated_count, LeadImport.failed_count,
                      LeadImport.errors, LeadImport.error_count])  # fmt: skip
    return record


def summary(record: LeadImport) -> dict[str, Any]:
    return {
        "importId": record.id, "status": record.status, "rows": record.rows_done,
        "created": record.created_count, "updated": record.updated_count, "failed": record.failed_count,
    }  # fmt: skip


@registry.job_handler(JOB_KIND)
def run_import(job: Job) -> dict[str, Any]:
    """The job: resume after the last committed batch, process the rest, end the import."""
    record = _load(job.tenant_id, job.payload["importId"])
    if record is None or record.status in (COMPLETED, FAILED, UPLOADING):
        return {"importId": job.payload["importId"], "status": record.status if record else "missing"}
    _start(record)
    record.status = PROCESSING
    try:
        _process(job, record)
    except Conflict:  # another run owns the import now; it is not ours to end
        raise
    except Exception:
        if job.attempts >= job.max_attempts:
            _end(record, FAILED, "The import stopped on an internal error; rows before it were imported")
        raise
    return summary(_load(record.tenant_id, record.id) or record)


def _process(job: Job, record: LeadImport) -> None:
    text, raw = chunks.open_text(record.tenant_id, record.id)
    reader = csv.reader(text, strict=True)  # a stray quote is an error with a row number, not a guess
    seen = 0  # data records read, blank ones included
    try:
        header = csv_format.parse_header(next(reader, []))
        if header and isinstance(header[0], FieldError):
            _end(
                record, FAILED, "The header row is invalid", [e for e in header if isinstance(e, FieldError)]
            )
            return
        columns = [c for c in header if isinstance(c, csv_format.Column)]
        batch: list[Numbered] = []
        pending = 0
        for cells in csv_format.records(reader):
            seen += 1
            if seen <= record.rows_done:
                continue
            pending += 1
            item = [cells] if isinstance(cells, FieldError) else csv_format.to_item(columns, cells)
            if item is not None:
                batch.append((seen + 1, item))
            if pending == rows.BATCH_ROWS:
                record = _commit(record, batch, pending, raw.consumed)
                if not jobs.progress(job, summary(record)):
                    raise Conflict("The job's lease was lost")
                batch, pending = [], 0
        record = _commit(record, batch, pending, raw.consumed)
        _end(record, COMPLETED)
    except UnicodeDecodeError:
        _end(record, FAILED, f"The file is not valid UTF-8 (at row {seen + 2} or just before)")
    except csv.Error as exc:
        _end(record, FAILED, f"Malformed CSV at row {seen + 2}: {exc}")
