"""A body sent without ``Content-Type`` is ``415 unsupported_media_type`` on every operation that
takes one, read from the spec, so an operation added later is covered too (it was a 500: the
handler got raw bytes where it expected parsed JSON)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.support import SPEC_PATH, SeededTenant, assert_error, lead_body, row_counts

SPEC = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
BODY_OPERATIONS = [
    (method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if isinstance(operation, dict) and "requestBody" in operation
]


def _concrete(path: str) -> str:
    """Fill path parameters with a well-formed id that names nothing."""
    return "/v1" + re.sub(r"\{[^}]+\}", "A" * 16, path)


def test_the_spec_has_body_operations() -> None:
    assert ("POST", "/leads") in BODY_OPERATIONS and ("PATCH", "/leads/{leadId}") in BODY_OPERATIONS
    assert ("POST", "/public/leads") in BODY_OPERATIONS


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_a_body_without_content_type_is_415(
    client: Any, tenant: SeededTenant, method: str, path: str
) -> None:
    before = row_counts(tenant.id)
    body = json.dumps(lead_body()).encode()
    response = client.request(method, _concrete(path), content=body, headers=tenant.headers)
    assert_error(response, 415, "unsupported_media_type")
    declared = SPEC["paths"][path][method.lower()]["responses"]
    assert "415" in declared, f"{method} {path} must declare its 415"
    assert row_counts(tenant.id) == before


def test_a_lead_patch_without_content_type_changes_nothing(client: Any, tenant: SeededTenant) -> None:
    created = client.post("/v1/leads", json=lead_body(), headers=tenant.headers).json()["data"]
    response = client.patch(
        f"/v1/leads/{created['id']}", content=b'{"status": "qualified"}', headers=tenant.headers
    )
    assert_error(response, 415, "unsupported_media_type")
    stored = client.get(f"/v1/leads/{created['id']}", headers=tenant.headers).json()["data"]
    assert stored["status"] == "new"


def test_no_body_and_no_content_type_still_reports_the_missing_body(
    client: Any, tenant: SeededTenant
) -> None:
    assert_error(client.post("/v1/leads", headers=tenant.headers), 400, "bad_request")


def test_a_declared_content_type_still_works(client: Any, tenant: SeededTenant) -> None:
    response = client.post("/v1/leads", json=lead_body(), headers=tenant.headers)
    assert response.status_code == 201, response.text
