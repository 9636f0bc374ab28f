"""Applying import rows: bulk creation, per-row isolation, onDuplicate, the plan's quota."""

from __future__ import annotations

from typing import Any

from store.db import database
from store.imports import rows
from store.leads import lifecycle as leads
from store.leads import schema as lead_schema
from store.models import Job, Lead, LeadDuplicate, LeadEvent
from tests.support import SeededTenant, lead_body, principal


def prepared(*items: dict[str, Any]) -> list[rows.Prepared]:
    return [rows.prepare(item) for item in items]


def count(tenant: SeededTenant) -> int:
    return Lead.select().where(Lead.tenant_id == tenant.id).count()


def test_a_batch_creates_its_good_rows_with_history_and_their_duplicates_found(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    outcomes = rows.apply_batch(
        caller,
        prepared(
            lead_body(email="a@example.com", company="Acme Inc"),
            {"email": "a"},
            lead_body(email="b@example.com", tags=["t"], company="ACME"),
        ),
        "allow",
    )

    assert [o.status for o in outcomes] == ["created", "error", "created"]
    created = [o.lead_id for o in outcomes if o.lead_id]
    stored = list(Lead.select().where(Lead.tenant_id == tenant.id).order_by(Lead.created_at))
    assert [lead.id for lead in stored] == created  # file order is creation order
    assert all(lead.source == "import" for lead in stored)
    assert (
        LeadEvent.select().where((LeadEvent.tenant_id == tenant.id) & LeadEvent.lead_id.in_(created)).count()
        == 2
    )
    # Same name at the same company: found in the batch's own transaction, no job left to run.
    assert Job.select().where((Job.tenant_id == tenant.id) & (Job.kind == "dedup")).count() == 0
    pairs = LeadDuplicate.select().where(LeadDuplicate.tenant_id == tenant.id)
    assert sorted((p.lead_id, p.duplicate_id, tuple(p.reasons)) for p in pairs) == sorted(
        [(created[0], created[1], ("name_company",)), (created[1], created[0], ("name_company",))]
    )
    assert [lead.duplicate_of for lead in stored] == [None, created[0]]
    assert [lead.version for lead in stored] == [1, 2]


def test_rules_beyond_the_schema_fail_only_their_row(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    outcomes = rows.apply_batch(
        caller,
        prepared(
            lead_body(assignedTo="nobody0000000000"),
            lead_body(assignedTo=tenant.owner_id),
            lead_body(firstName="  "),
        ),
        "allow",
    )

    assert [o.status for o in outcomes] == ["error", "created", "error"]
    assert outcomes[0].errors[0].field == "assigned_to"
    # Blank names are refused by the schema itself (its not-blank pattern), which names fields
    # as they were sent; the store's own rule stays as a second line of defence.
    assert outcomes[2].errors[0].field == "firstName"
    assert count(tenant) == 1


def test_update_mode_meets_earlier_rows_of_the_same_batch(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    outcomes = rows.apply_batch(
        caller,
        prepared(
            lead_body(email="x@example.com", score=1),
            lead_body(email="X@Example.com", score=2),
            lead_body(email="x+news@example.com", score=3),  # +tag: the same mailbox
        ),
        "update",
    )

    assert [o.status for o in outcomes] == ["created", "updated", "updated"]
    assert len({o.lead_id for o in outcomes}) == 1
    [lead] = Lead.select().where(Lead.tenant_id == tenant.id)
    assert lead.score == 3


def test_the_quota_lets_in_what_fits_and_fails_the_rest(new_tenant: Any) -> None:
    tenant = new_tenant("free")  # 1,000 leads per environment
    caller = principal(tenant.live_key)
    with database.connection_context(), database.atomic():
        fillers = [leads.new_values(caller, lead_schema.to_fields(lead_body())) for _ in range(998)]
        leads.insert_leads(caller, fillers)

    outcomes = rows.apply_batch(caller, prepared(*(lead_body() for _ in range(4))), "allow")

    assert [o.status for o in outcomes] == ["created", "created", "error", "error"]
    assert "plan allows" in outcomes[2].errors[0].message
    assert count(tenant) == 1000


def test_json_import_commits_in_batches(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    items = [lead_body(email=f"n{i}@example.com") for i in range(rows.BATCH_ROWS * 2 + 3)]
    outcomes = rows.import_items(caller, items, "update")
    assert all(o.status == "created" for o in outcomes)
    assert count(tenant) == len(items)


def test_rows_with_different_optional_fields_keep_them_all(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    outcomes = rows.apply_batch(
        caller,
        prepared(
            lead_body(email="p@example.com"),
            lead_body(email="q@example.com", phone="+44 20 7946 0958", company="Q Ltd", tags=["q"]),
            lead_body(email="r@example.com", title="CTO", customFields={"r": 1}),
        ),
        "allow",
    )
    stored = {lead.email: lead for lead in Lead.select().where(Lead.tenant_id == tenant.id)}
    assert [o.status for o in outcomes] == ["created"] * 3
    q, r = stored["q@example.com"], stored["r@example.com"]
    assert (q.phone, q.phone_e164, q.company, q.tags) == ("+44 20 7946 0958", "+442079460958", "Q Ltd", ["q"])
    assert (r.title, r.custom_fields, r.phone) == ("CTO", {"r": 1}, None)
