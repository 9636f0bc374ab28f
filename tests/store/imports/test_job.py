"""CSV imports as jobs: stored upload, exactly-once rows across crashes and racing workers."""

from __future__ import annotations

from typing import Any

import pytest

from store.errors import BadRequest, Conflict, ValidationFailed
from store.imports import chunks, job, rows, upload
from store.jobs import queue as jobs
from store.models import ImportChunk, Lead, LeadImport
from tests.support import SeededTenant, principal

HEADER = "email,firstName,lastName\n"


def csv_rows(count: int, start: int = 0) -> str:
    return "".join(f"r{i}@example.com,R{i},Row\n" for i in range(start, start + count))


def receive(tenant: SeededTenant, text: str, blocks: int = 7) -> LeadImport:
    data = text.encode()
    step = max(1, len(data) // blocks)
    pieces = [data[i : i + step] for i in range(0, len(data), step)]  # as the network delivers it
    return upload.receive_csv(principal(tenant.live_key), iter(pieces), "update")


def claim(tenant: SeededTenant) -> Any:
    [claimed] = [j for j in jobs.claim("test", limit=10, tenant_id=tenant.id) if j.kind == job.JOB_KIND]
    return claimed


def leads_count(tenant: SeededTenant) -> int:
    return Lead.select().where(Lead.tenant_id == tenant.id).count()


def test_an_upload_is_stored_in_chunks_and_queued(
    tenant: SeededTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 64)
    text = HEADER + csv_rows(10)
    record = upload.receive_csv(principal(tenant.live_key), iter([text.encode()]), "allow")

    assert (record.status, record.size_bytes, record.on_duplicate) == ("queued", len(text), "allow")
    stored = list(ImportChunk.select().where(ImportChunk.import_id == record.id).order_by(ImportChunk.seq))
    assert b"".join(bytes(c.data) for c in stored).decode() == text and len(stored) > 1
    assert jobs.get_job(tenant.id, record.job_id).payload == {"importId": record.id}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (b"", ValidationFailed),
        (b"nope\n", ValidationFailed),
        (b"email,firstName,lastName\na\x00@example.com,A,B\n", BadRequest),
        (b"email,firstName,lastName\n\xff\n", BadRequest),
    ],
)
def test_a_refused_upload_leaves_nothing(tenant: SeededTenant, text: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        upload.receive_csv(principal(tenant.live_key), iter([text]), "update")
    assert not LeadImport.select().where(LeadImport.tenant_id == tenant.id).exists()
    assert not ImportChunk.select().where(ImportChunk.tenant_id == tenant.id).exists()


def test_an_interrupted_upload_leaves_nothing(tenant: SeededTenant) -> None:
    def dropped() -> Any:
        yield (HEADER + csv_rows(5)).encode()
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        upload.receive_csv(principal(tenant.live_key), dropped(), "update")
    assert not LeadImport.select().where(LeadImport.tenant_id == tenant.id).exists()


def test_a_crash_mid_import_resumes_after_the_last_committed_batch(
    tenant: SeededTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows, "BATCH_ROWS", 4)
    record = receive(tenant, HEADER + csv_rows(10))
    claimed = claim(tenant)

    def die(*_: Any, **__: Any) -> bool:
        raise RuntimeError("worker killed")  # right after the first batch committed

    monkeypatch.setattr(jobs, "progress", die)
    with pytest.raises(RuntimeError):
        job.run_import(claimed)
    midway = LeadImport.get_by_id((tenant.id, record.id))
    assert (midway.status, midway.rows_done, midway.created_count) == ("processing", 4, 4)
    assert leads_count(tenant) == 4

    monkeypatch.undo()
    monkeypatch.setattr(rows, "BATCH_ROWS", 4)
    summary = job.run_import(claimed)  # the retry

    assert summary["created"] == 10 and summary["status"] == "completed"
    assert leads_count(tenant) == 10  # no row applied twice
    assert not ImportChunk.select().where(ImportChunk.import_id == record.id).exists()


def test_a_second_worker_cannot_commit_the_same_rows(tenant: SeededTenant) -> None:
    record = receive(tenant, HEADER + csv_rows(3))
    claimed = claim(tenant)
    job.run_import(claimed)
    stale = LeadImport.get_by_id((tenant.id, record.id))
    stale.rows_done, stale.status = 0, job.PROCESSING  # what a slow worker still believes

    with pytest.raises(Conflict):
        job._commit(stale, [], 3, 0)
    assert job.run_import(claimed)["status"] == "completed"  # a re-delivered job is a no-op
    assert leads_count(tenant) == 3


def test_a_header_made_invalid_fails_the_import_with_row_1_errors(tenant: SeededTenant) -> None:
    record = receive(tenant, HEADER + csv_rows(2))
    ImportChunk.update(data=b"email,nickname\nx@example.com,X\n").where(
        ImportChunk.import_id == record.id
    ).execute()

    job.run_import(claim(tenant))

    done = LeadImport.get_by_id((tenant.id, record.id))
    assert done.status == "failed" and done.message == "The header row is invalid"
    assert {"row": 1, "field": "header.nickname", "message": "Unknown or read-only column"} in done.errors
    assert leads_count(tenant) == 0


def test_malformed_csv_stops_the_import_with_a_row_number(tenant: SeededTenant) -> None:
    record = receive(tenant, HEADER + csv_rows(2) + 'bad@example.com,"unterminated\n')
    job.run_import(claim(tenant))

    done = LeadImport.get_by_id((tenant.id, record.id))
    assert done.status == "failed" and "row 4" in done.message
    assert leads_count(tenant) == 0  # the batch in flight was not committed


def test_an_upload_abandoned_by_a_crash_is_cleaned_up_by_a_later_one(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    abandoned = upload._begin(caller, "update")
    chunks.append(tenant.id, abandoned.id, 0, b"email,firstName,lastName\n")
    LeadImport.update(created_at=abandoned.created_at - upload.ABANDONED_AFTER).where(
        LeadImport.id == abandoned.id
    ).execute()

    receive(tenant, HEADER + csv_rows(1))

    assert not LeadImport.select().where(LeadImport.id == abandoned.id).exists()
    assert not ImportChunk.select().where(ImportChunk.import_id == abandoned.id).exists()
