"""API key endpoints through the real app: seed 002's example, one-time secrets, lifecycle."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from store.models import ApiKey, utcnow
from tests.support import SPEC_PATH, SeededTenant, assert_error, assert_ok, make_key, row_counts

SEED_002_PAYLOAD = {
    "name": "Ingestion worker",
    "permissions": ["read:contacts", "write:contacts"],
    "description": "Used by the nightly ingestion job",
}


def test_seed_002_example_works_with_only_host_and_key_changed(
    client: TestClient, tenant: SeededTenant
) -> None:
    # The seed's python example: Bearer auth, explicit Content-Type, its body verbatim.
    response = client.post(
        "/v1/api-keys",
        headers={"Authorization": f"Bearer {tenant.live_key}", "Content-Type": "application/json"},
        content=json.dumps(SEED_002_PAYLOAD),
    )

    data = assert_ok(response, 201)
    assert data["key"].startswith("lp_live_sk_") and data["key"].startswith(data["prefix"])
    assert (data["name"], data["description"]) == ("Ingestion worker", "Used by the nightly ingestion job")
    assert sorted(data["scopes"]) == ["read:leads", "write:leads"]
    assert (data["rateLimitTier"], data["expiresAt"], data["status"], data["type"]) == (
        "standard",
        None,
        "active",
        "secret",
    )
    assert data["createdBy"] == tenant.owner_id
    assert response.headers["x-request-id"]
    # The new key does what its scopes say, and no more.
    new = {"X-API-Key": data["key"]}
    assert client.get("/v1/leads", headers=new).status_code == 200
    assert (
        client.post(
            "/v1/leads", json={"email": "a@example.com", "firstName": "A", "lastName": "B"}, headers=new
        ).status_code
        == 201
    )
    assert_error(client.get("/v1/api-keys", headers=new), 403, "insufficient_permissions")


def test_secret_is_shown_once_and_never_again(client: TestClient, tenant: SeededTenant) -> None:
    created = make_key(client, tenant.headers, name="once")
    key_url = f"/v1/api-keys/{created['id']}"

    shown = assert_ok(client.get(key_url, headers=tenant.headers))
    listing = client.get("/v1/api-keys?limit=100", headers=tenant.headers)

    assert "key" not in shown
    assert {k: v for k, v in created.items() if k != "key"} == shown
    assert all("key" not in item for item in assert_ok(listing))
    for response in (client.get(key_url, headers=tenant.headers), listing):
        assert created["key"] not in response.text
        assert created["key"][len(created["prefix"]) :] not in response.text
    assert created["id"] in {item["id"] for item in listing.json()["data"]}


def test_list_pagination_walks_every_key_once(client: TestClient, tenant: SeededTenant) -> None:
    made = [make_key(client, tenant.headers)["id"] for _ in range(5)]
    seen: list[str] = []
    url = "/v1/api-keys?limit=2"
    while True:
        response = client.get(url, headers=tenant.headers)
        data = assert_ok(response)
        pagination = response.json()["meta"]["pagination"]
        assert pagination["limit"] == 2 and len(data) <= 2
        assert pagination["hasMore"] is (pagination["nextCursor"] is not None)
        seen += [item["id"] for item in data]
        if not pagination["hasMore"]:
            break
        url = f"/v1/api-keys?limit=2&cursor={pagination['nextCursor']}"
    assert len(seen) == len(set(seen)) == 7  # 5 made + the tenant's two owner keys
    assert seen[:5] == made[::-1]


def test_list_cursor_tampered_is_400(client: TestClient, tenant: SeededTenant) -> None:
    for _ in range(2):
        make_key(client, tenant.headers)
    cursor = client.get("/v1/api-keys?limit=1", headers=tenant.headers).json()["meta"]["pagination"][
        "nextCursor"
    ]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert_error(
        client.get(f"/v1/api-keys?cursor={tampered}", headers=tenant.headers), 400, "bad_request", "cursor"
    )


def test_revoke_is_effective_at_once(client: TestClient, tenant: SeededTenant) -> None:
    created = make_key(client, tenant.headers)
    victim = {"X-API-Key": created["key"]}
    assert client.get("/v1/leads", headers=victim).status_code == 200

    revoked = assert_ok(client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.headers))

    assert revoked["status"] == "revoked" and revoked["revokedAt"] is not None
    assert_error(client.get("/v1/leads", headers=victim), 401, "invalid_key")
    assert_error(
        client.get("/v1/leads", headers={"Authorization": f"Bearer {created['key']}"}), 401, "invalid_key"
    )
    again = assert_ok(client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.headers))
    assert again["revokedAt"] == revoked["revokedAt"]
    stored = ApiKey.get((ApiKey.tenant_id == tenant.id) & (ApiKey.id == created["id"]))
    assert stored.revoked_at is not None


def test_rotate_gives_a_new_secret_and_kills_the_old(client: TestClient, tenant: SeededTenant) -> None:
    created = make_key(client, tenant.headers, scopes=["read:leads", "write:leads"])

    rotated = assert_ok(client.post(f"/v1/api-keys/{created['id']}/rotate", headers=tenant.headers))

    assert rotated["id"] == created["id"] and rotated["scopes"] == created["scopes"]
    assert rotated["key"] != created["key"] and rotated["key"].startswith("lp_live_sk_")
    assert_error(client.get("/v1/leads", headers={"X-API-Key": created["key"]}), 401, "invalid_key")
    assert client.get("/v1/leads", headers={"X-API-Key": rotated["key"]}).status_code == 200


def test_revoked_key_cannot_be_rotated(client: TestClient, tenant: SeededTenant) -> None:
    created = make_key(client, tenant.headers)
    client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.headers)
    assert_error(
        client.post(f"/v1/api-keys/{created['id']}/rotate", headers=tenant.headers), 404, "not_found"
    )
    assert_error(client.get("/v1/leads", headers={"X-API-Key": created["key"]}), 401, "invalid_key")


def test_expired_key_is_401(client: TestClient, tenant: SeededTenant) -> None:
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    created = make_key(client, tenant.headers, expiresAt=expires)
    assert created["expiresAt"].startswith(expires[:19])
    assert client.get("/v1/leads", headers={"X-API-Key": created["key"]}).status_code == 200

    ApiKey.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(ApiKey.id == created["id"]).execute()

    assert_error(client.get("/v1/leads", headers={"X-API-Key": created["key"]}), 401, "invalid_key")
    assert (
        assert_ok(client.get(f"/v1/api-keys/{created['id']}", headers=tenant.headers))["status"] == "expired"
    )


def test_expiry_in_the_past_is_422(client: TestClient, tenant: SeededTenant) -> None:
    counts = row_counts(tenant.id)
    response = client.post(
        "/v1/api-keys",
        json={"name": "late", "scopes": ["read:leads"], "expiresAt": "2020-01-01T00:00:00Z"},
        headers=tenant.headers,
    )
    assert_error(response, 422, "validation_error", "expiresAt")
    assert row_counts(tenant.id) == counts


def test_duplicate_name_is_409(client: TestClient, tenant: SeededTenant) -> None:
    make_key(client, tenant.headers, name="worker")
    counts = row_counts(tenant.id)

    response = client.post(
        "/v1/api-keys", json={"name": "worker", "scopes": ["read:leads"]}, headers=tenant.headers
    )

    assert_error(response, 409, "duplicate_name")
    assert row_counts(tenant.id) == counts


def test_revoked_name_can_be_reused(client: TestClient, tenant: SeededTenant) -> None:
    first = make_key(client, tenant.headers, name="worker")
    client.delete(f"/v1/api-keys/{first['id']}", headers=tenant.headers)
    second = make_key(client, tenant.headers, name="worker")
    assert second["id"] != first["id"]


def test_unmetered_needs_enterprise(client: TestClient, tenant: SeededTenant, new_tenant: Any) -> None:
    body = {"name": "fast", "scopes": ["read:leads"], "rateLimitTier": "unmetered"}
    assert_error(
        client.post("/v1/api-keys", json=body, headers=tenant.headers),
        422,
        "validation_error",
        "rateLimitTier",
    )
    enterprise = new_tenant("enterprise")
    assert assert_ok(client.post("/v1/api-keys", json=body, headers=enterprise.headers), 201)[
        "rateLimitTier"
    ] == ("unmetered")


def test_cannot_mint_scopes_the_caller_lacks(client: TestClient, tenant: SeededTenant) -> None:
    admin = make_key(client, tenant.headers, scopes=["admin:api_keys", "read:leads"])
    counts = row_counts(tenant.id)
    response = client.post(
        "/v1/api-keys", json={"name": "up", "scopes": ["write:leads"]}, headers={"X-API-Key": admin["key"]}
    )
    assert_error(response, 403, "insufficient_permissions")
    assert row_counts(tenant.id) == counts


def test_sandbox_key_cannot_mint_live(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post(
        "/v1/api-keys",
        json={"name": "live", "scopes": ["read:leads"], "environment": "live"},
        headers=tenant.sandbox_headers,
    )
    assert_error(response, 403, "insufficient_permissions")
    sandbox = make_key(client, tenant.sandbox_headers)
    assert sandbox["key"].startswith("lp_sandbox_sk_") and sandbox["environment"] == "sandbox"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["read:leads"]}, "name"),
        ({"name": "", "scopes": ["read:leads"]}, "name"),
        ({"name": "   ", "scopes": ["read:leads"]}, "name"),
        ({"name": "x" * 121, "scopes": ["read:leads"]}, "name"),
        ({"name": "x"}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["read:everything"]}, "scopes[0]"),
        ({"name": "x", "scopes": ["read:leads"], "permissions": ["read:leads"]}, "permissions"),
        ({"name": "x", "scopes": ["read:leads"], "rateLimitTier": "turbo"}, "rateLimitTier"),
        ({"name": "x", "scopes": ["read:leads"], "type": "public"}, "type"),
        ({"name": "x", "scopes": ["read:leads"], "expiresAt": "tomorrow"}, "expiresAt"),
        ({"name": "x", "scopes": ["read:leads"], "id": "abc"}, "id"),
        ({"name": "x", "scopes": ["read:leads"], "key": "lp_live_sk_" + "a" * 32}, "key"),
        ({"name": "x", "type": "publishable", "scopes": ["read:leads"]}, "scopes[0]"),
        ({"name": "x", "scopes": ["read:leads"], "allowedOrigins": ["https://a.example"]}, "allowedOrigins"),
        (
            {
                "name": "x",
                "type": "publishable",
                "permissions": ["capture:leads"],
                "scopes": ["capture:leads"],
            },
            "permissions",
        ),
    ],
)
def test_invalid_key_requests_are_422_and_write_nothing(
    client: TestClient, tenant: SeededTenant, body: dict[str, Any], field: str
) -> None:
    counts = row_counts(tenant.id)
    assert_error(
        client.post("/v1/api-keys", json=body, headers=tenant.headers), 422, "validation_error", field
    )
    assert row_counts(tenant.id) == counts


def test_unknown_key_is_404(client: TestClient, tenant: SeededTenant) -> None:
    for response in (
        client.get("/v1/api-keys/NoSuchKey0000000", headers=tenant.headers),
        client.delete("/v1/api-keys/NoSuchKey0000000", headers=tenant.headers),
        client.post("/v1/api-keys/NoSuchKey0000000/rotate", headers=tenant.headers),
    ):
        assert_error(response, 404, "not_found")


def test_publishable_key_is_created_with_capture_only(client: TestClient, tenant: SeededTenant) -> None:
    data = assert_ok(
        client.post("/v1/api-keys", json={"name": "website", "type": "publishable"}, headers=tenant.headers),
        201,
    )
    assert data["key"].startswith("lp_live_pk_")
    assert (data["type"], data["scopes"]) == ("publishable", ["capture:leads"])


def _operations() -> list[tuple[str, str, str]]:
    """Every operation of the spec that needs a credential and is not public capture."""
    spec = yaml.safe_load(SPEC_PATH.read_text())
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            security = operation.get("security", spec.get("security", []))
            if security == [] or any(
                "capture:leads" in scopes for req in security for scopes in req.values()
            ):
                continue
            # Bearer-only operations (logout) meet the key as a Bearer token; the rest as X-API-Key.
            header = "X-API-Key" if any("apiKey" in req for req in security) else "Authorization"
            found.append((method.upper(), "/v1" + path.replace("{", "").replace("}", ""), header))
    return found


@pytest.mark.parametrize(("method", "path", "header"), _operations())
def test_publishable_key_can_do_nothing_else(
    client: TestClient, tenant: SeededTenant, method: str, path: str, header: str
) -> None:
    publishable = make_key(client, tenant.headers, type="publishable", scopes=["capture:leads"])
    counts = row_counts(tenant.id)
    key = publishable["key"] if header == "X-API-Key" else f"Bearer {publishable['key']}"

    response = client.request(
        method,
        path,
        headers={header: key},
        json={} if method in ("POST", "PATCH", "PUT") else None,
    )

    assert_error(response, 403, "insufficient_permissions")
    assert row_counts(tenant.id) == counts
