"""Bad input on create, patch and list: the right status and code, the field named, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import Lead, LeadEvent
from tests.support import SeededTenant, assert_error, assert_ok, lead_body, row_counts

# (body overrides, the fields the error must name)
BAD_FIELDS: list[tuple[dict[str, Any], set[str]]] = [
    ({"id": "AAAAAAAAAAAAAAAA"}, {"id"}),
    ({"tenantId": "AAAAAAAAAAAAAAAA"}, {"tenantId"}),
    ({"createdAt": "2026-01-01T00:00:00Z"}, {"createdAt"}),
    ({"updatedAt": "2026-01-01T00:00:00Z"}, {"updatedAt"}),
    ({"environment": "sandbox"}, {"environment"}),
    ({"phoneE164": "+15550199"}, {"phoneE164"}),
    ({"emailNormalized": "x@example.com"}, {"emailNormalized"}),
    ({"unknownField": 1}, {"unknownField"}),
    ({"first_name": "snake"}, {"first_name"}),
    ({"score": 101}, {"score"}),
    ({"score": -1}, {"score"}),
    ({"score": 5.5}, {"score"}),
    ({"score": "50"}, {"score"}),
    ({"score": True}, {"score"}),
    ({"status": "won"}, {"status"}),
    ({"status": "NEW"}, {"status"}),
    ({"source": "carrier-pigeon"}, {"source"}),
    ({"email": "not-an-email"}, {"email"}),
    ({"email": "jane@"}, {"email"}),
    ({"email": "x" * 250 + "@example.com"}, {"email"}),
    ({"email": 42}, {"email"}),
    ({"firstName": "x" * 101}, {"firstName"}),
    ({"lastName": "x" * 101}, {"lastName"}),
    ({"firstName": ""}, {"firstName"}),
    ({"company": "x" * 201}, {"company"}),
    ({"title": "x" * 201}, {"title"}),
    ({"industry": "x" * 101}, {"industry"}),
    ({"message": "x" * 5001}, {"message"}),
    ({"phone": "call me maybe"}, {"phone"}),
    ({"phone": "+" + "1" * 40}, {"phone"}),
    ({"assignedTo": "NoSuchUser000000"}, {"assignedTo"}),
    ({"assignedTo": "x" * 18}, {"assignedTo"}),
    ({"customFields": {"nested": {"a": 1}}}, {"customFields.nested"}),
    ({"customFields": {"list": [1, 2]}}, {"customFields.list"}),
    ({"customFields": {f"k{i}": i for i in range(51)}}, {"customFields"}),
    ({"customFields": ["not", "an", "object"]}, {"customFields"}),
    ({"tags": [f"t{i}" for i in range(21)]}, {"tags"}),
    ({"tags": ["x" * 51]}, {"tags[0]"}),
    ({"tags": [""]}, {"tags[0]"}),
    ({"tags": "vip"}, {"tags"}),
    ({"tags": [1]}, {"tags[0]"}),
    ({"score": 101, "status": "won", "id": "x"}, {"score", "status", "id"}),
]


def _id(case: tuple[dict[str, Any], set[str]]) -> str:
    return "+".join(sorted(case[1])) + ":" + repr(next(iter(case[0].values())))[:20]


@pytest.mark.parametrize(("overrides", "fields"), BAD_FIELDS, ids=[_id(c) for c in BAD_FIELDS])
def test_bad_create_is_422_and_writes_nothing(
    client: TestClient, tenant: SeededTenant, overrides: dict[str, Any], fields: set[str]
) -> None:
    counts = row_counts(tenant.id)
    response = client.post("/v1/leads", json=lead_body(**overrides), headers=tenant.headers)
    assert_error(response, 422, "validation_error", *fields)
    assert row_counts(tenant.id) == counts


@pytest.mark.parametrize(("overrides", "fields"), BAD_FIELDS, ids=[_id(c) for c in BAD_FIELDS])
def test_bad_patch_is_422_and_changes_nothing(
    client: TestClient, tenant: SeededTenant, overrides: dict[str, Any], fields: set[str]
) -> None:
    lead = assert_ok(client.post("/v1/leads", json=lead_body(company="Before"), headers=tenant.headers), 201)
    counts = row_counts(tenant.id)
    before = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead["id"])).__data__

    response = client.patch(
        f"/v1/leads/{lead['id']}", json={"company": "After", **overrides}, headers=tenant.headers
    )

    assert_error(response, 422, "validation_error", *fields)
    assert row_counts(tenant.id) == counts
    assert Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead["id"])).__data__ == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"firstName": "A", "lastName": "B"}, {"email"}),
        ({"email": "a@example.com", "lastName": "B"}, {"firstName"}),
        ({"email": "a@example.com", "firstName": "A"}, {"lastName"}),
        ({}, {"email", "firstName", "lastName"}),
        ({"email": None, "firstName": "A", "lastName": "B"}, {"email"}),
        ({"email": "a@example.com", "firstName": "   ", "lastName": "B"}, {"firstName"}),
    ],
)
def test_required_fields_on_create(
    client: TestClient, tenant: SeededTenant, body: dict[str, Any], fields: set[str]
) -> None:
    counts = row_counts(tenant.id)
    assert_error(
        client.post("/v1/leads", json=body, headers=tenant.headers), 422, "validation_error", *fields
    )
    assert row_counts(tenant.id) == counts


@pytest.mark.parametrize("field", ["email", "firstName", "lastName", "source", "status", "score"])
def test_required_or_enum_fields_cannot_be_nulled_by_patch(
    client: TestClient, tenant: SeededTenant, field: str
) -> None:
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    counts = row_counts(tenant.id)
    response = client.patch(f"/v1/leads/{lead['id']}", json={field: None}, headers=tenant.headers)
    assert_error(response, 422, "validation_error", field)
    assert row_counts(tenant.id) == counts


def test_empty_patch_changes_nothing(client: TestClient, tenant: SeededTenant) -> None:
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    response = client.patch(f"/v1/leads/{lead['id']}", json={}, headers=tenant.headers)
    assert response.status_code in (200, 422)
    assert LeadEvent.select().where(LeadEvent.lead_id == lead["id"]).count() == 1


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        ("limit=0", 422, "validation_error", "limit"),
        ("limit=101", 422, "validation_error", "limit"),
        ("limit=-5", 422, "validation_error", "limit"),
        ("limit=abc", 400, "bad_request", "limit"),
        ("limit=1.5", 400, "bad_request", "limit"),
        ("limit=", 400, "bad_request", "limit"),
        ("limit=10&limit=20", 400, "bad_request", "limit"),
        ("scoreMin=-1", 422, "validation_error", "scoreMin"),
        ("scoreMin=101", 422, "validation_error", "scoreMin"),
        ("scoreMax=1000", 422, "validation_error", "scoreMax"),
        ("scoreMin=high", 400, "bad_request", "scoreMin"),
        ("status=won", 422, "validation_error", "status"),
        ("source=fax", 422, "validation_error", "source"),
        ("sort=email", 422, "validation_error", "sort"),
        ("sort=--createdAt", 422, "validation_error", "sort"),
        ("sort=createdAt&sort=score", 400, "bad_request", "sort"),
        ("createdAfter=yesterday", 422, "validation_error", "createdAfter"),
        ("createdAfter=2026-13-01T00:00:00Z", 422, "validation_error", "createdAfter"),
        ("createdBefore=2026-01-01", 422, "validation_error", "createdBefore"),
        ("q=" + "x" * 201, 422, "validation_error", "q"),
        ("tag=" + "x" * 51, 422, "validation_error", "tag"),
        ("assignedTo=" + "x" * 18, 422, "validation_error", "assignedTo"),
        ("cursor=not-a-cursor", 400, "bad_request", "cursor"),
        ("cursor=" + "x" * 2049, 422, "validation_error", "cursor"),
        ("unknown=1", 422, "validation_error", "unknown"),
        ("page=2", 422, "validation_error", "page"),
        ("offset=10", 422, "validation_error", "offset"),
    ],
)
def test_bad_list_query_params(
    client: TestClient, tenant: SeededTenant, query: str, status: int, code: str, field: str
) -> None:
    response = client.get(f"/v1/leads?{query}", headers=tenant.headers)
    assert_error(response, status, code, field)


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=abc", "limit"), ("limit=1&limit=2", "limit"), ("status=new", "status")],
)
def test_bad_history_and_key_list_params(
    client: TestClient, tenant: SeededTenant, query: str, field: str
) -> None:
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    for url in (f"/v1/leads/{lead['id']}/history?{query}", f"/v1/api-keys?{query}"):
        response = client.get(url, headers=tenant.headers)
        assert response.status_code in (400, 422)
        assert_error(response, response.status_code, response.json()["code"], field)


@pytest.mark.parametrize("lead_id", ["x" * 65, "has space", "semi;colon"])
def test_malformed_lead_id_is_404(client: TestClient, tenant: SeededTenant, lead_id: str) -> None:
    assert_error(client.get(f"/v1/leads/{lead_id}", headers=tenant.headers), 404, "not_found")
    counts = row_counts(tenant.id)
    assert_error(
        client.patch(f"/v1/leads/{lead_id}", json={"score": 1}, headers=tenant.headers), 404, "not_found"
    )
    assert row_counts(tenant.id) == counts


def test_good_boundaries_are_accepted(client: TestClient, tenant: SeededTenant) -> None:
    body = lead_body(
        score=100,
        firstName="x" * 100,
        message="m" * 5000,
        customFields={**{f"k{i}": i for i in range(49)}, "n": None},
        tags=[f"t{i}" for i in range(20)],
        phone="+1-555-0199",
    )
    data = assert_ok(client.post("/v1/leads", json=body, headers=tenant.headers), 201)
    assert (data["score"], len(data["customFields"]), len(data["tags"])) == (100, 50, 20)
    assert (data["phone"], data["phoneE164"]) == ("+1-555-0199", None)
    for query in (
        "limit=1",
        "limit=100",
        "scoreMin=0&scoreMax=100",
        "createdAfter=2026-01-01T00:00:00%2B02:00",
    ):
        assert client.get(f"/v1/leads?{query}", headers=tenant.headers).status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("createdAfter=0001-01-01T00:00:00%2B01:00", "createdAfter"),  # before year 1 in UTC
        ("createdBefore=9999-12-31T23:59:59-05:00", "createdBefore"),  # after 9999 in UTC
    ],
)
def test_instants_outside_the_calendar_are_422(
    client: TestClient, tenant: SeededTenant, query: str, field: str
) -> None:
    assert_error(client.get(f"/v1/leads?{query}", headers=tenant.headers), 422, "validation_error", field)


@pytest.mark.parametrize(
    "moment", ["2026-01-01t00:00:00z", "2026-01-01T00:00:00.123456789Z", "2026-01-01T02:00:00+02:00"]
)
def test_every_rfc3339_form_is_understood(client: TestClient, tenant: SeededTenant, moment: str) -> None:
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    query = moment.replace("+", "%2B")
    found = assert_ok(client.get(f"/v1/leads?createdAfter={query}", headers=tenant.headers))
    assert [item["id"] for item in found] == [lead["id"]]
    assert assert_ok(client.get(f"/v1/leads?createdBefore={query}", headers=tenant.headers)) == []


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_key_expiry_outside_the_calendar_is_422(
    client: TestClient, tenant: SeededTenant, moment: str
) -> None:
    counts = row_counts(tenant.id)
    response = client.post(
        "/v1/api-keys",
        json={"name": "k", "scopes": ["read:leads"], "expiresAt": moment},
        headers=tenant.headers,
    )
    assert_error(response, 422, "validation_error", "expiresAt")
    assert row_counts(tenant.id) == counts


def test_key_expiry_with_an_offset_is_stored_in_utc(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post(
        "/v1/api-keys",
        json={"name": "k", "scopes": ["read:leads"], "expiresAt": "2030-01-01t02:00:00.5+02:00"},
        headers=tenant.headers,
    )
    assert assert_ok(response, 201)["expiresAt"] == "2030-01-01T00:00:00.500Z"
