"""ETag / If-Match on leads over HTTP, and erasure that reaches every lead merged into one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import AuditEvent, Lead, LeadEvent
from tests.support import SeededTenant, assert_error, assert_ok, lead_body, race


def created(client: TestClient, tenant: SeededTenant, **fields: Any) -> tuple[dict[str, Any], str]:
    response = client.post("/v1/leads", json=lead_body(**fields), headers=tenant.headers)
    return assert_ok(response, 201), response.headers["etag"]


def test_every_lead_reply_carries_its_etag_and_it_moves_with_each_change(
    client: TestClient, tenant: SeededTenant
) -> None:
    lead, tag = created(client, tenant)
    assert tag == f'"{lead["id"]}.1"' and lead["version"] == 1
    assert client.get(f"/v1/leads/{lead['id']}", headers=tenant.headers).headers["etag"] == tag

    patched = client.patch(f"/v1/leads/{lead['id']}", json={"score": 5}, headers=tenant.headers)
    assert patched.headers["etag"] == f'"{lead["id"]}.2"' == f'"{lead["id"]}.{assert_ok(patched)["version"]}"'
    unchanged = client.patch(f"/v1/leads/{lead['id']}", json={"score": 5}, headers=tenant.headers)
    assert unchanged.headers["etag"] == patched.headers["etag"]  # no change, no new version

    upserted = client.post(
        "/v1/leads?onDuplicate=update",
        json={**lead_body(email=lead["email"]), "score": 9},
        headers=tenant.headers,
    )
    assert upserted.status_code == 200 and upserted.headers["etag"] == f'"{lead["id"]}.3"'
    source, _ = created(client, tenant)
    merged = client.post(
        f"/v1/leads/{lead['id']}/merge", json={"sourceIds": [source["id"]]}, headers=tenant.headers
    )
    assert merged.headers["etag"] == f'"{lead["id"]}.4"'


def test_a_stale_if_match_is_412_and_writes_nothing(client: TestClient, tenant: SeededTenant) -> None:
    lead, stale = created(client, tenant)
    fresh = client.patch(
        f"/v1/leads/{lead['id']}", json={"status": "contacted"}, headers=tenant.headers
    ).headers["etag"]

    refused = client.patch(
        f"/v1/leads/{lead['id']}", json={"status": "qualified"}, headers={**tenant.headers, "If-Match": stale}
    )
    erase = client.delete(f"/v1/leads/{lead['id']}", headers={**tenant.headers, "If-Match": stale})

    assert_error(refused, 412, "precondition_failed")
    assert_error(erase, 412, "precondition_failed")
    stored = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead["id"]))
    assert (stored.status, stored.version) == ("contacted", 2)
    assert (
        LeadEvent.select()
        .where((LeadEvent.tenant_id == tenant.id) & (LeadEvent.lead_id == lead["id"]))
        .count()
        == 2
    )

    accepted = client.patch(
        f"/v1/leads/{lead['id']}", json={"status": "qualified"}, headers={**tenant.headers, "If-Match": fresh}
    )
    assert assert_ok(accepted)["status"] == "qualified"
    gone = client.delete(
        f"/v1/leads/{lead['id']}", headers={**tenant.headers, "If-Match": accepted.headers["etag"]}
    )
    assert assert_ok(gone) == {"id": lead["id"], "deleted": True}


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("*", 200),
        ('"nope", {tag}', 200),
        ('"nope"', 412),
        ("W/{tag}", 412),  # If-Match compares strongly: a weak tag never matches
        ("{bare}", 412),  # not an entity tag at all
        ('"{other}"', 412),  # another lead's tag
    ],
)
def test_if_match_forms(client: TestClient, tenant: SeededTenant, header: str, status: int) -> None:
    lead, tag = created(client, tenant)
    _, other_tag = created(client, tenant)
    value = header.format(tag=tag, bare=tag.strip('"'), other=other_tag.strip('"'))

    response = client.patch(
        f"/v1/leads/{lead['id']}", json={"score": 1}, headers={**tenant.headers, "If-Match": value}
    )

    assert response.status_code == status, response.text
    if status == 412:
        assert_error(response, 412, "precondition_failed")


def test_if_match_on_a_missing_or_foreign_lead_is_404(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    lead, tag = created(client, tenant)
    for headers in ({**other_tenant.headers, "If-Match": tag}, {**other_tenant.headers, "If-Match": "*"}):
        assert_error(
            client.patch(f"/v1/leads/{lead['id']}", json={"score": 1}, headers=headers), 404, "not_found"
        )
        assert_error(client.delete(f"/v1/leads/{lead['id']}", headers=headers), 404, "not_found")


def test_of_many_writers_holding_one_etag_exactly_one_wins(
    server: str, tenant: SeededTenant, client: TestClient
) -> None:
    lead, tag = created(client, tenant)

    def write(n: int) -> Any:
        headers = {**tenant.headers, "If-Match": tag}
        return lambda http: http.patch(f"/v1/leads/{lead['id']}", json={"score": n}, headers=headers)

    responses = race(server, [write(n) for n in range(1, 13)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 11
    winner = next(r for r in responses if r.status_code == 200)
    stored = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead["id"]))
    assert (stored.score, stored.version) == (winner.json()["data"]["score"], 2)


def test_erasing_a_merge_target_erases_every_lead_merged_into_it(
    client: TestClient, tenant: SeededTenant
) -> None:
    target, _ = created(client, tenant)
    source, _ = created(client, tenant, company="Source Co", firstName="Sourcey")
    earlier, _ = created(client, tenant, phone="+14155550123")
    client.patch(f"/v1/leads/{source['id']}", json={"title": "Head of Source"}, headers=tenant.headers)
    # earlier -> source, then source -> target: the target carries both leads' data.
    assert_ok(
        client.post(
            f"/v1/leads/{source['id']}/merge", json={"sourceIds": [earlier["id"]]}, headers=tenant.headers
        )
    )
    assert_ok(
        client.post(
            f"/v1/leads/{target['id']}/merge", json={"sourceIds": [source["id"]]}, headers=tenant.headers
        )
    )

    assert_ok(client.delete(f"/v1/leads/{target['id']}", headers=tenant.headers))

    ids = [target["id"], source["id"], earlier["id"]]
    events = list(
        AuditEvent.select().where((AuditEvent.tenant_id == tenant.id) & AuditEvent.resource_id.in_(ids))
    )
    assert {e.action for e in events} >= {
        "lead.created",
        "lead.updated",
        "lead.merged",
        "lead.merged_into",
        "lead.deleted",
    }
    text = json.dumps([e.changes for e in events])
    for personal in (
        target["email"],
        source["email"],
        earlier["email"],
        "Source Co",
        "Sourcey",
        "+14155550123",
        "Head of Source",
    ):
        assert personal not in text
    for event in events:
        assert all(pair == ["[erased]", "[erased]"] for pair in event.changes.values()), (
            event.action,
            event.changes,
        )
    assert (
        LeadEvent.select().where((LeadEvent.tenant_id == tenant.id) & LeadEvent.lead_id.in_(ids)).count() == 0
    )
    # The trail itself stays: who did what, when.
    assert sum(e.action == "lead.created" for e in events) == 3
