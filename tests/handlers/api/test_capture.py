"""Public website capture through the real app: keys, forms, spam controls, CORS."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import AuditEvent, Job, Lead, LeadEvent
from tests.support import SeededTenant, assert_error

SITE = "https://www.acme.example"
_ips = itertools.count(1)


@pytest.fixture
def web(app: Any) -> Iterator[TestClient]:
    """A client with its own IP address, so per-IP capture limits never leak between tests."""
    n = next(_ips)
    with TestClient(
        app, raise_server_exceptions=False, client=(f"10.9.{n // 250}.{n % 250 + 1}", 40000)
    ) as client:
        yield client


def publishable(
    client: TestClient, tenant: SeededTenant, origins: list[str] | None = None, **extra: Any
) -> str:
    body: dict[str, Any] = {"name": f"site-{uuid.uuid4().hex[:8]}", "type": "publishable", **extra}
    if origins is not None:
        body["allowedOrigins"] = origins
    response = client.post("/v1/api-keys", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["key"])


def form(**fields: Any) -> dict[str, Any]:
    return {"email": f"visitor.{uuid.uuid4().hex[:8]}@example.com", "name": "Jane Q Doe", **fields}


def stored(tenant: SeededTenant, lead_id: str) -> Lead:
    return Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead_id))


def test_json_capture_with_the_header_key(client: TestClient, web: TestClient, tenant: SeededTenant) -> None:
    key = publishable(client, tenant)
    body = form(company="Acme", message="Call me", phone="+44 20 7946 0958", title="CTO")
    response = web.post("/v1/public/leads", json=body, headers={"X-Publishable-Key": key})
    assert response.status_code == 201, response.text
    envelope = response.json()
    assert envelope["success"] is True and envelope["data"]["status"] == "new"
    lead = stored(tenant, envelope["data"]["id"])
    assert (lead.first_name, lead.last_name, lead.company, lead.message) == (
        "Jane",
        "Q Doe",
        "Acme",
        "Call me",
    )
    assert (lead.source, lead.status, lead.score, lead.assigned_to, lead.environment) == (
        "web",
        "new",
        0,
        None,
        "live",
    )
    assert lead.phone_e164 == "+442079460958"
    # Like every creation: history and a dedup job, in the same transaction.
    assert (
        LeadEvent.select().where((LeadEvent.tenant_id == tenant.id) & (LeadEvent.lead_id == lead.id)).count()
        == 1
    )
    assert Job.select().where((Job.tenant_id == tenant.id) & (Job.payload["leadId"] == lead.id)).count() == 1


def test_an_html_form_post_with_the_key_field(
    client: TestClient, web: TestClient, tenant: SeededTenant
) -> None:
    key = publishable(client, tenant, [SITE])
    fields = form(key=key, company="", phone="", honeypot="", firstName="", source="referral")
    response = web.post("/v1/public/leads", data=fields, headers={"Origin": SITE})
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == SITE
    lead = stored(tenant, response.json()["data"]["id"])
    assert (lead.first_name, lead.company, lead.phone, lead.source) == ("Jane", None, None, "referral")


def test_a_form_with_redirect_answers_303(client: TestClient, web: TestClient, tenant: SeededTenant) -> None:
    key = publishable(client, tenant, [SITE])
    thanks = f"{SITE}/thanks?from=contact"
    response = web.post(
        f"/v1/public/leads?key={key}",
        data=form(redirect=thanks),
        headers={"Origin": SITE},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == thanks
    assert stored(tenant, response.json()["data"]["id"]).tenant_id == tenant.id

    elsewhere = web.post(f"/v1/public/leads?key={key}", data=form(redirect="https://evil.example/x"))
    assert_error(elsewhere, 422, "validation_error", "redirect")


def test_invalid_form_fields_get_the_422_envelope(
    client: TestClient, web: TestClient, tenant: SeededTenant
) -> None:
    key = publishable(client, tenant)
    response = web.post("/v1/public/leads", data={"key": key, "email": "nope", "score": "99", "name": "A B"})
    assert_error(response, 422, "validation_error", "email", "score")
    missing = web.post("/v1/public/leads", data={"key": key, "email": "a@example.com"})
    assert_error(missing, 422, "validation_error", "firstName", "lastName")


@pytest.mark.parametrize("field", ["status", "score", "assignedTo", "tags", "customFields", "id"])
def test_the_public_cannot_set_server_side_fields(
    client: TestClient, web: TestClient, tenant: SeededTenant, field: str
) -> None:
    key = publishable(client, tenant)
    response = web.post("/v1/public/leads", json=form(**{field: "x"}), headers={"X-Publishable-Key": key})
    assert_error(response, 422, "validation_error", field)


def test_a_filled_honeypot_looks_accepted_but_stores_nothing(
    client: TestClient, web: TestClient, tenant: SeededTenant
) -> None:
    key = publishable(client, tenant)
    before = Lead.select().where(Lead.tenant_id == tenant.id).count()
    response = web.post("/v1/public/leads", data=form(key=key, honeypot="http://spam.example"))
    assert response.status_code == 201
    assert response.json()["data"]["status"] == "new"
    assert Lead.select().where(Lead.tenant_id == tenant.id).count() == before
    assert (
        not Lead.select()
        .where((Lead.tenant_id == tenant.id) & (Lead.id == response.json()["data"]["id"]))
        .exists()
    )
    blocked = client.get("/v1/audit-events?action=capture.spam_blocked", headers=tenant.headers)
    assert blocked.status_code == 200 and len(blocked.json()["data"]) == 1
    assert (
        AuditEvent.select()
        .where((AuditEvent.tenant_id == tenant.id) & (AuditEvent.action == "capture.spam_blocked"))
        .count()
        == 1
    )


def test_identical_submissions_collapse_into_the_first_lead(
    client: TestClient, web: TestClient, tenant: SeededTenant
) -> None:
    key = publishable(client, tenant)
    body = form(message="hello")
    first = web.post("/v1/public/leads", json=body, headers={"X-Publishable-Key": key})
    again = web.post("/v1/public/leads", json=body, headers={"X-Publishable-Key": key})
    other = web.post(
        "/v1/public/leads", json={**body, "message": "hello again"}, headers={"X-Publishable-Key": key}
    )
    assert first.status_code == again.status_code == other.status_code == 201
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert other.json()["data"]["id"] != first.json()["data"]["id"]
    assert Lead.select().where((Lead.tenant_id == tenant.id) & (Lead.email == body["email"])).count() == 2


def test_a_secret_key_is_refused(web: TestClient, tenant: SeededTenant) -> None:
    response = web.post("/v1/public/leads", json=form(), headers={"X-Publishable-Key": tenant.live_key})
    assert_error(response, 403, "insufficient_permissions")
    as_field = web.post("/v1/public/leads", data=form(key=tenant.live_key))
    assert_error(as_field, 403, "insufficient_permissions")


def test_missing_or_bad_keys(web: TestClient) -> None:
    assert_error(web.post("/v1/public/leads", json=form()), 401, "auth_required")
    bad = "lp_live_pk_" + "x" * 32
    assert_error(web.post("/v1/public/leads", json=form(key=bad)), 401, "invalid_key")


def test_a_revoked_publishable_key_is_refused(
    client: TestClient, web: TestClient, tenant: SeededTenant
) -> None:
    key = publishable(client, tenant)
    key_id = client.get("/v1/api-keys?limit=100", headers=tenant.headers).json()["data"]
    [record] = [k for k in key_id if key.startswith(k["prefix"]) and k["type"] == "publishable"]
    assert client.delete(f"/v1/api-keys/{record['id']}", headers=tenant.headers).status_code == 200
    assert_error(web.post("/v1/public/leads", json=form(key=key)), 401, "invalid_key")


def test_a_publishable_key_is_refused_elsewhere(client: TestClient, tenant: SeededTenant) -> None:
    key = publishable(client, tenant)
    for method, path in (("get", "/v1/leads"), ("post", "/v1/leads"), ("get", "/v1/tenant")):
        response = client.request(
            method, path, json=form() if method == "post" else None, headers={"X-API-Key": key}
        )
        assert_error(response, 403, "insufficient_permissions")


def test_origins_outside_the_key_list_are_refused(
    client: TestClient, web: TestClient, tenant: SeededTenant
) -> None:
    key = publishable(client, tenant, [SITE])
    response = web.post("/v1/public/leads", json=form(key=key), headers={"Origin": "https://evil.example"})
    assert_error(response, 403, "insufficient_permissions")
    no_list = publishable(client, tenant)
    refused = web.post("/v1/public/leads", json=form(key=no_list), headers={"Origin": SITE})
    assert_error(refused, 403, "insufficient_permissions")


def test_cors_preflight_for_an_allowed_origin(
    client: TestClient, web: TestClient, tenant: SeededTenant
) -> None:
    key = publishable(client, tenant, [SITE, "http://localhost:3000"])
    response = web.options(
        f"/v1/public/leads?key={key}",
        headers={"Origin": SITE, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type, x-publishable-key"},
    )  # fmt: skip
    assert response.status_code == 204, response.text
    assert response.headers["access-control-allow-origin"] == SITE
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "X-Publishable-Key" in response.headers["access-control-allow-headers"]


def test_cors_preflight_for_another_origin_is_refused(
    client: TestClient, web: TestClient, tenant: SeededTenant
) -> None:
    key = publishable(client, tenant, [SITE])
    response = web.options(f"/v1/public/leads?key={key}", headers={"Origin": "https://evil.example"})
    assert_error(response, 403, "insufficient_permissions")
    assert "access-control-allow-origin" not in response.headers
    assert_error(web.options("/v1/public/leads", headers={"Origin": SITE}), 401, "auth_required")


def test_allowed_origins_are_normalized_and_only_for_publishable_keys(
    client: TestClient, tenant: SeededTenant
) -> None:
    body = {
        "name": f"s-{uuid.uuid4().hex[:6]}",
        "type": "publishable",
        "allowedOrigins": ["HTTPS://Acme.example:443/"],
    }
    response = client.post("/v1/api-keys", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["allowedOrigins"] == ["https://acme.example"]
    bad = client.post(
        "/v1/api-keys",
        json={**body, "name": "x1", "allowedOrigins": ["https://a.example/path"]},
        headers=tenant.headers,
    )
    assert_error(bad, 422, "validation_error", "allowedOrigins[0]")
    secret = {"name": "x2", "scopes": ["read:leads"], "allowedOrigins": [SITE]}
    assert_error(
        client.post("/v1/api-keys", json=secret, headers=tenant.headers),
        422,
        "validation_error",
        "allowedOrigins",
    )


def test_per_ip_rate_limit(client: TestClient, web: TestClient, tenant: SeededTenant, app: Any) -> None:
    key = publishable(client, tenant)
    statuses = [web.post("/v1/public/leads", json=form(key=key)).status_code for _ in range(8)]
    assert statuses[:5] == [201] * 5
    assert 429 in statuses[5:]
    limited = web.post("/v1/public/leads", json=form(key=key))
    body = assert_error(limited, 429, "rate_limited")
    assert body["retryAfterMs"] > 0


def test_sandbox_publishable_keys_capture_into_sandbox(
    client: TestClient, web: TestClient, tenant: SeededTenant
) -> None:
    key = publishable(client, tenant, environment="sandbox")
    assert key.startswith("lp_sandbox_pk_")
    response = web.post("/v1/public/leads", json=form(key=key))
    assert response.status_code == 201
    assert stored(tenant, response.json()["data"]["id"]).environment == "sandbox"
