"""``customFields`` keys are at most 100 characters, on every path that writes them: declared in
the spec (``x-propertyNames``) and enforced by the request validator, and the same rule in the
store for what never passes that validator (import rows, CSV ``customFields.<key>`` columns)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from handlers.worker import Worker
from store.leads.rules import MAX_CUSTOM_FIELD_KEY_LENGTH
from store.models import Lead
from tests.support import SPEC_PATH, SeededTenant, assert_error, assert_ok, lead_body, row_counts

LONG = "k" * (MAX_CUSTOM_FIELD_KEY_LENGTH + 1)
HUGE = "k" * 60_000  # the test app caps bodies at 64 KiB


def test_the_spec_declares_the_store_rule() -> None:
    schemas = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))["components"]["schemas"]
    assert schemas["CustomFields"]["x-propertyNames"] == {"maxLength": MAX_CUSTOM_FIELD_KEY_LENGTH}


@pytest.mark.parametrize("key", [LONG, HUGE])
def test_a_create_with_a_long_key_is_refused(client: TestClient, tenant: SeededTenant, key: str) -> None:
    before = row_counts(tenant.id)
    response = client.post("/v1/leads", json=lead_body(customFields={key: "x"}), headers=tenant.headers)
    body = assert_error(response, 422, "validation_error", "customFields")
    assert key not in response.text and len(response.content) < 2_000  # the key is not echoed
    assert body["errors"][0]["message"] == f"Keys must be at most {MAX_CUSTOM_FIELD_KEY_LENGTH} characters"
    assert row_counts(tenant.id) == before


def test_a_key_of_exactly_the_limit_is_stored(client: TestClient, tenant: SeededTenant) -> None:
    key = "k" * MAX_CUSTOM_FIELD_KEY_LENGTH
    data = assert_ok(
        client.post("/v1/leads", json=lead_body(customFields={key: 1}), headers=tenant.headers), 201
    )
    assert data["customFields"] == {key: 1}


def test_a_patch_with_a_long_key_changes_nothing(client: TestClient, tenant: SeededTenant) -> None:
    lead = assert_ok(
        client.post("/v1/leads", json=lead_body(customFields={"a": 1}), headers=tenant.headers), 201
    )
    response = client.patch(
        f"/v1/leads/{lead['id']}", json={"customFields": {LONG: 1}}, headers=tenant.headers
    )
    assert_error(response, 422, "validation_error", "customFields")
    assert Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead["id"])).custom_fields == {"a": 1}


def test_a_json_import_item_with_a_long_key_is_that_items_error(
    client: TestClient, tenant: SeededTenant
) -> None:
    items: list[Any] = [lead_body(customFields={LONG: 1}), lead_body(email="ok@example.com")]
    data = assert_ok(client.post("/v1/leads/import", json=items, headers=tenant.headers))
    assert [r["status"] for r in data["results"]] == ["error", "created"]
    assert data["results"][0]["errors"][0]["field"] == "customFields"
    assert {lead.email for lead in Lead.select().where(Lead.tenant_id == tenant.id)} == {"ok@example.com"}


def test_a_csv_custom_fields_cell_with_a_long_key_is_that_rows_error(
    client: TestClient, tenant: SeededTenant
) -> None:
    text = (
        "email,firstName,lastName,customFields\n"
        f'a@example.com,Ann,One,"{{""{LONG}"": 1}}"\n'
        'b@example.com,Bob,Two,"{""plan"": 1}"\n'
    )
    response = client.post(
        "/v1/leads/import", content=text.encode(), headers={**tenant.headers, "Content-Type": "text/csv"}
    )
    upload = assert_ok(response, 202)
    Worker().run_until_idle(tenant_id=tenant.id)
    done = assert_ok(client.get(f"/v1/imports/{upload['id']}", headers=tenant.headers))
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(2, "customFields")]
    assert done["counts"]["created"] == 1


def test_a_csv_custom_field_column_with_a_long_key_is_refused_at_upload(
    client: TestClient, tenant: SeededTenant
) -> None:
    text = f"email,firstName,lastName,customFields.{HUGE}\na@example.com,A,B,x\n"
    response = client.post(
        "/v1/leads/import", content=text.encode(), headers={**tenant.headers, "Content-Type": "text/csv"}
    )
    body = assert_error(response, 422, "validation_error")
    assert len(body["errors"]) == 1 and len(response.content) < 2_000
