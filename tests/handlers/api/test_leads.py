"""Lead endpoints through the real app and database."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from store.models import Lead, LeadEvent
from tests.support import TIMESTAMP, SeededTenant, assert_error, assert_ok, lead_body, row_counts

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
    for field in (
        "id",
        "tenantId",
        "email",
        "firstName",
        "lastName",
        "phone",
        "source",
        "status",
        "score",
        "assignedTo",
        "customFields",
        "createdAt",
        "updatedAt",
    ):
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

    patched = client.patch(
        url, json={"status": "qualified", "score": 80, "company": None}, headers=tenant.headers
    )
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


def walk(client: TestClient, tenant: SeededTenant, url: str, **params: Any) -> list[dict[str, Any]]:
    """Follow ``nextCursor`` to the end, checking ``meta.pagination`` on every page."""
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"{url}?{urlencode(query)}", headers=tenant.headers)
        page = assert_ok(response)
        pagination = response.json()["meta"]["pagination"]
        assert set(pagination) == {"limit", "nextCursor", "hasMore"}
        assert pagination["limit"] == params.get("limit", 20)
        assert len(page) <= pagination["limit"]
        assert pagination["hasMore"] is (pagination["nextCursor"] is not None)
        seen += page
        if not pagination["hasMore"]:
            return seen
        cursor = pagination["nextCursor"]
    raise AssertionError("pagination never ended")


def test_list_envelope_and_default_page(client: TestClient, tenant: SeededTenant) -> None:
    made = [create(client, tenant) for _ in range(3)]
    response = client.get("/v1/leads", headers=tenant.headers)

    body = response.json()
    assert set(body) == {"success", "status", "message", "data", "meta"}
    assert body["meta"]["pagination"] == {"limit": 20, "nextCursor": None, "hasMore": False}
    assert TIMESTAMP.match(body["meta"]["timestamp"]) and body["meta"]["version"] == "v1"
    assert [lead["id"] for lead in body["data"]] == [lead["id"] for lead in made[::-1]]
    assert body["data"][0] == made[-1]


@pytest.mark.parametrize(
    "sort", ["createdAt", "-createdAt", "updatedAt", "-updatedAt", "score", "-score", "lastName", "-lastName"]
)
def test_every_sort_pages_through_every_lead_once(
    client: TestClient, tenant: SeededTenant, sort: str
) -> None:
    names = ["Baker", "Adams", "Clark", "Baker", "Adams", "Baker", "Zed"]  # one case: collations differ
    made = [create(client, tenant, lastName=name, score=(i % 3) * 10) for i, name in enumerate(names)]
    stored = {lead.id: lead for lead in Lead.select().where(Lead.tenant_id == tenant.id)}
    key = {"createdAt": "created_at", "updatedAt": "updated_at", "score": "score", "lastName": "last_name"}
    column = key[sort.lstrip("-")]

    seen = walk(client, tenant, "/v1/leads", sort=sort, limit=2)

    assert len(seen) == len({lead["id"] for lead in seen}) == len(made)
    expected = sorted(
        stored.values(), key=lambda lead: (getattr(lead, column), lead.id), reverse=sort[0] == "-"
    )
    assert [lead["id"] for lead in seen] == [lead.id for lead in expected]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "qualified"}, {"q"}),
        ({"source": "web"}, {"web"}),
        ({"tag": "vip"}, {"vip", "q"}),
        ({"q": "ACME"}, {"acme"}),
        ({"q": "initech"}, {"q"}),
        ({"q": "100%"}, set()),
        ({"q": "_"}, set()),
        ({"scoreMin": 50}, {"q"}),
        ({"scoreMax": 0}, {"plain", "web", "vip", "acme"}),
        ({"scoreMin": 10, "scoreMax": 60}, {"q"}),
        ({"status": "qualified", "tag": "vip", "q": "initech"}, {"q"}),
        ({"createdAfter": "2000-01-01T00:00:00Z"}, {"plain", "web", "vip", "acme", "q"}),
        ({"createdBefore": "2000-01-01T00:00:00Z"}, set()),
    ],
)
def test_filters_over_http(
    client: TestClient, tenant: SeededTenant, params: dict[str, Any], expected: set[str]
) -> None:
    made = {
        "plain": create(client, tenant),
        "web": create(client, tenant, source="web"),
        "vip": create(client, tenant, tags=["vip"]),
        "acme": create(client, tenant, company="Acme Corp"),
        "q": create(client, tenant, status="qualified", score=55, tags=["vip"], company="Initech"),
    }
    by_id = {lead["id"]: name for name, lead in made.items()}
    found = walk(client, tenant, "/v1/leads", **params)
    assert {by_id[lead["id"]] for lead in found} == expected


def test_assigned_to_filter_over_http(client: TestClient, tenant: SeededTenant) -> None:
    mine = create(client, tenant, assignedTo=tenant.owner_id)
    create(client, tenant)
    found = walk(client, tenant, "/v1/leads", assignedTo=tenant.owner_id)
    assert [lead["id"] for lead in found] == [mine["id"]] and found[0]["assignedTo"] == tenant.owner_id


def test_created_window_over_http(client: TestClient, tenant: SeededTenant) -> None:
    first = create(client, tenant)
    second = create(client, tenant)
    # Responses show milliseconds; keep the two creations apart by more than that.
    earlier = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == first["id"])).created_at - dt.timedelta(
        seconds=1
    )
    Lead.update(created_at=earlier).where((Lead.tenant_id == tenant.id) & (Lead.id == first["id"])).execute()
    assert [lead["id"] for lead in walk(client, tenant, "/v1/leads", createdAfter=second["createdAt"])] == [
        second["id"]
    ]
    assert [lead["id"] for lead in walk(client, tenant, "/v1/leads", createdBefore=second["createdAt"])] == [
        first["id"]
    ]


def _cursor(client: TestClient, tenant: SeededTenant, **params: Any) -> str:
    response = client.get(f"/v1/leads?{urlencode({'limit': 1, **params})}", headers=tenant.headers)
    cursor: str = response.json()["meta"]["pagination"]["nextCursor"]
    assert cursor
    return cursor


def test_tampered_cursor_is_400(client: TestClient, tenant: SeededTenant) -> None:
    for _ in range(3):
        create(client, tenant)
    cursor = _cursor(client, tenant)
    # Edit the signed payload (not the signature's last base64 character, whose low bits are
    # padding: changing it can leave the decoded signature, and so the cursor, the same).
    edited = cursor[:8] + ("A" if cursor[8] != "A" else "B") + cursor[9:]
    signature_cut = cursor[: cursor.rindex(".") + 5]
    for bad in (edited, signature_cut, cursor[1:], cursor + "x", "e30.garbage"):
        response = client.get(f"/v1/leads?{urlencode({'limit': 1, 'cursor': bad})}", headers=tenant.headers)
        assert_error(response, 400, "bad_request", "cursor")


@pytest.mark.parametrize("changed", [{"sort": "score"}, {"status": "contacted"}, {"q": "x"}, {"scoreMin": 1}])
def test_cursor_replayed_with_other_filters_is_400(
    client: TestClient, tenant: SeededTenant, changed: dict[str, Any]
) -> None:
    for _ in range(3):
        create(client, tenant)
    cursor = _cursor(client, tenant)
    response = client.get(
        f"/v1/leads?{urlencode({'limit': 1, 'cursor': cursor, **changed})}", headers=tenant.headers
    )
    assert_error(response, 400, "bad_request", "cursor")


def test_cursor_from_another_list_is_400(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant)
    for score in (1, 2):
        client.patch(f"/v1/leads/{lead['id']}", json={"score": score}, headers=tenant.headers)
    history_cursor = client.get(f"/v1/leads/{lead['id']}/history?limit=1", headers=tenant.headers).json()[
        "meta"
    ]["pagination"]["nextCursor"]
    assert history_cursor
    assert_error(client.get(f"/v1/leads?cursor={history_cursor}", headers=tenant.headers), 400, "bad_request")
    assert_error(
        client.get(f"/v1/api-keys?cursor={history_cursor}", headers=tenant.headers), 400, "bad_request"
    )


def test_sandbox_cannot_use_a_live_cursor(client: TestClient, tenant: SeededTenant) -> None:
    for _ in range(2):
        create(client, tenant)
    cursor = _cursor(client, tenant)
    response = client.get(f"/v1/leads?cursor={cursor}", headers=tenant.sandbox_headers)
    assert_error(response, 400, "bad_request", "cursor")


def test_history_pagination(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant)
    url = f"/v1/leads/{lead['id']}"
    for score in range(1, 6):
        assert client.patch(url, json={"score": score}, headers=tenant.headers).status_code == 200

    entries = walk(client, tenant, f"{url}/history", limit=2)

    assert [entry["action"] for entry in entries] == ["created"] + ["updated"] * 5
    assert [entry["changes"] for entry in entries[1:]] == [{"score": [i, i + 1]} for i in range(5)]
    assert len({entry["id"] for entry in entries}) == 6
    assert all(entry["leadId"] == lead["id"] and TIMESTAMP.match(entry["occurredAt"]) for entry in entries)
    assert entries == sorted(entries, key=lambda entry: entry["occurredAt"])


def test_history_cursor_is_bound_to_its_lead(client: TestClient, tenant: SeededTenant) -> None:
    first, second = create(client, tenant), create(client, tenant)
    for lead in (first, second):
        client.patch(f"/v1/leads/{lead['id']}", json={"score": 3}, headers=tenant.headers)
    cursor = client.get(f"/v1/leads/{first['id']}/history?limit=1", headers=tenant.headers).json()["meta"][
        "pagination"
    ]["nextCursor"]
    response = client.get(f"/v1/leads/{second['id']}/history?limit=1&cursor={cursor}", headers=tenant.headers)
    assert_error(response, 400, "bad_request", "cursor")


def test_patch_records_who_changed_what(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant, tags=["a"], customFields={"k": 1})
    url = f"/v1/leads/{lead['id']}"
    patched = assert_ok(
        client.patch(
            url,
            json={"tags": ["b"], "customFields": {"k": 2}, "assignedTo": tenant.owner_id},
            headers={**tenant.headers, "X-Request-ID": "patch-1"},
        )
    )
    assert (patched["tags"], patched["customFields"], patched["assignedTo"]) == (
        ["b"],
        {"k": 2},
        tenant.owner_id,
    )
    assert patched["updatedAt"] >= lead["updatedAt"] and patched["createdAt"] == lead["createdAt"]

    last = assert_ok(client.get(f"{url}/history", headers=tenant.headers))[-1]
    assert last["changes"] == {
        "tags": [["a"], ["b"]],
        "customFields": [{"k": 1}, {"k": 2}],
        "assignedTo": [None, tenant.owner_id],
    }
    assert last["requestId"] == "patch-1" and last["actor"]["type"] == "api_key"


def test_delete_twice_is_404_the_second_time(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant)
    assert client.delete(f"/v1/leads/{lead['id']}", headers=tenant.headers).status_code == 200
    counts = row_counts(tenant.id)
    assert_error(client.delete(f"/v1/leads/{lead['id']}", headers=tenant.headers), 404, "not_found")
    assert_error(client.get(f"/v1/leads/{lead['id']}/history", headers=tenant.headers), 404, "not_found")
    assert row_counts(tenant.id) == counts
