"""The CSV import as a form upload (multipart/form-data): the same streamed import as text/csv."""

from __future__ import annotations

import dataclasses

from starlette.testclient import TestClient

from handlers.app import create_app
from handlers.settings import Settings
from store import db
from store.models import ImportChunk, LeadImport
from tests.support import SeededTenant, assert_error, assert_ok, import_status, leads_of, run_jobs

TEXT = "email,firstName,lastName,tags\numa@example.com,Uma,Ray,vip;2026\nbad-email,Vic,Ro,\n"


def _nothing_stored(tenant: SeededTenant) -> bool:
    return not (
        LeadImport.select().where(LeadImport.tenant_id == tenant.id).exists()
        or ImportChunk.select().where(ImportChunk.tenant_id == tenant.id).exists()
    )


def test_a_file_part_is_imported_like_a_csv_body(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post(
        "/v1/leads/import",
        files={"file": ("leads.csv", TEXT.encode(), "text/csv")},
        params={"onDuplicate": "allow"},
        headers=tenant.headers,
    )
    accepted = assert_ok(response, 202)
    assert response.headers["location"] == f"/v1/imports/{accepted['id']}"
    assert accepted["progress"]["totalBytes"] == len(TEXT.encode())
    assert accepted["onDuplicate"] == "allow"

    run_jobs(tenant)

    done = import_status(client, tenant, accepted["id"])
    assert done["counts"] == {"created": 1, "updated": 0, "failed": 1}
    assert done["errors"] == [{"row": 3, "field": "email", "message": "Invalid email format"}]
    [lead] = leads_of(tenant)
    assert (lead.email, lead.tags, lead.source) == ("uma@example.com", ["vip", "2026"], "import")


def test_a_browser_style_content_type_for_the_part_is_accepted(
    client: TestClient, tenant: SeededTenant
) -> None:
    response = client.post(
        "/v1/leads/import",
        files={"file": ("leads.csv", TEXT.encode(), "application/vnd.ms-excel")},
        headers=tenant.headers,
    )
    assert_ok(response, 202)


def test_the_file_part_is_required_and_alone(client: TestClient, tenant: SeededTenant) -> None:
    cases = [
        ({"files": {"upload": ("a.csv", TEXT.encode(), "text/csv")}}, {"file", "upload"}),
        ({"files": {"file": ("a.csv", TEXT.encode(), "text/csv")}, "data": {"note": "x"}}, {"note"}),
        ({"files": [("file", ("a.csv", b"x", "text/csv")), ("file", ("b.csv", b"y", "text/csv"))]}, {"file"}),
    ]
    for kwargs, fields in cases:
        response = client.post("/v1/leads/import", headers=tenant.headers, **kwargs)  # type: ignore[arg-type]
        assert_error(response, 422, "validation_error", *fields)
    assert _nothing_stored(tenant)


def test_a_bad_file_is_refused_like_a_bad_csv_body(client: TestClient, tenant: SeededTenant) -> None:
    for content, status_code in (
        (b"", 422),
        ("email,cömpany\n".encode("latin-1"), 400),
        (b"nope,x\n1,2\n", 422),
    ):
        response = client.post(
            "/v1/leads/import", files={"file": ("a.csv", content, "text/csv")}, headers=tenant.headers
        )
        assert response.status_code == status_code, response.text
    assert _nothing_stored(tenant)


def test_a_malformed_multipart_body_is_a_400(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post(
        "/v1/leads/import",
        content=b"--nope\r\nContent-Disposition: form-data\r\n\r\n",
        headers={**tenant.headers, "Content-Type": "multipart/form-data; boundary=nope"},
    )
    assert 400 <= response.status_code < 500 and response.status_code != 404, response.text
    assert _nothing_stored(tenant)


def test_the_import_body_cap_applies_to_the_form_too(settings: Settings, tenant: SeededTenant) -> None:
    original = db.database.obj
    try:
        small = create_app(dataclasses.replace(settings, max_import_bytes=2048))
        with TestClient(small, raise_server_exceptions=False) as capped:
            big = ("email,firstName,lastName\n" + "a@example.com,A,B\n" * 4000).encode()
            response = capped.post(
                "/v1/leads/import", files={"file": ("a.csv", big, "text/csv")}, headers=tenant.headers
            )
    finally:
        opened = db.database.obj
        db.bind(original)
        if opened is not original:
            opened.close_all() if hasattr(opened, "close_all") else opened.close()
    assert_error(response, 413, "payload_too_large")
    assert _nothing_stored(tenant)
