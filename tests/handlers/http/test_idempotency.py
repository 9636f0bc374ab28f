"""Idempotency-Key through the real app: replay, conflicts, scoping, failures, concurrency."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import ApiKey, IdempotencyRecord, Lead
from tests.support import SeededTenant, assert_error, lead_body


def key() -> str:
    return str(uuid.uuid4())


def leads_of(tenant: SeededTenant) -> int:
    return int(Lead.select().where(Lead.tenant_id == tenant.id).count())


def test_same_key_and_request_replays_the_first_reply(client: TestClient, tenant: SeededTenant) -> None:
    headers, body = {**tenant.headers, "Idempotency-Key": key()}, lead_body()

    first = client.post("/v1/leads", json=body, headers=headers)
    again = client.post("/v1/leads", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert leads_of(tenant) == 1


def test_without_a_key_each_request_runs(client: TestClient, tenant: SeededTenant) -> None:
    body = lead_body()
    client.post("/v1/leads", json=body, headers=tenant.headers)
    client.post("/v1/leads", json=body, headers=tenant.headers)

    assert leads_of(tenant) == 2


def test_same_key_with_another_body_or_path_is_a_conflict(client: TestClient, tenant: SeededTenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": key()}
    lead = client.post("/v1/leads", json=lead_body(), headers=headers).json()["data"]

    other_body = client.post("/v1/leads", json=lead_body(), headers=headers)
    other_path = client.patch(f"/v1/leads/{lead['id']}", json={"score": 5}, headers=headers)
    other_query = client.post("/v1/leads?onDuplicate=reject", json=lead_body(), headers=headers)

    for response in (other_body, other_path, other_query):
        assert_error(response, 409, "idempotency_conflict")
    assert leads_of(tenant) == 1


def test_patch_is_idempotent_too(client: TestClient, tenant: SeededTenant) -> None:
    lead = client.post("/v1/leads", json=lead_body(), headers=tenant.headers).json()["data"]
    headers = {**tenant.headers, "Idempotency-Key": key()}

    first = client.patch(f"/v1/leads/{lead['id']}", json={"score": 40}, headers=headers)
    client.patch(f"/v1/leads/{lead['id']}", json={"score": 70}, headers=tenant.headers)
    replay = client.patch(f"/v1/leads/{lead['id']}", json={"score": 40}, headers=headers)

    assert replay.json() == first.json() and replay.json()["data"]["score"] == 40
    assert Lead.get(Lead.id == lead["id"]).score == 70  # the replay did not write again


def test_validation_failures_are_not_stored(client: TestClient, tenant: SeededTenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": key()}
    body = lead_body()

    failed = client.post("/v1/leads", json={**body, "score": 101}, headers=headers)
    fixed = client.post("/v1/leads", json=body, headers=headers)

    assert_error(failed, 422, "validation_error", "score")
    assert fixed.status_code == 201
    assert "idempotent-replayed" not in fixed.headers


def test_domain_failures_are_not_stored_either(client: TestClient, tenant: SeededTenant) -> None:
    """A 409 rolls the claim back with everything else: the retry runs afresh."""
    headers = {**tenant.headers, "Idempotency-Key": key()}
    name = f"dup-{uuid.uuid4().hex[:6]}"
    client.post("/v1/api-keys", json={"name": name, "scopes": ["read:leads"]}, headers=tenant.headers)

    first = client.post("/v1/api-keys", json={"name": name, "scopes": ["read:leads"]}, headers=headers)
    client.delete(f"/v1/api-keys/{_key_id(tenant, name)}", headers=tenant.headers)
    retry = client.post("/v1/api-keys", json={"name": name, "scopes": ["read:leads"]}, headers=headers)

    assert_error(first, 409, "duplicate_name")
    assert retry.status_code == 201


def _key_id(tenant: SeededTenant, name: str) -> str:
    row = ApiKey.get((ApiKey.tenant_id == tenant.id) & (ApiKey.name == name) & ApiKey.revoked_at.is_null())
    return str(row.id)


@pytest.mark.parametrize(("length", "status"), [(255, 201), (256, 422)])
def test_keys_are_at_most_255_characters(
    client: TestClient, tenant: SeededTenant, length: int, status: int
) -> None:
    response = client.post(
        "/v1/leads", json=lead_body(), headers={**tenant.headers, "Idempotency-Key": "k" * length}
    )

    assert response.status_code == status
    if status == 422:
        body = assert_error(response, 422, "validation_error", "Idempotency-Key")
        assert body["errors"][0]["message"] == "Must be at most 255 characters"


def test_keys_are_scoped_per_tenant_and_environment(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    shared, body = key(), lead_body()

    ids = {
        client.post("/v1/leads", json=body, headers={**headers, "Idempotency-Key": shared}).json()["data"][
            "id"
        ]
        for headers in (tenant.headers, tenant.sandbox_headers, other_tenant.headers)
    }

    assert len(ids) == 3


def test_api_key_creation_replays_the_same_plaintext_which_the_database_never_holds(
    client: TestClient, tenant: SeededTenant
) -> None:
    headers = {**tenant.headers, "Idempotency-Key": key()}
    body = {"name": f"worker-{uuid.uuid4().hex[:6]}", "permissions": ["read:leads"]}

    first = client.post("/v1/api-keys", json=body, headers=headers)
    replay = client.post("/v1/api-keys", json=body, headers=headers)

    assert first.status_code == replay.status_code == 201
    plaintext = first.json()["data"]["key"]
    assert replay.json()["data"]["key"] == plaintext
    assert client.get("/v1/leads", headers={"X-API-Key": plaintext}).status_code == 200
    assert ApiKey.select().where(ApiKey.tenant_id == tenant.id, ApiKey.name == body["name"]).count() == 1
    records = list(IdempotencyRecord.select().where(IdempotencyRecord.tenant_id == tenant.id).dicts())
    assert len(records) == 1
    assert not any(plaintext in str(value) for value in records[0].values())
    assert headers["Idempotency-Key"] not in str(records[0].values())
    random_part = plaintext.rsplit("_", 1)[1]
    assert not any(random_part in str(value) for value in records[0].values())


def test_rotation_is_idempotent(client: TestClient, tenant: SeededTenant) -> None:
    created = client.post(
        "/v1/api-keys",
        json={"name": f"r-{uuid.uuid4().hex[:6]}", "scopes": ["read:leads"]},
        headers=tenant.headers,
    ).json()["data"]
    headers = {**tenant.headers, "Idempotency-Key": key()}

    first = client.post(f"/v1/api-keys/{created['id']}/rotate", headers=headers)
    replay = client.post(f"/v1/api-keys/{created['id']}/rotate", headers=headers)

    assert first.status_code == replay.status_code == 200
    assert replay.json()["data"]["key"] == first.json()["data"]["key"]
    assert client.get("/v1/leads", headers={"X-API-Key": first.json()["data"]["key"]}).status_code == 200


def test_concurrent_requests_with_one_key_create_one_lead(client: TestClient, tenant: SeededTenant) -> None:
    headers, body = {**tenant.headers, "Idempotency-Key": key()}, lead_body()
    start = threading.Barrier(8)
    results: list[Any] = []

    def fire() -> None:
        start.wait()
        response = client.post("/v1/leads", json=body, headers=headers)
        results.append((response.status_code, response.json()))

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert leads_of(tenant) == 1
    created = [payload["data"]["id"] for status, payload in results if status == 201]
    assert len(created) == 8 and len(set(created)) == 1, results


def test_a_retried_merge_replays_instead_of_failing_on_the_vanished_sources(
    client: TestClient, tenant: SeededTenant
) -> None:
    target, source = (
        client.post("/v1/leads", json=lead_body(), headers=tenant.headers).json()["data"] for _ in "ab"
    )
    headers = {**tenant.headers, "Idempotency-Key": key()}
    url, body = f"/v1/leads/{target['id']}/merge", {"sourceIds": [source["id"]]}

    first = client.post(url, json=body, headers=headers)
    replay = client.post(url, json=body, headers=headers)
    unkeyed = client.post(url, json=body, headers=tenant.headers)

    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    assert unkeyed.status_code in (404, 422)  # the source is gone: only the replay is safe
