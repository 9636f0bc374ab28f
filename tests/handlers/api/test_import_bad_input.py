"""One bad cell is its row's error, never the import's; lists of errors stay bounded.

A 120 KB cell of nested brackets once sank a whole CSV import (RecursionError, 5 retries, 0
created), a cell over ``csv.field_size_limit()`` aborted the rest of the file, and a 2 MB header
row answered a 10 MB 422 listing 144,958 errors.
"""

from __future__ import annotations

import csv
import json
from typing import Any

from starlette.testclient import TestClient

from handlers.http.envelope import MAX_ERRORS_SHOWN
from handlers.worker import Worker
from store.models import Lead, LeadImport
from tests.support import SeededTenant, assert_error, assert_ok, lead_body

CSV = {"Content-Type": "text/csv"}
NESTED = "[" * 60_000 + "]" * 60_000  # 120 KB of brackets: json.loads recurses past the limit


def _emails(tenant: SeededTenant) -> set[str]:
    return {lead.email for lead in Lead.select().where(Lead.tenant_id == tenant.id)}


def _import(client: TestClient, tenant: SeededTenant, text: str) -> dict[str, Any]:
    response = client.post("/v1/leads/import", content=text.encode(), headers={**tenant.headers, **CSV})
    data: dict[str, Any] = assert_ok(response, 202)
    Worker().run_until_idle(tenant_id=tenant.id)
    done: dict[str, Any] = assert_ok(client.get(f"/v1/imports/{data['id']}", headers=tenant.headers))
    return done


def test_a_deeply_nested_custom_fields_cell_fails_only_its_row(
    client: TestClient, tenant: SeededTenant
) -> None:
    rows = [
        "email,firstName,lastName,customFields",
        "a@example.com,Ann,One,",
        f'b@example.com,Bob,Two,"{NESTED}"',
        'c@example.com,Cy,Three,"{""plan"": ""gold""}"',
    ]
    done = _import(client, tenant, "\n".join(rows) + "\n")
    assert done["status"] == "completed", done
    assert (done["counts"]["created"], done["counts"]["failed"]) == (2, 1)
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(3, "customFields")]
    assert _emails(tenant) == {"a@example.com", "c@example.com"}


def test_a_cell_over_the_csv_field_limit_fails_only_its_row(client: TestClient, tenant: SeededTenant) -> None:
    huge = "x" * (csv.field_size_limit() + 10)
    rows = [
        "email,firstName,lastName,message",
        "a@example.com,Ann,One,hello",
        f"b@example.com,Bob,Two,{huge}",
        "c@example.com,Cy,Three,",
        f'"d@example.com",Di,Four,"{huge}"',
        "e@example.com,Ed,Five,bye",
    ]
    done = _import(client, tenant, "\n".join(rows) + "\n")
    assert done["status"] == "completed", done
    assert (done["counts"]["created"], done["counts"]["failed"]) == (3, 2)
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(3, "row"), (5, "row")]
    assert _emails(tenant) == {"a@example.com", "c@example.com", "e@example.com"}


def test_a_huge_header_row_answers_a_bounded_422(client: TestClient, tenant: SeededTenant) -> None:
    columns = [f"bogus{i}" for i in range(150_000)]  # ~1.3 MB of unknown column names
    text = ",".join(["email", "firstName", "lastName", *columns]) + "\na@example.com,A,B\n"
    response = client.post("/v1/leads/import", content=text.encode(), headers={**tenant.headers, **CSV})
    body = assert_error(response, 422, "validation_error")
    assert len(body["errors"]) == MAX_ERRORS_SHOWN
    assert body["errorCount"] > 50_000  # every unknown column the first 1 MiB chunk names
    assert len(response.content) < 20_000
    assert LeadImport.select().where(LeadImport.tenant_id == tenant.id).count() == 0


def test_a_header_cell_over_the_csv_field_limit_is_a_422(client: TestClient, tenant: SeededTenant) -> None:
    text = "email,firstName,lastName," + "x" * (csv.field_size_limit() + 1) + "\n"
    response = client.post("/v1/leads/import", content=text.encode(), headers={**tenant.headers, **CSV})
    assert_error(response, 422, "validation_error", "header")


def test_a_request_with_many_field_errors_lists_the_first_100_and_counts_all(
    client: TestClient, tenant: SeededTenant
) -> None:
    body = {**lead_body(), **{f"unknown{i:03d}": 1 for i in range(150)}}
    response = client.post("/v1/leads", json=body, headers=tenant.headers)
    data = assert_error(response, 422, "validation_error")
    assert (len(data["errors"]), data["errorCount"]) == (MAX_ERRORS_SHOWN, 150)


def test_a_json_import_item_with_many_errors_is_bounded_too(client: TestClient, tenant: SeededTenant) -> None:
    bad = {**lead_body(), **{f"unknown{i:04d}": 1 for i in range(500)}}
    response = client.post(
        "/v1/leads/import", json=[bad, lead_body(email="ok@example.com")], headers=tenant.headers
    )
    data = assert_ok(response)
    first = data["results"][0]
    assert (first["status"], len(first["errors"]), first["errorCount"]) == ("error", MAX_ERRORS_SHOWN, 500)
    assert data["results"][1]["status"] == "created" and data["results"][1]["errorCount"] == 0
    assert _emails(tenant) == {"ok@example.com"}
    assert len(json.dumps(data)) < 50_000
