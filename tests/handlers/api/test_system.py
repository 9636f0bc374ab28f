"""Probes, the served spec and UI, and behaviour when the database is gone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import peewee
import pytest
from starlette.testclient import TestClient

from store import db
from tests.support import SeededTenant, assert_error, assert_ok, lead_body, row_counts


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "garbage"}, {"Authorization": "Bearer nonsense"}])
def test_health_needs_no_credential(client: TestClient, headers: dict[str, str]) -> None:
    assert assert_ok(client.get("/v1/health", headers=headers)) == {"status": "ok"}


def test_ready_checks_the_database(client: TestClient) -> None:
    assert assert_ok(client.get("/v1/ready")) == {"status": "ready", "database": "ok"}


def test_spec_is_served_at_a_stable_url(client: TestClient) -> None:
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.0")
    assert {
        "/leads",
        "/leads/{leadId}",
        "/leads/{leadId}/history",
        "/api-keys",
        "/api-keys/{keyId}",
        "/api-keys/{keyId}/rotate",
        "/health",
        "/ready",
    } <= set(spec["paths"])
    assert {"apiKey", "bearer"} <= set(spec["components"]["securitySchemes"])
    assert response.headers["x-request-id"]


def test_swagger_ui_is_served(client: TestClient) -> None:
    response = client.get("/v1/ui/")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert "swagger" in response.text.lower()


@pytest.fixture
def database_gone(app: Any) -> Iterator[None]:
    """Point the app at a server that is not there (port 1), then put the real one back."""
    original = db.database.obj
    db.bind(peewee.PostgresqlDatabase("gone", host="127.0.0.1", port=1, user="nobody", connect_timeout=1))
    try:
        yield
    finally:
        db.bind(original)


def test_ready_is_503_without_a_database(client: TestClient, database_gone: None) -> None:
    assert_error(client.get("/v1/ready"), 503, "service_unavailable")
    assert assert_ok(client.get("/v1/health")) == {"status": "ok"}  # liveness does not depend on it


def test_requests_are_503_without_a_database(client: TestClient, tenant: SeededTenant) -> None:
    counts = row_counts(tenant.id)
    original = db.database.obj
    db.bind(peewee.PostgresqlDatabase("gone", host="127.0.0.1", port=1, user="nobody", connect_timeout=1))
    try:
        for response in (
            client.get("/v1/leads", headers=tenant.headers),
            client.post("/v1/leads", json=lead_body(), headers=tenant.headers),
        ):
            body = assert_error(response, 503, "service_unavailable")
            assert "port 1" not in body["message"] and "nobody" not in response.text
    finally:
        db.bind(original)
    assert row_counts(tenant.id) == counts
    assert assert_ok(client.get("/v1/ready"))["database"] == "ok"
