"""Receiving a CSV import's file: streamed into `store.imports.chunks`, checked, then queued.

Not one transaction: each chunk commits on its own as it arrives, so no write lock is held while
the client uploads and the file is never whole in memory. The whole file is checked to be UTF-8
without NUL bytes on the way (cheap, and it keeps a half-imported file from ever happening for
that reason), and its header is checked from the first chunk, so a wrong file is refused at once
(400/422) instead of failing later in the background. Whatever fails, the partial upload goes.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from store.access.principals import Principal
from store.db import transaction
from store.errors import BadRequest, FieldError, ValidationFailed
from store.ids import new_id
from store.imports import chunks, csv_format
from store.imports.job import JOB_KIND, QUEUED, UPLOADING, record_key
from store.jobs import queue as jobs
from store.models import LeadImport, utcnow

# An upload still "uploading" after this long belongs to a process that died mid-request.
ABANDONED_AFTER = dt.timedelta(hours=24)


def _snapshot(caller: Principal) -> dict[str, Any]:
    return {**dataclasses.asdict(caller), "scopes": sorted(caller.scopes)}


@transaction
def _begin(caller: Principal, on_duplicate: str) -> LeadImport:
    now = utcnow()
    _drop_abandoned_uploads(caller.tenant_id, now - ABANDONED_AFTER)
    return LeadImport.create(
        tenant_id=caller.tenant_id, id=new_id(), environment=caller.environment, status=UPLOADING,
        on_duplicate=on_duplicate, actor=_snapshot(caller), errors=[], created_at=now, updated_at=now,
    )  # fmt: skip


def _drop_abandoned_uploads(tenant_id: str, before: dt.datetime) -> None:
    """Uploads a crashed process never finished (the client got no 202): remove their chunks."""
    abandoned = LeadImport.select(LeadImport.id).where(
        (LeadImport.tenant_id == tenant_id)
        & (LeadImport.status == UPLOADING)
        & (LeadImport.created_at < before)
    )
    for record in list(abandoned):
        chunks.delete(tenant_id, record.id)
        LeadImport.delete().where(record_key(tenant_id, record.id)).execute()


@transaction
def _discard(tenant_id: str, import_id: str) -> None:
    chunks.delete(tenant_id, import_id)
    LeadImport.delete().where(record_key(tenant_id, import_id)).execute()


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
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:  # e.g. a column name longer than csv.field_size_limit()
        raise ValidationFailed([FieldError("header", f"The header row is malformed: {exc}")]) from exc
    if not any(name.strip() for name in header):
        raise ValidationFailed([FieldError("header", "The first row must name the columns")])
    columns = csv_format.parse_header(header)
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
        for seq, chunk in enumerate(chunks.rechunk(blocks)):
            if seq == 0:
                _check_header(chunk)
            _check_utf8(utf8, chunk, size)
            chunks.append(caller.tenant_id, record.id, seq, chunk)
            size += len(chunk)
        _check_utf8(utf8, b"", size, final=True)
        if size == 0:
            raise ValidationFailed([FieldError("body", "The CSV file is empty: a header row is required")])
        return _queue(record, size)
    except BaseException:
        _discard(caller.tenant_id, record.id)
        raise
