"""Duplicate detection rules and the dedup job's idempotency, at the store level."""

from __future__ import annotations

from typing import Any

import pytest

from store.duplicates import detection as duplicates
from store.leads import lifecycle as leads
from store.models import Lead, LeadDuplicate
from tests.support import SeededTenant, lead_body, principal


@pytest.mark.parametrize(
    ("company", "key"),
    [
        ("Acme, Inc.", "acme"),
        ("  ACME   Corp ", "acme"),
        ("Acme GmbH & Co. KG", "acme"),
        ("Inc", "inc"),  # a legal form alone is the name
        ("", None),
        (None, None),
    ],
)
def test_company_normalization(company: str | None, key: str | None) -> None:
    assert duplicates.normalize_company(company) == key


def _create(tenant: SeededTenant, **fields: Any) -> Lead:
    body = lead_body(**fields)
    snake = {"email": body["email"], "first_name": body["firstName"], "last_name": body["lastName"]}
    snake.update({k: v for k, v in fields.items() if k not in ("email", "firstName", "lastName")})
    return leads.create_lead(principal(tenant.live_key), snake)


def test_detection_is_idempotent_and_symmetric(tenant: SeededTenant) -> None:
    first = _create(tenant, email="pat@example.com")
    second = _create(tenant, email="PAT@example.com", phone="+44 20 7946 0958")
    for _ in range(2):
        assert duplicates.detect(tenant.id, second.id) == {"leadId": second.id, "matches": 1}
    pairs = {(row.lead_id, row.duplicate_id, tuple(row.reasons)) for row in LeadDuplicate.select().where(
        LeadDuplicate.tenant_id == tenant.id
    )}  # fmt: skip
    assert pairs == {(first.id, second.id, ("email",)), (second.id, first.id, ("email",))}
    assert Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == second.id)).duplicate_of == first.id


def test_detection_of_an_erased_lead_is_a_no_op(tenant: SeededTenant) -> None:
    lead = _create(tenant)
    leads.delete_lead(principal(tenant.live_key), lead.id)
    assert duplicates.detect(tenant.id, lead.id)["matches"] == 0


def test_erasing_a_lead_repoints_its_duplicates(tenant: SeededTenant) -> None:
    original = _create(tenant, email="rob@example.com")
    copy = _create(tenant, email="rob@example.com")
    duplicates.detect(tenant.id, copy.id)
    leads.delete_lead(principal(tenant.live_key), original.id)
    assert Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == copy.id)).duplicate_of is None
    assert not LeadDuplicate.select().where(LeadDuplicate.tenant_id == tenant.id).exists()
