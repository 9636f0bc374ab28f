"""Bulk import over HTTP: JSON answered item by item, CSV stored and processed by the job."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from store.events.models import Event
from store.imports import job
from store.jobs import queue as jobs
from store.jobs import upkeep
from store.models import AuditEvent, ImportChunk, Job, Lead, LeadDuplicate, LeadEvent, LeadImport, LeadTag
from tests.support import SeededTenant, assert_error, assert_ok, import_status, lead_body, leads_of, run_jobs

CSV = {"Content-Type": "text/csv"}


def upload_csv(client: TestClient, tenant: SeededTenant, text: str | bytes, **params: str) -> dict[str, Any]:
    content = text.encode() if isinstance(text, str) else text
    response = client.post(
        "/v1/leads/import", content=content, params=params, headers={**tenant.headers, **CSV}
    )
    data: dict[str, Any] = assert_ok(response, 202)
    assert response.headers["location"] == f"/v1/imports/{data['id']}"
    return data


# --- JSON ----------------------------------------------------------------------------------------


def test_json_import_answers_item_by_item_and_stores_only_the_good_ones(
    client: TestClient, tenant: SeededTenant
) -> None:
    items = [
        lead_body(email="ann@example.com", tags=["vip"], customFields={"plan": "gold"}, company="Acme"),
        {"email": "not-an-email", "firstName": "Bad"},
        lead_body(email="bob@example.com", source="web", score=30, company="ACME Inc."),
        {**lead_body(), "id": "abcdefabcdefabcd"},
        lead_body(email="carl@example.com", assignedTo="nobody0000000000"),
    ]
    response = client.post("/v1/leads/import", json=items, headers=tenant.headers)

    data = assert_ok(response)
    assert (data["created"], data["updated"], data["failed"]) == (2, 0, 3)
    results = data["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == ["created", "error", "created", "error", "error"]
    assert {e["field"] for e in results[1]["errors"]} == {"email", "lastName"}
    assert results[3]["errors"] == [{"field": "id", "message": "Unknown or read-only field"}]
    assert results[4]["errors"][0]["field"] == "assignedTo"
    stored = {lead.email: lead for lead in leads_of(tenant)}
    assert set(stored) == {"ann@example.com", "bob@example.com"}
    assert stored["ann@example.com"].id == results[0]["id"]
    assert stored["ann@example.com"].source == "import"  # the import's default source
    assert stored["bob@example.com"].source == "web" and stored["bob@example.com"].score == 30
    assert stored["ann@example.com"].custom_fields == {"plan": "gold"}
    assert LeadTag.select().where((LeadTag.tenant_id == tenant.id) & (LeadTag.tag == "vip")).count() == 1
    # Same history, audit and duplicate detection as a single create.
    for lead in stored.values():
        assert (
            LeadEvent.get((LeadEvent.tenant_id == tenant.id) & (LeadEvent.lead_id == lead.id)).action
            == "created"
        )
        assert (
            AuditEvent.select()
            .where((AuditEvent.tenant_id == tenant.id) & (AuditEvent.resource_id == lead.id))
            .count()
            == 1
        )
        assert (
            Event.get((Event.tenant_id == tenant.id) & (Event.resource_id == lead.id)).type == "lead.created"
        )
    # Both are Jane Doe at Acme: found in the import's own transaction, nothing left queued.
    assert upkeep.pending_count(tenant.id) == 0
    ann, bob = stored["ann@example.com"], stored["bob@example.com"]
    assert (ann.duplicate_of, bob.duplicate_of) == (None, ann.id)
    assert LeadDuplicate.get_or_none(
        (LeadDuplicate.tenant_id == tenant.id)
        & (LeadDuplicate.lead_id == bob.id)
        & (LeadDuplicate.duplicate_id == ann.id)
    ).reasons == ["name_company"]


@pytest.mark.parametrize(
    ("on_duplicate", "statuses", "emails_stored"),
    [
        ("update", ["updated", "created", "updated"], 2),
        ("allow", ["created", "created", "created"], 4),
        ("reject", ["error", "created", "error"], 2),
    ],
)
def test_json_import_on_duplicate(
    client: TestClient, tenant: SeededTenant, on_duplicate: str, statuses: list[str], emails_stored: int
) -> None:
    existing = assert_ok(
        client.post("/v1/leads", json=lead_body(email="dana@example.com"), headers=tenant.headers), 201
    )
    items = [
        lead_body(email="  DANA@example.com ", firstName="Dana", score=70),  # same mailbox, other spelling
        lead_body(email="eve@example.com"),
        lead_body(email="eve@example.com", title="CTO"),  # meets the row before it
    ]
    response = client.post(f"/v1/leads/import?onDuplicate={on_duplicate}", json=items, headers=tenant.headers)

    results = assert_ok(response)["results"]
    assert [r["status"] for r in results] == statuses
    assert len(leads_of(tenant)) == emails_stored
    if on_duplicate == "update":
        assert results[0]["id"] == existing["id"]
        dana = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == existing["id"]))
        assert (dana.first_name, dana.score, dana.source) == ("Dana", 70, "api")  # source kept
        assert results[2]["id"] == results[1]["id"]
        eve = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == results[1]["id"]))
        assert eve.title == "CTO"
    if on_duplicate == "reject":
        assert results[0]["id"] == existing["id"] and results[0]["errors"][0]["field"] == "email"


def test_json_import_body_is_an_array_of_at_most_1000(client: TestClient, tenant: SeededTenant) -> None:
    assert_error(
        client.post("/v1/leads/import", json=lead_body(), headers=tenant.headers), 422, "validation_error"
    )
    assert_error(client.post("/v1/leads/import", json=[], headers=tenant.headers), 422, "validation_error")
    too_many = [{"email": f"x{i}@example.com"} for i in range(1001)]
    assert_error(
        client.post("/v1/leads/import", json=too_many, headers=tenant.headers), 422, "validation_error"
    )
    assert leads_of(tenant) == []


def test_json_import_of_1000_leads_goes_beyond_the_usual_body_cap(
    client: TestClient, tenant: SeededTenant
) -> None:
    items = [lead_body(email=f"bulk{i}@example.com", company="Bulk Co") for i in range(1000)]
    assert len(json.dumps(items)) > 64 * 1024  # the test app's LEADPIPE_MAX_BODY_BYTES

    data = assert_ok(client.post("/v1/leads/import", json=items, headers=tenant.headers))

    assert (data["created"], data["failed"]) == (1000, 0)
    assert len(leads_of(tenant)) == 1000
    huge = [lead_body(message="m" * 5000) for _ in range(200)]  # beyond 10x the usual cap
    assert_error(client.post("/v1/leads/import", json=huge, headers=tenant.headers), 413, "payload_too_large")


def test_import_needs_write_scope(client: TestClient, tenant: SeededTenant) -> None:
    from tests.support import make_key

    reader = make_key(client, tenant.headers, scopes=["read:leads"])["key"]
    response = client.post("/v1/leads/import", json=[lead_body()], headers={"X-API-Key": reader})
    assert_error(response, 403, "insufficient_permissions")
    response = client.post("/v1/leads/import", content=b"email\n", headers={"X-API-Key": reader, **CSV})
    assert_error(response, 403, "insufficient_permissions")


# --- CSV -----------------------------------------------------------------------------------------

GOOD_AND_BAD = (
    "Email,first_name,lastName,score,tags,customFields,customFields.role,phone\r\n"
    'fay@example.com,Fay,Fox,40,vip; 2026 ,"{""plan"": ""gold""}",CEO,\'+1-555-0199\r\n'  # row 2
    "not-an-email,Gus,Gray,x,,,,\r\n"  # row 3: two errors
    ",,,,,,,\r\n"  # row 4: blank, skipped
    'hal@example.com,Hal,"Multi\r\nLine",,,,,\r\n'  # row 5 (a quoted line break)
    "ida@example.com,Ida,,,,[1],,\r\n"  # row 6: two errors
)


def test_csv_import_end_to_end(client: TestClient, tenant: SeededTenant) -> None:
    accepted = upload_csv(client, tenant, GOOD_AND_BAD)
    assert accepted["status"] == "queued"
    assert accepted["progress"]["totalBytes"] == len(GOOD_AND_BAD.encode())
    record = LeadImport.get((LeadImport.tenant_id == tenant.id) & (LeadImport.id == accepted["id"]))
    assert ImportChunk.select().where(ImportChunk.import_id == record.id).count() == 1
    assert jobs.get_job(tenant.id, record.job_id).kind == job.JOB_KIND

    run_jobs(tenant)

    done = import_status(client, tenant, accepted["id"])
    assert done["status"] == "completed" and done["message"] is None
    assert done["counts"] == {"created": 2, "updated": 0, "failed": 2}
    assert done["progress"]["rowsProcessed"] == 5 and done["progress"]["percent"] == 100
    assert done["startedAt"] and done["finishedAt"]
    assert done["errors"] == [
        {"row": 3, "field": "email", "message": "Invalid email format"},
        {"row": 3, "field": "score", "message": "Must be of type integer"},
        {"row": 6, "field": "customFields", "message": "Must be a JSON object"},
    ]
    assert (done["errorCount"], done["errorsTruncated"]) == (len(done["errors"]), False)
    stored = {lead.email: lead for lead in leads_of(tenant)}
    assert set(stored) == {"fay@example.com", "hal@example.com"}
    fay = stored["fay@example.com"]
    assert (fay.first_name, fay.score, fay.tags, fay.phone) == ("Fay", 40, ["vip", "2026"], "+1-555-0199")
    assert fay.custom_fields == {"plan": "gold", "role": "CEO"} and fay.source == "import"
    assert stored["hal@example.com"].last_name == "Multi\r\nLine"
    assert not ImportChunk.select().where(ImportChunk.import_id == record.id).exists()  # file dropped
    # Duplicates are found in the import's own transactions: no dedup job is left to run.
    assert upkeep.pending_count(tenant.id) == 0


def test_csv_import_updates_by_default_so_a_rerun_doubles_nothing(
    client: TestClient, tenant: SeededTenant
) -> None:
    text = "email,firstName,lastName\njo@example.com,Jo,Ng\nkim@example.com,Kim,Li\n"
    first = upload_csv(client, tenant, text)
    run_jobs(tenant)
    second = upload_csv(client, tenant, text.replace("Jo,Ng", "Joanna,Ng"))
    run_jobs(tenant)

    assert import_status(client, tenant, first["id"])["counts"] == {"created": 2, "updated": 0, "failed": 0}
    assert import_status(client, tenant, second["id"])["counts"] == {"created": 0, "updated": 2, "failed": 0}
    assert sorted(lead.first_name for lead in leads_of(tenant)) == ["Joanna", "Kim"]


@pytest.mark.parametrize(
    ("header", "fields"),
    [
        ("email,firstName,lastName,id", {"header.id"}),
        ("email,first_name,createdAt,nickname", {"header.createdAt", "header.nickname", "header.lastName"}),
        ("email,firstName,lastName,email", {"header.email"}),
        ("", {"header"}),
    ],
)
def test_csv_header_is_checked_on_upload(
    client: TestClient, tenant: SeededTenant, header: str, fields: set[str]
) -> None:
    text = f"{header}\nzed@example.com,Zed,Zee,1\n"
    response = client.post("/v1/leads/import", content=text.encode(), headers={**tenant.headers, **CSV})

    assert_error(response, 422, "validation_error", *fields)
    assert not LeadImport.select().where(LeadImport.tenant_id == tenant.id).exists()
    assert not ImportChunk.select().where(ImportChunk.tenant_id == tenant.id).exists()


def test_csv_must_be_utf8_and_not_empty(client: TestClient, tenant: SeededTenant) -> None:
    latin1 = "email,firstName,lastName,cömpany\n".encode("latin-1")
    response = client.post("/v1/leads/import", content=latin1, headers={**tenant.headers, **CSV})
    assert_error(response, 400, "bad_request")
    response = client.post("/v1/leads/import", content=b"", headers={**tenant.headers, **CSV})
    assert_error(response, 422, "validation_error")
    assert not LeadImport.select().where(LeadImport.tenant_id == tenant.id).exists()


def test_a_bad_byte_anywhere_refuses_the_whole_file_on_upload(
    client: TestClient, tenant: SeededTenant
) -> None:
    good = "".join(f"ok{i}@example.com,Ok,Row\n" for i in range(50_000))  # more than one stored chunk
    body = b"email,firstName,lastName\n" + good.encode() + b"bad\xff@example.com,Bad,Row\n"
    response = client.post("/v1/leads/import", content=body, headers={**tenant.headers, **CSV})

    error = assert_error(response, 400, "bad_request")
    assert "UTF-8" in error["message"]
    assert not LeadImport.select().where(LeadImport.tenant_id == tenant.id).exists()
    assert not ImportChunk.select().where(ImportChunk.tenant_id == tenant.id).exists()
    assert leads_of(tenant) == []


def test_bom_and_excel_style_headers_are_accepted(client: TestClient, tenant: SeededTenant) -> None:
    text = "\ufeffE-mail,First Name,Last Name\nliz@example.com,Liz,Lee\n"
    accepted = upload_csv(client, tenant, text.encode("utf-8"))
    run_jobs(tenant)
    assert import_status(client, tenant, accepted["id"])["counts"]["created"] == 1


def test_an_import_is_invisible_to_other_tenants_and_the_other_environment(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    accepted = upload_csv(client, tenant, "email,firstName,lastName\nmo@example.com,Mo,Ma\n")
    url = f"/v1/imports/{accepted['id']}"

    assert_error(client.get(url, headers=other_tenant.headers), 404, "not_found")
    assert_error(client.get(url, headers=tenant.sandbox_headers), 404, "not_found")
    assert_error(client.get("/v1/imports/unknownimport000", headers=tenant.headers), 404, "not_found")
    assert import_status(client, tenant, accepted["id"])["id"] == accepted["id"]


def test_sandbox_imports_write_sandbox_leads(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post("/v1/leads/import", json=[lead_body()], headers=tenant.sandbox_headers)
    assert assert_ok(response)["created"] == 1
    assert len(leads_of(tenant, "sandbox")) == 1 and leads_of(tenant) == []


def test_errors_are_capped_but_counted(client: TestClient, tenant: SeededTenant) -> None:
    rows = "".join(f"bad{i},Bad,Row\n" for i in range(job.MAX_ERRORS + 5))
    accepted = upload_csv(client, tenant, "email,firstName,lastName\n" + rows)
    run_jobs(tenant)

    done = import_status(client, tenant, accepted["id"])
    assert done["counts"]["failed"] == job.MAX_ERRORS + 5
    assert len(done["errors"]) == job.MAX_ERRORS
    assert (done["errorCount"], done["errorsTruncated"]) == (job.MAX_ERRORS + 5, True)
    assert done["errors"][0]["row"] == 2 and done["errors"][-1]["row"] == job.MAX_ERRORS + 1


@pytest.mark.slow
def test_a_100k_row_csv_import(client: TestClient, new_tenant: Any) -> None:
    tenant = new_tenant("enterprise")
    rows = 100_000
    lines = ["email,firstName,lastName,company,score,tags"]
    lines += [
        f"user{i}@example.com,First{i},Last{i},Company {i % 500},{i % 101},t{i % 7}" for i in range(rows)
    ]
    lines[50_001] = "broken,First,Last,Co,5,t"  # data row 50,001 is file row 50,002
    lines[rows] = "last@example.com,First0,Last0,Company 0,1,t"  # the first row's name and company
    text = "\n".join(lines) + "\n"
    assert len(text) > 64 * 1024  # far beyond the usual body cap: the import has its own

    accepted = upload_csv(client, tenant, text)
    [claimed] = jobs.claim("test-worker", tenant_id=tenant.id)
    assert claimed.kind == job.JOB_KIND
    job.run_import(claimed)  # the job's function, called directly

    done = import_status(client, tenant, accepted["id"])
    assert done["status"] == "completed"
    assert done["counts"] == {"created": rows - 1, "updated": 0, "failed": 1}
    assert done["errors"] == [{"row": 50_002, "field": "email", "message": "Invalid email format"}]
    assert Lead.select().where(Lead.tenant_id == tenant.id).count() == rows - 1
    # Every row deduplicated in its chunk's transaction: the last row is found to be the first's
    # duplicate (hundreds of chunks apart), nothing else matches, and no dedup job is left.
    assert Job.select().where((Job.tenant_id == tenant.id) & (Job.kind == "dedup")).count() == 0
    first = Lead.get((Lead.tenant_id == tenant.id) & (Lead.email == "user0@example.com"))
    last = Lead.get((Lead.tenant_id == tenant.id) & (Lead.email == "last@example.com"))
    assert last.duplicate_of == first.id and first.duplicate_of is None
    pairs = LeadDuplicate.select().where(LeadDuplicate.tenant_id == tenant.id)
    assert sorted((p.lead_id, p.duplicate_id, p.reasons) for p in pairs) == sorted(
        [(first.id, last.id, ["name_company"]), (last.id, first.id, ["name_company"])]
    )
