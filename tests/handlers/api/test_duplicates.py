"""Duplicates and merge through the real app, with the real worker running the dedup jobs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from handlers.worker import Worker
from store.jobs import queue as jobs
from store.jobs import upkeep
from store.models import Job, Lead, LeadDuplicate, LeadEvent, LeadTag
from tests.support import SeededTenant, assert_error, lead_body

ROOT = Path(__file__).resolve().parents[3]


def create(
    client: TestClient, tenant: SeededTenant, headers: dict[str, str] | None = None, **fields: Any
) -> Any:
    response = client.post("/v1/leads", json=lead_body(**fields), headers=headers or tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def drain(tenant: SeededTenant) -> int:
    return Worker().run_until_idle(tenant_id=tenant.id)


def get(client: TestClient, tenant: SeededTenant, lead_id: str) -> Any:
    response = client.get(f"/v1/leads/{lead_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def duplicates_of(client: TestClient, tenant: SeededTenant, lead_id: str) -> dict[str, list[str]]:
    response = client.get(f"/v1/leads/{lead_id}/duplicates", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {item["lead"]["id"]: item["reasons"] for item in response.json()["data"]}


def test_creation_enqueues_a_dedup_job_in_the_same_transaction(
    client: TestClient, tenant: SeededTenant
) -> None:
    lead = create(client, tenant)
    assert lead["duplicateOf"] is None
    [job] = Job.select().where((Job.tenant_id == tenant.id) & (Job.kind == "dedup"))
    assert (job.state, job.payload) == (jobs.QUEUED, {"leadId": lead["id"]})


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ({"email": "Jane.Doe@Example.com"}, {"email": "  jane.doe+news@example.COM "}, "email"),
        ({"email": "jane.doe@gmail.com"}, {"email": "JaneDoe+x@googlemail.com"}, "email"),
        ({"phone": "+44 20 7946 0958"}, {"phone": "+442079460958"}, "phone"),
        (
            {"firstName": "Ann", "lastName": "Lee", "company": "Acme, Inc."},
            {"firstName": "ANN", "lastName": "lee", "company": "acme"},
            "name_company",
        ),
    ],
)
def test_duplicates_are_found_by_each_reason(
    client: TestClient, tenant: SeededTenant, first: dict[str, Any], second: dict[str, Any], reason: str
) -> None:
    original = create(client, tenant, **first)
    copy = create(client, tenant, **second)
    create(client, tenant)  # an unrelated lead stays unrelated
    assert drain(tenant) == 3

    assert duplicates_of(client, tenant, copy["id"]) == {original["id"]: [reason]}
    assert duplicates_of(client, tenant, original["id"]) == {copy["id"]: [reason]}
    assert get(client, tenant, copy["id"])["duplicateOf"] == original["id"]
    assert get(client, tenant, original["id"])["duplicateOf"] is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"email": "jane.doe@example.com"}, {"email": "janedoe@example.com"}),  # dots matter off gmail
        ({"firstName": "Ann", "lastName": "Lee", "company": "Acme"}, {"firstName": "Ann", "lastName": "Lee"}),
        (
            {"firstName": "Ann", "lastName": "Lee", "company": "Acme"},
            {"firstName": "Ann", "lastName": "Lee", "company": "Umbrella"},
        ),
    ],
)
def test_near_misses_are_not_duplicates(
    client: TestClient, tenant: SeededTenant, first: dict[str, Any], second: dict[str, Any]
) -> None:
    create(client, tenant, **first)
    copy = create(client, tenant, **second)
    drain(tenant)
    assert duplicates_of(client, tenant, copy["id"]) == {}


def test_several_reasons_and_the_oldest_match_wins(client: TestClient, tenant: SeededTenant) -> None:
    email = f"sam.{uuid.uuid4().hex[:6]}@example.com"
    oldest = create(client, tenant, email=email)
    middle = create(client, tenant, email=email, phone="+44 20 7946 0958")
    newest = create(client, tenant, email=email.upper(), phone="+442079460958")
    drain(tenant)
    assert duplicates_of(client, tenant, newest["id"]) == {
        oldest["id"]: ["email"],
        middle["id"]: ["email", "phone"],
    }
    assert get(client, tenant, newest["id"])["duplicateOf"] == oldest["id"]
    assert get(client, tenant, middle["id"])["duplicateOf"] == oldest["id"]


def test_duplicates_stay_within_tenant_and_environment(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    email = f"kim.{uuid.uuid4().hex[:6]}@example.com"
    live = create(client, tenant, email=email)
    create(client, tenant, headers=tenant.sandbox_headers, email=email)
    create(client, other_tenant, email=email)
    drain(tenant), drain(other_tenant)
    assert duplicates_of(client, tenant, live["id"]) == {}
    assert_error(
        client.get(f"/v1/leads/{live['id']}/duplicates", headers=other_tenant.headers), 404, "not_found"
    )


def test_a_restart_between_create_and_dedup_loses_no_job(
    client: TestClient, tenant: SeededTenant, database_url: str
) -> None:
    """The lead is created by this process; a separate, freshly started worker process runs its job."""
    original = create(client, tenant, email="restart@example.com")
    copy = create(client, tenant, email="Restart@Example.com")
    env = {**os.environ, "LEADPIPE_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "handlers.cli", "worker", "--once", "--tenant", tenant.id],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert upkeep.pending_count(tenant.id) == 0
    assert get(client, tenant, copy["id"])["duplicateOf"] == original["id"]


def test_merge_folds_sources_into_the_target(client: TestClient, tenant: SeededTenant) -> None:
    target = create(
        client, tenant, company="Acme", score=20, tags=["vip"], customFields={"plan": "pro", "seats": 5}
    )
    first = create(
        client, tenant, company="Other Co", title="CTO", phone="+44 20 7946 0958", score=70,
        tags=["webinar", "vip"], customFields={"plan": "free", "region": "EU"},
    )  # fmt: skip
    second = create(client, tenant, title="CEO", industry="finance", tags=["import"], status="qualified")
    response = client.post(
        f"/v1/leads/{target['id']}/merge",
        json={"sourceIds": [first["id"], second["id"]]},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    merged = response.json()["data"]
    assert merged["id"] == target["id"]
    assert (merged["company"], merged["title"], merged["industry"]) == ("Acme", "CTO", "finance")
    assert (merged["phone"], merged["phoneE164"]) == ("+44 20 7946 0958", "+442079460958")
    assert (merged["score"], merged["status"], merged["email"]) == (70, "new", target["email"])
    assert merged["customFields"] == {"plan": "pro", "seats": 5, "region": "EU"}
    assert merged["tags"] == ["vip", "webinar", "import"]

    for source in (first, second):
        assert_error(client.get(f"/v1/leads/{source['id']}", headers=tenant.headers), 404, "not_found")
        assert not Lead.select().where((Lead.tenant_id == tenant.id) & (Lead.id == source["id"])).exists()
    tags = {
        row.tag
        for row in LeadTag.select().where(
            (LeadTag.tenant_id == tenant.id) & (LeadTag.lead_id == target["id"])
        )
    }
    assert tags == {"vip", "webinar", "import"}

    history = client.get(f"/v1/leads/{target['id']}/history?limit=100", headers=tenant.headers).json()["data"]
    actions = [event["action"] for event in history]
    assert actions.count("created") == 3 and actions[-1] == "merged"
    assert history[-1]["changes"]["mergedLeadIds"] == [[], [first["id"], second["id"]]]
    assert history[-1]["changes"]["title"] == [None, "CTO"]


def test_merge_clears_the_sources_duplicate_pairs(client: TestClient, tenant: SeededTenant) -> None:
    email = f"lee.{uuid.uuid4().hex[:6]}@example.com"
    target = create(client, tenant, email=email)
    source = create(client, tenant, email=email)
    drain(tenant)
    assert duplicates_of(client, tenant, target["id"]) == {source["id"]: ["email"]}
    response = client.post(
        f"/v1/leads/{target['id']}/merge", json={"sourceIds": [source["id"]]}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert duplicates_of(client, tenant, target["id"]) == {}
    assert (
        not LeadDuplicate.select()
        .where((LeadDuplicate.tenant_id == tenant.id) & (LeadDuplicate.duplicate_id == source["id"]))
        .exists()
    )
    drain(tenant)  # the re-check the merge enqueued finds nothing left
    assert get(client, tenant, target["id"])["duplicateOf"] is None


def test_merge_refuses_bad_sources(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    target = create(client, tenant)
    foreign = create(client, other_tenant)
    url = f"/v1/leads/{target['id']}/merge"
    assert_error(
        client.post(url, json={"sourceIds": [target["id"]]}, headers=tenant.headers),
        422,
        "validation_error",
        "sourceIds",
    )
    assert_error(
        client.post(url, json={"sourceIds": [foreign["id"]]}, headers=tenant.headers), 404, "not_found"
    )
    assert_error(
        client.post(url, json={"sourceIds": []}, headers=tenant.headers), 422, "validation_error", "sourceIds"
    )
    assert get(client, other_tenant, foreign["id"])["id"] == foreign["id"]
    events = LeadEvent.select().where(
        (LeadEvent.tenant_id == tenant.id) & (LeadEvent.lead_id == target["id"])
    )
    assert [event.action for event in events] == ["created"]


def test_on_duplicate_allow_is_the_default(client: TestClient, tenant: SeededTenant) -> None:
    first = create(client, tenant, email="allow@example.com")
    second = create(client, tenant, email="ALLOW@example.com")
    assert first["id"] != second["id"]


def test_on_duplicate_reject_names_the_existing_lead(client: TestClient, tenant: SeededTenant) -> None:
    existing = create(client, tenant, email="reject@example.com")
    response = client.post(
        "/v1/leads?onDuplicate=reject", json=lead_body(email=" Reject+x@Example.com"), headers=tenant.headers
    )
    body = assert_error(response, 409, "conflict", "email")
    assert existing["id"] in body["message"] and existing["id"] in body["errors"][0]["message"]
    assert (
        Lead.select()
        .where((Lead.tenant_id == tenant.id) & (Lead.email_normalized == "reject@example.com"))
        .count()
        == 1
    )
    fresh = client.post("/v1/leads?onDuplicate=reject", json=lead_body(), headers=tenant.headers)
    assert fresh.status_code == 201


def test_on_duplicate_update_updates_the_existing_lead(client: TestClient, tenant: SeededTenant) -> None:
    existing = create(client, tenant, email="update@example.com", title="Engineer")
    response = client.post(
        "/v1/leads?onDuplicate=update",
        json=lead_body(email="update@example.com", title="CTO", score=55),
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["id"], data["title"], data["score"]) == (existing["id"], "CTO", 55)
    stored = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == existing["id"]))
    assert (stored.title, stored.score) == ("CTO", 55)
    assert Lead.select().where(Lead.tenant_id == tenant.id).count() == 1
    new = client.post("/v1/leads?onDuplicate=update", json=lead_body(), headers=tenant.headers)
    assert new.status_code == 201


def test_on_duplicate_rejects_unknown_values(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post("/v1/leads?onDuplicate=merge", json=lead_body(), headers=tenant.headers)
    assert_error(response, 422, "validation_error", "onDuplicate")


def test_duplicates_need_read_scope(client: TestClient, tenant: SeededTenant) -> None:
    lead = create(client, tenant)
    key = client.post(
        "/v1/api-keys",
        json={"name": f"w-{uuid.uuid4().hex[:6]}", "scopes": ["write:leads"]},
        headers=tenant.headers,
    ).json()["data"]["key"]
    response = client.get(f"/v1/leads/{lead['id']}/duplicates", headers={"X-API-Key": key})
    assert_error(response, 403, "insufficient_permissions")


def test_changing_a_matched_field_re_runs_detection(client: TestClient, tenant: SeededTenant) -> None:
    email = f"pat.{uuid.uuid4().hex[:6]}@example.com"
    original = create(client, tenant, email=email)
    other = create(client, tenant)
    drain(tenant)
    assert duplicates_of(client, tenant, other["id"]) == {}

    patch = client.patch(f"/v1/leads/{other['id']}", json={"email": email.upper()}, headers=tenant.headers)
    assert patch.status_code == 200
    drain(tenant)
    assert duplicates_of(client, tenant, other["id"]) == {original["id"]: ["email"]}
    assert get(client, tenant, other["id"])["duplicateOf"] == original["id"]

    client.patch(
        f"/v1/leads/{other['id']}", json={"email": "someone.else@example.com"}, headers=tenant.headers
    )
    client.patch(f"/v1/leads/{other['id']}", json={"score": 5}, headers=tenant.headers)  # no re-check needed
    assert drain(tenant) == 1
    assert duplicates_of(client, tenant, original["id"]) == {}
    assert get(client, tenant, other["id"])["duplicateOf"] is None
