"""The event feed through the real app: every write path emits its event, in its transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from store.events import retention
from store.events.models import Event
from store.models import utcnow
from tests.support import SeededTenant, assert_error, assert_ok, lead_body, make_key
from tests.webhook_support import deliver


def feed(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = assert_ok(
        client.get("/v1/events", params={"limit": 100, **params}, headers=headers)
    )
    return data


def create(client: TestClient, tenant: SeededTenant, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(
        client.post("/v1/leads", json=lead_body(**fields), headers=tenant.headers), 201
    )
    return data


def test_each_lead_change_is_an_event_with_the_lead_as_the_api_shows_it(
    client: TestClient, tenant: SeededTenant
) -> None:
    lead = create(client, tenant, company="Acme")
    patched = assert_ok(
        client.patch(
            f"/v1/leads/{lead['id']}", json={"status": "qualified", "score": 40}, headers=tenant.headers
        )
    )
    events = feed(client, tenant.headers, resourceId=lead["id"])
    assert [e["type"] for e in events] == ["lead.created", "lead.updated"]
    created, updated = events
    assert created["data"] == {"object": lead, "previous": None}
    assert (
        updated["data"]["object"]
        == patched
        == assert_ok(client.get(f"/v1/leads/{lead['id']}", headers=tenant.headers))
    )
    assert updated["data"]["previous"] == {"status": "new", "score": 0}  # the old values of what changed
    assert {e["environment"] for e in events} == {"live"} and {e["resourceId"] for e in events} == {
        lead["id"]
    }
    one = assert_ok(client.get(f"/v1/events/{updated['id']}", headers=tenant.headers))
    assert one == updated


def test_a_patch_that_changes_nothing_emits_nothing(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant, status="contacted")
    assert_ok(client.patch(f"/v1/leads/{lead['id']}", json={"status": "contacted"}, headers=tenant.headers))
    assert [e["type"] for e in feed(client, tenant.headers, resourceId=lead["id"])] == ["lead.created"]


def test_capture_json_import_csv_import_and_upsert_all_emit(client: TestClient, tenant: SeededTenant) -> None:
    key = assert_ok(
        client.post(
            "/v1/api-keys",
            json={"name": f"site-{uuid.uuid4().hex[:6]}", "type": "publishable"},
            headers=tenant.headers,
        ),
        201,
    )["key"]
    captured = client.post(
        "/v1/public/leads",
        json={"email": "web@example.com", "name": "Web Visitor"},
        headers={"X-Publishable-Key": key},
    )
    assert captured.status_code == 201, captured.text
    imported = client.post("/v1/leads/import", json=[lead_body(), lead_body()], headers=tenant.headers)
    assert imported.status_code == 200, imported.text
    upsert = lead_body(email="web@example.com", company="Upserted Inc")
    response = client.post("/v1/leads", params={"onDuplicate": "update"}, json=upsert, headers=tenant.headers)
    assert response.status_code in (200, 201), response.text
    csv = client.post(
        "/v1/leads/import",
        content=b"email,firstName,lastName\ncsv@example.com,C,Sv\n",
        headers={**tenant.headers, "Content-Type": "text/csv"},
    )
    assert csv.status_code == 202, csv.text
    deliver(tenant.id)  # the import job (and the dedup jobs)
    types = [e["type"] for e in feed(client, tenant.headers)]
    assert types.count("lead.created") == 1 + 2 + 1  # capture, JSON import, CSV import
    assert "lead.updated" in types  # the upsert updated the captured lead
    completed = feed(client, tenant.headers, type="import.completed")
    assert len(completed) == 1 and completed[0]["resourceId"] == csv.json()["data"]["id"]
    assert completed[0]["data"]["object"] == assert_ok(
        client.get(f"/v1/imports/{completed[0]['resourceId']}", headers=tenant.headers)
    )


def test_a_failed_import_emits_import_failed(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post(
        "/v1/leads/import",
        content=b'email,firstName,lastName\na@example.com,"A"x,B\n',
        headers={**tenant.headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    deliver(tenant.id)
    [failed] = feed(client, tenant.headers, type="import.failed")
    assert (
        failed["data"]["object"]["status"] == "failed"
        and failed["resourceId"] == response.json()["data"]["id"]
    )


def test_merge_and_duplicate_detection_emit(client: TestClient, tenant: SeededTenant) -> None:
    target = create(client, tenant, email="same@example.com")
    source = create(client, tenant, email="Same@example.com", company="Found Co")
    deliver(tenant.id)  # dedup
    [detected] = feed(client, tenant.headers, type="lead.duplicate_detected")  # by whichever job ran first
    found, other = (source, target) if detected["resourceId"] == source["id"] else (target, source)
    assert detected["resourceId"] == found["id"]
    assert detected["data"]["duplicates"] == [{"leadId": other["id"], "reasons": ["email"]}]
    assert detected["data"]["object"]["duplicateOf"] == (target["id"] if found is source else None)
    deliver(tenant.id)
    assert len(feed(client, tenant.headers, type="lead.duplicate_detected")) == 1  # re-runs find no news
    merged = client.post(
        f"/v1/leads/{target['id']}/merge", json={"sourceIds": [source["id"]]}, headers=tenant.headers
    )
    assert merged.status_code == 200, merged.text
    [event] = feed(client, tenant.headers, type="lead.merged")
    assert event["data"]["mergedLeadIds"] == [source["id"]]
    assert event["data"]["previous"] == {"company": None}
    assert event["data"]["object"] == merged.json()["data"]


def test_erasing_a_lead_erases_its_events(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant, email="erase.me@example.com", company="Secret Co")
    client.patch(f"/v1/leads/{lead['id']}", json={"firstName": "Private"}, headers=tenant.headers)
    assert_ok(client.delete(f"/v1/leads/{lead['id']}", headers=tenant.headers))
    events = feed(client, tenant.headers, resourceId=lead["id"])
    assert [e["type"] for e in events] == ["lead.created", "lead.updated", "lead.deleted"]
    assert events[-1]["data"] == {"object": {"id": lead["id"], "deleted": True}, "previous": None}
    for event in events[:-1]:
        assert event["data"] == {"object": {"id": lead["id"], "erased": True}, "previous": None}
    stored = Event.select().where((Event.tenant_id == tenant.id) & (Event.resource_id == lead["id"]))
    assert not any("erase.me" in str(e.data) or "Private" in str(e.data) for e in stored)


def test_filters_and_cursor_pagination(client: TestClient, tenant: SeededTenant) -> None:
    leads = [create(client, tenant) for _ in range(5)]
    first = client.get("/v1/events", params={"limit": 2, "type": "lead.created"}, headers=tenant.headers)
    page = assert_ok(first)
    assert [e["resourceId"] for e in page] == [lead["id"] for lead in leads[:2]]  # oldest first
    cursor = first.json()["meta"]["pagination"]["nextCursor"]
    rest = assert_ok(
        client.get(
            "/v1/events",
            params={"limit": 10, "type": "lead.created", "cursor": cursor},
            headers=tenant.headers,
        )
    )
    assert [e["resourceId"] for e in rest] == [lead["id"] for lead in leads[2:]]
    wrong = client.get("/v1/events", params={"limit": 10, "cursor": cursor}, headers=tenant.headers)
    assert_error(wrong, 400, "bad_request", "cursor")  # a cursor is bound to its filters
    since = rest[1]["createdAt"]
    assert [e["resourceId"] for e in feed(client, tenant.headers, since=since)] == [
        leads[3]["id"],
        leads[4]["id"],
    ]
    assert_error(
        client.get("/v1/events", params={"type": "lead.nope"}, headers=tenant.headers),
        422,
        "validation_error",
    )


def test_the_feed_is_tenant_and_environment_scoped(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    live = create(client, tenant)
    sandbox = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.sandbox_headers), 201)
    assert [e["resourceId"] for e in feed(client, tenant.sandbox_headers)] == [sandbox["id"]]
    [event] = feed(client, tenant.headers)
    assert event["resourceId"] == live["id"]
    assert feed(client, other_tenant.headers) == []
    assert_error(client.get(f"/v1/events/{event['id']}", headers=other_tenant.headers), 404, "not_found")
    assert_error(client.get(f"/v1/events/{event['id']}", headers=tenant.sandbox_headers), 404, "not_found")


def test_the_feed_needs_read_leads(client: TestClient, tenant: SeededTenant) -> None:
    writer = make_key(client, tenant.headers, scopes=["write:leads"])["key"]
    assert_error(client.get("/v1/events", headers={"X-API-Key": writer}), 403, "insufficient_permissions")
    assert_error(client.get("/v1/events"), 401, "auth_required")


def test_events_older_than_the_retention_are_hidden_then_purged(
    client: TestClient, tenant: SeededTenant
) -> None:
    old, new = create(client, tenant), create(client, tenant)
    aged = utcnow() - dt.timedelta(days=31)
    Event.update(created_at=aged).where(
        (Event.tenant_id == tenant.id) & (Event.resource_id == old["id"])
    ).execute()
    assert [e["resourceId"] for e in feed(client, tenant.headers)] == [new["id"]]
    assert retention.purge_expired(tenant.id) == 1
    assert (
        Event.select().where((Event.tenant_id == tenant.id) & (Event.resource_id == old["id"])).count() == 0
    )
    assert (
        Event.select().where((Event.tenant_id == tenant.id) & (Event.resource_id == new["id"])).count() == 1
    )


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01T00:00:00Z"])
def test_a_bad_since_is_422(client: TestClient, tenant: SeededTenant, since: str) -> None:
    assert_error(
        client.get("/v1/events", params={"since": since}, headers=tenant.headers), 422, "validation_error"
    )
