"""Helpers shared by the store and HTTP tests: principals, envelope checks, row counts."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from store.access.principals import Principal
from store.keys import api_keys
from store.models import ApiKey, Lead, LeadEvent, LeadTag

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def principal(plaintext: str) -> Principal:
    """The principal a key authenticates as, exactly as the HTTP layer gets it."""
    return api_keys.authenticate(plaintext)


def assert_error(response: httpx.Response, status: int, code: str, *fields: str) -> dict[str, Any]:
    """An error envelope with this status and code (and, if given, exactly these fields named)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert (body["status"], body["code"]) == (status, code), body
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.text
    assert set(body["meta"]) >= {"timestamp", "version", "requestId"}
    assert TIMESTAMP.match(body["meta"]["timestamp"])
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    if fields:
        assert {e["field"] for e in body.get("errors", [])} == set(fields), body
    return body


def assert_ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True and body["status"] == status
    assert body["meta"]["version"] == "v1"
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    return body["data"]


def row_counts(tenant_id: str) -> dict[str, int]:
    """Everything a tenant owns, to prove a refused request wrote nothing."""
    return {
        model.__name__: model.select().where(model.tenant_id == tenant_id).count()
        for model in (Lead, LeadEvent, LeadTag, ApiKey)
    }


def make_key(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """Create a key over HTTP; returns ``data`` (with the one-time ``key``)."""
    payload = {"name": f"key-{uuid.uuid4().hex[:8]}", "scopes": ["read:leads"], **body}
    response = client.post("/v1/api-keys", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
