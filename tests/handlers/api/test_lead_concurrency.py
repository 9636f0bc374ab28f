"""Concurrent writes to leads through a real server: no acknowledged write is lost.

Many threads, real sockets, one barrier so the requests really overlap; the same tests run on
SQLite and PostgreSQL (``LEADPIPE_TEST_DATABASE=postgres``), where before row locks 8 of 10
concurrent PATCHes of different fields were lost. Each test asserts the stored outcome
(fields, history chain, audit log, counters), never timings.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import httpx
import pytest

from store.leads import lifecycle as leads
from store.limits import quotas as lead_counts
from store.models import AuditEvent, Lead, LeadEvent
from tests.support import Call, SeededTenant, lead_body, principal, race


def create(base_url: str, tenant: SeededTenant, **fields: Any) -> dict[str, Any]:
    response = httpx.post(f"{base_url}/v1/leads", json=lead_body(**fields), headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def history(base_url: str, tenant: SeededTenant, lead_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        response = httpx.get(f"{base_url}/v1/leads/{lead_id}/history", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        entries += response.json()["data"]
        cursor = response.json()["meta"]["pagination"]["nextCursor"]
        if cursor is None:
            return entries


def assert_chain(entries: list[dict[str, Any]], field: str, first: Any) -> list[Any]:
    """Each change of ``field`` starts from the value the previous one left: no stale ``from``."""
    values = [first]
    for entry in entries:
        if field in entry["changes"]:
            before, after = entry["changes"][field]
            assert before == values[-1], (field, values, entry)
            values.append(after)
    return values


PATCHES: dict[str, Any] = {
    "phone": "+14155550100",
    "company": "Acme",
    "title": "CTO",
    "industry": "Software",
    "message": "Call me",
    "status": "contacted",
    "score": 42,
    "customFields": {"plan": "gold"},
    "tags": ["hot"],
    "firstName": "Janet",
}


def test_concurrent_patches_of_different_fields_all_survive(server: str, tenant: SeededTenant) -> None:
    lead = create(server, tenant)

    def patch(field: str, value: Any) -> Call:
        return lambda http: http.patch(f"/v1/leads/{lead['id']}", json={field: value}, headers=tenant.headers)

    responses = race(server, [patch(field, value) for field, value in PATCHES.items()])

    assert [r.status_code for r in responses] == [200] * len(PATCHES)
    stored = httpx.get(f"{server}/v1/leads/{lead['id']}", headers=tenant.headers).json()["data"]
    assert {field: stored[field] for field in PATCHES} == PATCHES
    assert stored["version"] == 1 + len(PATCHES)
    entries = history(server, tenant, lead["id"])
    assert [e["action"] for e in entries] == ["created"] + ["updated"] * len(PATCHES)
    for field, value in PATCHES.items():
        assert assert_chain(entries[1:], field, lead[field]) == [lead[field], value]
    # Each acknowledged reply showed its own change on top of the ones before it.
    assert sorted(r.json()["data"]["version"] for r in responses) == list(range(2, 2 + len(PATCHES)))


def test_concurrent_score_patches_keep_one_consistent_history_chain(
    server: str, tenant: SeededTenant
) -> None:
    lead = create(server, tenant)
    scores = list(range(1, 21))

    def patch(score: int) -> Call:
        return lambda http: http.patch(
            f"/v1/leads/{lead['id']}", json={"score": score}, headers=tenant.headers
        )

    responses = race(server, [patch(score) for score in scores])

    assert [r.status_code for r in responses] == [200] * len(scores)
    entries = history(server, tenant, lead["id"])[1:]
    chain = assert_chain(entries, "score", 0)
    assert len(chain) == len(scores) + 1 and sorted(chain[1:]) == scores
    final = httpx.get(f"{server}/v1/leads/{lead['id']}", headers=tenant.headers).json()["data"]
    assert final["score"] == chain[-1]
    # The audit log holds the same chain as the history: they are written together.
    with_db = AuditEvent.select().where(
        (AuditEvent.tenant_id == tenant.id)
        & (AuditEvent.resource_id == lead["id"])
        & (AuditEvent.action == "lead.updated")
    )
    audited = sorted((event.changes["score"] for event in with_db), key=lambda pair: chain.index(pair[1]))
    assert audited == [[a, b] for a, b in itertools.pairwise(chain)]


@pytest.mark.parametrize("round_", range(6))
def test_a_merge_racing_a_patch_of_its_source_loses_nothing(
    server: str, tenant: SeededTenant, round_: int
) -> None:
    target, source = create(server, tenant), create(server, tenant, company="Old Co")
    marker = f"Patched {uuid.uuid4().hex[:6]}"

    patch, merge = race(
        server,
        [
            lambda http: http.patch(
                f"/v1/leads/{source['id']}", json={"company": marker}, headers=tenant.headers
            ),
            lambda http: http.post(
                f"/v1/leads/{target['id']}/merge", json={"sourceIds": [source["id"]]}, headers=tenant.headers
            ),
        ],
    )

    assert merge.status_code == 200, merge.text
    assert patch.status_code in (200, 404), patch.text
    merged = httpx.get(f"{server}/v1/leads/{target['id']}", headers=tenant.headers).json()["data"]
    if patch.status_code == 200:  # acknowledged, so it happened before the merge and was folded in
        assert merged["company"] == marker
        assert any(
            e["changes"].get("company") == ["Old Co", marker] for e in history(server, tenant, target["id"])
        )
    else:  # the merge came first: the source was gone
        assert merged["company"] == "Old Co"
    assert httpx.get(f"{server}/v1/leads/{source['id']}", headers=tenant.headers).status_code == 404


@pytest.mark.parametrize("round_", range(6))
def test_a_delete_racing_a_patch_leaves_nothing_of_the_lead(
    server: str, tenant: SeededTenant, round_: int
) -> None:
    lead = create(server, tenant)
    secret = f"secret-{uuid.uuid4().hex}"

    patch, delete = race(
        server,
        [
            lambda http: http.patch(
                f"/v1/leads/{lead['id']}", json={"message": secret}, headers=tenant.headers
            ),
            lambda http: http.delete(f"/v1/leads/{lead['id']}", headers=tenant.headers),
        ],
    )

    assert delete.status_code == 200, delete.text
    assert patch.status_code in (200, 404), patch.text
    assert httpx.get(f"{server}/v1/leads/{lead['id']}", headers=tenant.headers).status_code == 404
    assert (
        LeadEvent.select()
        .where((LeadEvent.tenant_id == tenant.id) & (LeadEvent.lead_id == lead["id"]))
        .count()
        == 0
    )
    audit = AuditEvent.select().where(
        (AuditEvent.tenant_id == tenant.id) & (AuditEvent.resource_id == lead["id"])
    )
    trail = [json.dumps(event.changes) for event in audit]
    assert not any(secret in text or lead["email"] in text for text in trail), trail
    assert lead_counts.current(tenant.id, "live") == Lead.select().where(Lead.tenant_id == tenant.id).count()


@pytest.mark.parametrize("round_", range(4))
def test_crosswise_merges_never_deadlock(server: str, tenant: SeededTenant, round_: int) -> None:
    a, b, c = (create(server, tenant) for _ in range(3))

    def merge(target: dict[str, Any], *sources: dict[str, Any]) -> Call:
        body = {"sourceIds": [s["id"] for s in sources]}
        return lambda http: http.post(f"/v1/leads/{target['id']}/merge", json=body, headers=tenant.headers)

    responses = race(server, [merge(a, b, c), merge(b, c, a), merge(c, a, b)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 404, 404], [r.text for r in responses]
    survivors = [
        lead
        for lead in (a, b, c)
        if Lead.get_or_none((Lead.tenant_id == tenant.id) & (Lead.id == lead["id"]))
    ]
    assert len(survivors) == 1
    assert lead_counts.current(tenant.id, "live") == 1


def test_upserts_of_one_new_email_create_it_once(server: str, tenant: SeededTenant) -> None:
    email = f"upsert.{uuid.uuid4().hex[:8]}@example.com"

    def upsert(n: int) -> Call:
        body = lead_body(email=email, score=n)
        return lambda http: http.post("/v1/leads?onDuplicate=update", json=body, headers=tenant.headers)

    responses = race(server, [upsert(n) for n in range(1, 11)])

    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    stored = list(Lead.select().where((Lead.tenant_id == tenant.id) & (Lead.email == email)))
    assert len(stored) == 1
    chain = assert_chain(history(server, tenant, stored[0].id), "score", None)
    assert chain[-1] == stored[0].score and sorted(chain[1:]) == list(range(1, 11))


QUOTA = 1_000


def test_creates_at_the_quota_never_overshoot_it(server: str, new_tenant: Any) -> None:
    free = new_tenant("free")
    caller = principal(free.live_key)
    leads.insert_leads(
        caller,
        [
            leads.new_values(caller, {"email": f"f{i}@example.com", "first_name": "F", "last_name": "Q"})
            for i in range(QUOTA - 5)
        ],
    )

    def api(http: httpx.Client) -> httpx.Response:
        return http.post("/v1/leads", json=lead_body(), headers=free.headers)

    def upsert(http: httpx.Client) -> httpx.Response:
        return http.post("/v1/leads?onDuplicate=update", json=lead_body(), headers=free.headers)

    def json_import(http: httpx.Client) -> httpx.Response:
        return http.post("/v1/leads/import", json=[lead_body()], headers=free.headers)

    site = httpx.post(
        f"{server}/v1/api-keys", json={"name": "site", "type": "publishable"}, headers=free.headers
    ).json()["data"]["key"]

    def capture(http: httpx.Client) -> httpx.Response:
        body = {"email": lead_body()["email"], "name": "Web Visitor"}
        return http.post("/v1/public/leads", json=body, headers={"X-Publishable-Key": site})

    responses = race(server, [api, upsert, json_import, capture] * 8)

    created = sum(
        1
        for r in responses
        if r.status_code == 201 or (r.status_code == 200 and r.json()["data"].get("created") == 1)
    )
    refused = [r for r in responses if r.status_code == 403]
    assert all(r.json()["code"] == "quota_exceeded" for r in refused)
    stored = Lead.select().where((Lead.tenant_id == free.id) & (Lead.environment == "live")).count()
    assert stored == lead_counts.current(free.id, "live") == QUOTA
    assert created == 5
