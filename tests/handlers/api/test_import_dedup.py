"""A CSV import keeps every write's trail and finds duplicates as the per-lead path does.

Every imported lead has its history entry, audit event and ``lead.created`` event; duplicates
against stored leads, across chunks and within one chunk are found in the chunks' own
transactions (no dedup job is ever queued), and they are exactly what creating the same leads
one by one through ``POST /v1/leads`` finds, whose dedup jobs run after each chunk's worth."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from handlers.worker import Worker
from store.events.models import Event
from store.imports import rows
from store.models import AuditEvent, Job, Lead, LeadEvent
from tests.dedup_support import duplicate_outcome
from tests.support import SeededTenant, assert_ok

STORED = [
    {"email": "pat.lee@example.com", "firstName": "Pat", "lastName": "Lee", "company": "Acme, Inc."},
    {"email": "sam@example.com", "firstName": "Sam", "lastName": "Roe", "phone": "+44 20 7946 0958"},
]
HEADER = ["email", "firstName", "lastName", "company", "phone"]
FILE = [
    ["p.lee@example.com", "PAT", "lee", "ACME", ""],  # stored lead 0 by name + company
    ["kim@example.com", "Kim", "Ode", "Globex GmbH", "+442079460958"],  # stored 1 by phone
    ["kim.o@example.com", "kim", "ODE", "globex", ""],  # the row before, same chunk
    ["SAM+crm@example.com", "Sam", "Roe", "", ""],  # stored 1 by email
    ["other@example.com", "Ann", "Bo", "", "+44 20 7946 0959"],  # nothing
    ["kim@example.com", "Kim", "Ode", "Initech", ""],  # row 2 by email, chunks apart; row 3 not
    ["pat.lee+x@example.com", "Pat", "Lee", "Acme", "+44 20 7946 0958"],  # all three rules
]
CHUNK = 2


def _run_jobs(tenant: SeededTenant) -> None:
    Worker().run_until_idle(tenant_id=tenant.id)


def _csv() -> str:
    return "\n".join(",".join(row) for row in [HEADER, *FILE]) + "\n"


def _as_lead(row: list[str]) -> dict[str, Any]:
    return {name: cell for name, cell in zip(HEADER, row, strict=True) if cell}


def _store(client: TestClient, tenant: SeededTenant, leads: list[dict[str, Any]]) -> None:
    for body in leads:
        assert_ok(client.post("/v1/leads", json=body, headers=tenant.headers), 201)


@pytest.mark.parametrize("chunk", [CHUNK, 100])  # several chunks; all in one
def test_an_import_finds_duplicates_as_one_create_at_a_time_does(
    client: TestClient, new_tenant: Any, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(rows, "BATCH_ROWS", chunk)
    reference, imported = new_tenant("pro"), new_tenant("pro")
    for tenant in (reference, imported):
        _store(client, tenant, STORED)
        _run_jobs(tenant)
    dedup_jobs_before = Job.select().where((Job.tenant_id == imported.id) & (Job.kind == "dedup")).count()

    # The per-lead path: one create at a time, each chunk's dedup jobs run after the chunk.
    for start in range(0, len(FILE), chunk):
        _store(client, reference, [_as_lead(row) for row in FILE[start : start + chunk]])
        _run_jobs(reference)

    response = client.post(
        "/v1/leads/import",
        content=_csv().encode(),
        params={"onDuplicate": "allow"},
        headers={**imported.headers, "Content-Type": "text/csv"},
    )
    accepted = assert_ok(response, 202)
    _run_jobs(imported)
    done = assert_ok(client.get(f"/v1/imports/{accepted['id']}", headers=imported.headers))
    assert done["status"] == "completed"
    assert done["counts"] == {"created": len(FILE), "updated": 0, "failed": 0}

    assert duplicate_outcome(imported.id) == duplicate_outcome(reference.id)
    outcome = duplicate_outcome(imported.id)
    assert outcome["pointers"][2:] == [0, 1, 3, 1, None, 3, 0]  # the rules did find something
    # No dedup job was queued for the import: its rows were checked in their chunks.
    assert (
        Job.select().where((Job.tenant_id == imported.id) & (Job.kind == "dedup")).count()
        == dedup_jobs_before
    )

    # Every imported lead: one history entry, one audit event, one lead.created event.
    imported_leads = list(
        Lead.select()
        .where((Lead.tenant_id == imported.id) & (Lead.source == "import"))
        .order_by(Lead.created_at)
    )
    assert [lead.email for lead in imported_leads] == [row[0] for row in FILE]
    for lead in imported_leads:
        history = LeadEvent.select().where(
            (LeadEvent.tenant_id == imported.id) & (LeadEvent.lead_id == lead.id)
        )
        assert [entry.action for entry in history] == ["created"]
        audit = AuditEvent.select().where(
            (AuditEvent.tenant_id == imported.id) & (AuditEvent.resource_id == lead.id)
        )
        assert [event.action for event in audit] == ["lead.created"]
        created = Event.select().where(
            (Event.tenant_id == imported.id) & (Event.resource_id == lead.id) & (Event.type == "lead.created")
        )
        assert [event.data["object"]["email"] for event in created] == [lead.email]

    # And through the API: the last row lists its three duplicates with their reasons.
    last = imported_leads[-1]
    listed = assert_ok(client.get(f"/v1/leads/{last.id}/duplicates", headers=imported.headers))
    assert len(listed) == 4
    reasons = {item["lead"]["email"]: sorted(item["reasons"]) for item in listed}
    assert reasons == {
        "pat.lee@example.com": ["email", "name_company"],
        "sam@example.com": ["phone"],
        "p.lee@example.com": ["name_company"],
        "kim@example.com": ["phone"],
    }
