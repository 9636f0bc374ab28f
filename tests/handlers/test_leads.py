"""Lead endpoints through the real app and database."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from store.models import Lead, LeadEvent
from tests.conftest import SeededTenant, lead_body

SEED_001_BODY = {
    "email": "jane.doe@example.com",
    "firstName": "Jane",
    "lastName": "Doe",
    "phone": "+1-555-0199",
    "source": "web",
    "customFields": {"company": "Acme Inc", "role": "VP Sales"},
}


def create(client: TestClient, tenant: SeededTenant, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/leads", json=lead_body(**overrides), headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_seed_001_example_creates_the_documented_lead(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post("/v1/leads", json=SEED_001_BODY, headers=tenant.headers)

    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["status"] == 201
    assert body["message"] == "Resource created successfully"
    data = body["data"]
    for field in ("id", "tenantId", "email", "firstName", "lastName", "phone", "source", "status",
                  "score", "assignedTo", "customFields", "createdAt", "updatedAt"):
        assert field in data
    assert data["phone"] == "+1-555-0199"
    assert (data["status"], data["score"], data["assignedTo"]) == ("new", 0, None)
    assert data["tenantId"] == tenant.id
    assert data["customFields"] == {"company": "Acme Inc", "role": "VP Sales"}
    assert len(data["id"]) in (16, 17) and data["id"].isalnum()
    assert body["meta"]["version"] == "v1" and body["meta"]["requestId"]
    stored = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == data["id"]))
    assert stored.email_normalized == "jane.doe@example.com"


def test_valid_phone_gets_an_e164_form(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant, phone="+44 20 7946 0958")
    assert lead["phone"] == "+44 20 7946 0958"
    assert lead["phoneE164"] == "+442079460958"


def test_get_patch_delete_round_trip(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant, company="Acme")
    url = f"/v1/leads/{lead['id']}"

    assert client.get(url, headers=tenant.headers).json()["data"] == lead

    patched = client.patch(url, json={"status": "qualified", "score": 80, "company": None}, headers=tenant.headers)
    assert patched.status_code == 200
    assert (patched.json()["data"]["status"], patched.json()["data"]["score"]) == ("qualified", 80)
    assert patched.json()["data"]["company"] is None

    deleted = client.delete(url, headers=tenant.headers)
    assert deleted.status_code == 200 and deleted.json()["data"] == {"id": lead["id"], "deleted": True}
    assert client.get(url, headers=tenant.headers).status_code == 404
    assert not LeadEvent.select().where(LeadEvent.lead_id == lead["id"]).exists()


def test_history_records_creation_and_each_change(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant)
    url = f"/v1/leads/{lead['id']}"
    client.patch(url, json={"status": "contacted"}, headers=tenant.headers)
    client.patch(url, json={"status": "contacted"}, headers=tenant.headers)  # no change, no entry

    history = client.get(f"{url}/history", headers=tenant.headers).json()["data"]

    assert [entry["action"] for entry in history] == ["created", "updated"]
    assert history[0]["changes"]["email"] == [None, lead["email"]]
    assert history[1]["changes"] == {"status": ["new", "contacted"]}
    assert history[1]["actor"]["type"] == "api_key"


def test_validation_reports_every_field(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post(
        "/v1/leads",
        json={"email": "not-an-email", "firstName": "", "score": 101, "status": "won", "id": "x"},
        headers=tenant.headers,
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["message"] == "Validation failed"
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"email", "firstName", "lastName", "score", "status", "id"}
    assert not Lead.select().where(Lead.tenant_id == tenant.id).exists()
