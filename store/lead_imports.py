"""CSV imports as background jobs: receive the file, queue it, process it row batch by batch.

Life of an import: ``uploading`` (the file streams into `store.import_files`) -> ``queued``
(the job is enqueued in the same transaction, `store.jobs`) -> ``processing`` -> ``completed``
or ``failed``. The file is deleted when the import ends.

Delivery of jobs is at-least-once, yet every row is applied exactly once: each batch of rows
commits together with the import's ``rows_done`` counter, advanced by a conditional update, so
a second worker (or a retry after a crash) resumes after the last committed batch and can never
commit the same rows twice. Errors are kept per row (header = row 1), the first `MAX_ERRORS`.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
from collections.abc import Iterable, Sequence
from typing import Any

from store import import_files, jobs, lead_csv, lead_import
from store.db import reading, transaction
from store.errors import BadRequest, Conflict, FieldError, NotFound, ValidationFailed
from store.ids import new_id
from store.models import Job, LeadImport, utcnow
from store.principals import Principal

UPLOADING, QUEUED, PROCESSING, COMPLETED, FAILED = "uploading", "queued", "processing", "completed", "failed"
JOB_KIND = "lead_import"
MAX_ERRORS = 1000


def _key(tenant_id: str, import_id: str) -> Any:
    return (LeadImport.tenant_id == tenant_id) & (LeadImport.id == import_id)


def _snapshot(caller: Principal) -> dict[str, Any]:
    return {**dataclasses.asdict(caller), "scopes": sorted(caller.scopes)}


def _principal(record: LeadImport) -> Principal:
    return Principal(**{**record.actor, "scopes": frozenset(record.actor["scopes"])})


@transaction
def _begin(caller: Principal, on_duplicate: str) -> LeadImport:
    now = utcnow()
    return LeadImport.create(
        tenant_id=caller.tenant_id, id=new_id(), environment=caller.environment, status=UPLOADING,
        on_duplicate=on_duplicate, actor=_snapshot(caller), errors=[], created_at=now, updated_at=now,
    )  # fmt: skip


@transaction
def _discard(tenant_id: str, import_id: str) -> None:
    import_files.delete(tenant_id, import_id)
    LeadImport.delete().where(_key(tenant_id, import_id)).execute()


@transaction
def _queue(record: LeadImport, size: int) -> LeadImport:
    job = jobs.enqueue(record.tenant_id, JOB_KIND, {"importId": record.id})
    record.status, record.size_bytes, record.job_id, record.updated_at = QUEUED, size, job.id, utcnow()
    record.save()
    return record


def _check_header(first: bytes) -> None:
    """Refuse at once a file whose header is not UTF-8 or names unknown columns."""
    line = first.split(b"\n", 1)[0]
    try:
        text = codecs.decode(line, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest("The CSV file must be UTF-8 encoded") from exc
    header = next(csv.reader(io.StringIO(text)), [])
    if not any(name.strip() for name in header):
        raise ValidationFailed([FieldError("header", "The first row must name the columns")])
    columns = lead_csv.parse_header(header)
    if columns and isinstance(columns[0], FieldError):
        raise ValidationFailed([e for e in columns if isinstance(e, FieldError)])


def _check_utf8(decoder: codecs.IncrementalDecoder, chunk: bytes, offset: int, final: bool = False) -> None:
    if b"\x00" in chunk:  # text columns cannot store it (PostgreSQL refuses it outright)
        raise BadRequest(f"The CSV file must not contain NUL bytes (offset {offset + chunk.index(0)})")
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"The CSV file must be UTF-8 encoded (invalid byte at offset {offset + exc.start})"
        ) from exc


def receive_csv(caller: Principal, blocks: Iterable[bytes], on_duplicate: str) -> LeadImport:
    """Store an uploaded CSV file as it streams in, then queue its import.

    Not one transaction: each chunk commits on its own, so no write lock is held while the
    client uploads. The whole file is checked to be UTF-8 on the way (cheap, and it keeps a
    half-imported file from ever happening for that reason). If anything fails (encoding, a bad
    header, the size cap, a dropped connection) the partial upload is removed and the error
    propagates.
    """
    record = _begin(caller, on_duplicate)
    size = 0
    utf8 = codecs.getincrementaldecoder("utf-8")()
    try:
        for seq, chunk in enumerate(import_files.rechunk(blocks)):
            if seq == 0:
                _check_header(chunk)
            _check_utf8(utf8, chunk, size)
            import_files.append(caller.tenant_id, record.id, seq, chunk)
            size += len(chunk)
        _check_utf8(utf8, b"", size, final=True)
        if size == 0:
            raise ValidationFailed([FieldError("body", "The CSV file is empty: a header row is required")])
        return _queue(record, size)
    except BaseException:
        _discard(caller.tenant_id, record.id)
        raise


@reading
def get_import(caller: Principal, import_id: str) -> LeadImport:
    record = (
        LeadImport.select()
        .where(
            _key(caller.tenant_id, import_id)
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
    return LeadImport.select().where(_key(tenant_id, import_id)).first()


@transaction
def _start(record: LeadImport) -> None:
    now = utcnow()
    LeadImport.update(status=PROCESSING, started_at=record.started_at or now, updated_at=now).where(
        _key(record.tenant_id, record.id) & LeadImport.status.in_((QUEUED, PROCESSING))
    ).execute()


@transaction
def _end(
    record: LeadImport, status: str, message: str | None = None, errors: Sequence[FieldError] = ()
) -> None:
    now = utcnow()
    found = [{"row": 1, "field": e.field, "message": e.message} for e in errors]
    values: dict[Any, Any] = {
        LeadImport.status: status, LeadImport.message: message, LeadImport.finished_at: now,
        LeadImport.updated_at: now, LeadImport.bytes_done: record.size_bytes if status == COMPLETED else
        record.bytes_done,
    }  # fmt: skip
    if found:
        values.update({LeadImport.errors: found, LeadImport.error_count: len(found)})
    LeadImport.update(values).where(
        _key(record.tenant_id, record.id) & (LeadImport.status == PROCESSING)
    ).execute()
    import_files.delete(record.tenant_id, record.id)


Numbered = tuple[int, dict[str, Any] | list[FieldError]]


@transaction
def _commit(record: LeadImport, rows: Sequence[Numbered], consumed: int, bytes_done: int) -> LeadImport:
    """Apply one batch and advance the counters, all or nothing."""
    claimed = (
        LeadImport.update(rows_done=record.rows_done + consumed, bytes_done=bytes_done, updated_at=utcnow())
        .where(
            _key(record.tenant_id, record.id)
            & (LeadImport.rows_done == record.rows_done)
            & (LeadImport.status == PROCESSING)
        )
        .execute()
    )
    if claimed != 1:  # another run of this job got here first: it owns the import now
        raise Conflict("The import is being processed by another worker")
    prepared = [item if isinstance(item, list) else lead_import.prepare(item) for _, item in rows]
    outcomes = lead_import.apply_rows(_principal(record), prepared, record.on_duplicate)
    found = [
        {"row": number, "field": e.field, "message": e.message}
        for (number, _), outcome in zip(rows, outcomes, strict=True)
        for e in outcome.errors
    ]
    record.rows_done += consumed
    record.bytes_done = bytes_done
    record.created_count += sum(o.status == lead_import.CREATED for o in outcomes)
    record.updated_count += sum(o.status == lead_import.UPDATED for o in outcomes)
    record.failed_count += sum(o.status == lead_import.ERROR for o in outcomes)
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


@jobs.job_handler(JOB_KIND)
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
    text, raw = import_files.open_text(record.tenant_id, record.id)
    reader = csv.reader(text, strict=True)  # a stray quote is an error with a row number, not a guess
    seen = 0  # data records read, blank ones included
    try:
        header = lead_csv.parse_header(next(reader, []))
        if header and isinstance(header[0], FieldError):
            _end(
                record, FAILED, "The header row is invalid", [e for e in header if isinstance(e, FieldError)]
            )
            return
        columns = [c for c in header if isinstance(c, lead_csv.Column)]
        batch: list[Numbered] = []
        pending = 0
        for cells in reader:
            seen += 1
            if seen <= record.rows_done:
                continue
            pending += 1
            item = lead_csv.to_item(columns, cells)
            if item is not None:
                batch.append((seen + 1, item))
            if pending == lead_import.BATCH_ROWS:
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
