"""Dedup jobs run in batches (one transaction, a savepoint per job) find exactly what the rules
say, however the jobs are split between workers, and a job whose lease was lost leaves nothing."""

from __future__ import annotations

import random
import threading
from typing import Any

from handlers.worker import Worker
from store.duplicates import detection as duplicates
from store.events import emit as events
from store.events.models import Event
from store.jobs import batches
from store.jobs import queue as jobs
from store.leads import lifecycle as leads
from store.models import Job, Lead, LeadDuplicate
from tests.support import SeededTenant, principal

EMAILS = ("pat@example.com", "PAT@example.com", "pat+news@example.com", "sam@example.com", "kim@example.com")
PHONES = (None, None, "+44 20 7946 0958", "+44 20 7946 0959")
NAMES = (("Pat", "Lee"), ("pat", "LEE"), ("Sam", "Ray"), ("Kim", "Ode"))
COMPANIES = (None, "Acme, Inc.", "ACME", "Globex GmbH", "")


def _create_many(tenant: SeededTenant, n: int, seed: int) -> list[Lead]:
    """``n`` leads drawn from small pools, so most share an email, a phone or a name+company."""
    rng = random.Random(seed)
    made = []
    for i in range(n):
        first, last = rng.choice(NAMES)
        fields: dict[str, Any] = {"email": rng.choice(EMAILS), "first_name": first, "last_name": last}
        if (phone := rng.choice(PHONES)) is not None:
            fields["phone"] = phone
        if company := rng.choice(COMPANIES):
            fields["company"] = company
        if i % 7 == 0:
            fields["email"] = f"solo{i}@example.com"  # some leads match by name/phone only, or not at all
        made.append(leads.create_lead(principal(tenant.live_key), fields))
    return made


def _expected(tenant_id: str) -> tuple[set[tuple[str, str, tuple[str, ...]]], dict[str, str | None]]:
    """The rules applied by brute force over every pair: the oracle both paths must agree with."""
    rows = list(Lead.select().where(Lead.tenant_id == tenant_id))
    pairs = set()
    for a in rows:
        for b in rows:
            if a.id == b.id:
                continue
            reasons = []
            if a.email_normalized == b.email_normalized:
                reasons.append(duplicates.EMAIL)
            if a.phone_e164 and a.phone_e164 == b.phone_e164:
                reasons.append(duplicates.PHONE)
            company = duplicates.normalize_company(a.company)
            same_name = (a.first_name.lower(), a.last_name.lower()) == (
                b.first_name.lower(),
                b.last_name.lower(),
            )
            if company and same_name and duplicates.normalize_company(b.company) == company:
                reasons.append(duplicates.NAME_COMPANY)
            if reasons:
                pairs.add((a.id, b.id, tuple(sorted(reasons))))
    by_id = {row.id: row for row in rows}
    pointers: dict[str, str | None] = {}
    for row in rows:
        earlier = [
            (by_id[b].created_at, b)
            for a, b, _ in pairs
            if a == row.id and (by_id[b].created_at, b) < (row.created_at, row.id)
        ]
        pointers[row.id] = min(earlier)[1] if earlier else None
    return pairs, pointers


def _stored(tenant_id: str) -> tuple[set[tuple[str, str, tuple[str, ...]]], dict[str, str | None]]:
    pairs = {
        (row.lead_id, row.duplicate_id, tuple(row.reasons))
        for row in LeadDuplicate.select().where(LeadDuplicate.tenant_id == tenant_id)
    }
    pointers = {row.id: row.duplicate_of for row in Lead.select().where(Lead.tenant_id == tenant_id)}
    return pairs, pointers


def _dedup_jobs(tenant_id: str) -> list[Job]:
    return list(Job.select().where((Job.tenant_id == tenant_id) & (Job.kind == duplicates.KIND)))


def test_fifty_jobs_drained_by_two_batching_workers_match_one_by_one(tenant: SeededTenant) -> None:
    _create_many(tenant, 50, seed=14)
    assert len(_dedup_jobs(tenant.id)) == 50
    claimed: list[int] = []

    def work() -> None:
        claimed.append(Worker().run_until_idle(tenant_id=tenant.id))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(claimed) == 50  # every job claimed once, by one of the two workers
    assert {job.state for job in _dedup_jobs(tenant.id)} == {jobs.DONE}
    assert all(job.attempts == 1 for job in _dedup_jobs(tenant.id))
    batched = _stored(tenant.id)
    expected = _expected(tenant.id)
    assert len(expected[0]) > 50  # the pools make a dense web of duplicates, not a trivial case
    assert batched == expected

    # The same leads checked one job at a time, from nothing: the same pairs and pointers.
    LeadDuplicate.delete().where(LeadDuplicate.tenant_id == tenant.id).execute()
    Lead.update(duplicate_of=None).where(Lead.tenant_id == tenant.id).execute()
    for lead in Lead.select(Lead.id).where(Lead.tenant_id == tenant.id).order_by(Lead.created_at, Lead.id):
        duplicates.detect(tenant.id, lead.id)
    assert _stored(tenant.id) == batched


def test_a_batched_job_whose_lease_was_lost_leaves_nothing(tenant: SeededTenant) -> None:
    first, second, third = _create_many(tenant, 3, seed=1)
    for lead in (first, second, third):  # all three the same person
        Lead.update(email_normalized="same@example.com").where(
            (Lead.tenant_id == tenant.id) & (Lead.id == lead.id)
        ).execute()
    claimed = jobs.claim("worker-a", limit=10, tenant_id=tenant.id)
    assert len(claimed) == 3
    lost = next(job for job in claimed if job.payload["leadId"] == second.id)
    # Its lease ran out and another worker claimed it since: worker-a no longer holds it.
    Job.update(locked_by="worker-b", attempts=Job.attempts + 1).where(
        (Job.tenant_id == tenant.id) & (Job.id == lost.id)
    ).execute()

    errors = batches.run_batch(claimed, duplicates.run_dedup_job)

    assert errors == {}
    states = {job.payload["leadId"]: (job.state, job.locked_by) for job in _dedup_jobs(tenant.id)}
    assert states[second.id] == (jobs.RUNNING, "worker-b")  # untouched: worker-b's to finish
    assert states[first.id][0] == states[third.id][0] == jobs.DONE
    written_by = {row.lead_id for row in LeadDuplicate.select().where(LeadDuplicate.tenant_id == tenant.id)}
    # first's and third's jobs stored their pairs (both directions); second's own run left nothing
    # beyond what those two jobs wrote about it.
    assert written_by == {first.id, second.id, third.id}
    pairs = {
        (r.lead_id, r.duplicate_id)
        for r in LeadDuplicate.select().where(LeadDuplicate.tenant_id == tenant.id)
    }
    assert (second.id, first.id) in pairs and (second.id, third.id) in pairs  # from first/third's jobs
    assert jobs.get_job(tenant.id, lost.id).result is None


def test_a_batched_job_that_raises_is_failed_alone(tenant: SeededTenant) -> None:
    good, bad = _create_many(tenant, 2, seed=2)
    worker = Worker("worker-a")
    claimed = jobs.claim(worker.worker_id, limit=10, tenant_id=tenant.id)
    broken = next(job for job in claimed if job.payload["leadId"] == bad.id)
    broken.payload = {}  # a job without its lead id: the handler raises KeyError

    errors = batches.run_batch(claimed, duplicates.run_dedup_job)
    assert list(errors) == [broken.id] and isinstance(errors[broken.id], KeyError)
    assert jobs.get_job(tenant.id, broken.id).state == jobs.RUNNING  # nothing of it was written
    done = next(job for job in claimed if job.payload["leadId"] == good.id)
    assert jobs.get_job(tenant.id, done.id).state == jobs.DONE

    # Through the worker: the failure is recorded, and the job is queued for its retry.
    worker.run_batch(duplicates.KIND, [broken])
    failed = jobs.get_job(tenant.id, broken.id)
    assert (failed.state, failed.last_error) == (jobs.QUEUED, "KeyError: 'leadId'")


def test_an_enqueue_wakes_an_idle_worker(tenant: SeededTenant) -> None:
    jobs.wait_for_work(0)  # clear an earlier wake-up
    assert jobs.wait_for_work(0) is False
    _create_many(tenant, 1, seed=3)
    assert jobs.wait_for_work(0) is True


def _duplicate_events(tenant_id: str) -> list[tuple[str, str | None, list[tuple[str, tuple[str, ...]]]]]:
    """Each ``lead.duplicate_detected`` event as (lead, its duplicateOf, news), in feed order."""
    rows = Event.select().where((Event.tenant_id == tenant_id) & (Event.type == events.LEAD_DUPLICATE))
    return [
        (
            row.resource_id,
            row.data["object"]["duplicateOf"],
            sorted((news["leadId"], tuple(news["reasons"])) for news in row.data["duplicates"]),
        )
        for row in rows.order_by(Event.created_at, Event.id)
    ]


def test_a_batch_emits_the_events_its_jobs_emit_run_one_by_one(tenant: SeededTenant) -> None:
    """The batch reads its leads, matches and pairs up front and writes the events at its end;
    what it emits (which leads, which news, each lead as committed) is what the same jobs emit
    run one by one in claim order, from the same start."""
    _create_many(tenant, 45, seed=15)
    order = [job.payload["leadId"] for job in sorted(_dedup_jobs(tenant.id), key=lambda j: (j.run_at, j.id))]
    assert Worker().run_until_idle(tenant_id=tenant.id) == 45
    batched, stored = _duplicate_events(tenant.id), _stored(tenant.id)
    assert len(batched) > 5

    LeadDuplicate.delete().where(LeadDuplicate.tenant_id == tenant.id).execute()
    Lead.update(duplicate_of=None).where(Lead.tenant_id == tenant.id).execute()
    Event.delete().where((Event.tenant_id == tenant.id) & (Event.type == events.LEAD_DUPLICATE)).execute()
    for lead_id in order:
        duplicates.detect(tenant.id, lead_id)
    assert _duplicate_events(tenant.id) == batched
    assert _stored(tenant.id) == stored


def test_a_partner_whose_own_job_is_not_kept_is_still_pointed(tenant: SeededTenant) -> None:
    """The older lead's job leaves the newer partner's pointer to the partner's own job later in
    the batch; when that job is not kept (its lease was lost), the batch points it at its end."""
    caller = principal(tenant.live_key)
    older = leads.create_lead(caller, {"email": "ida@example.com", "first_name": "Ida", "last_name": "Ek"})
    newer = leads.create_lead(caller, {"email": "IDA@example.com", "first_name": "Ida", "last_name": "Ek"})
    claimed = jobs.claim("worker-a", limit=10, tenant_id=tenant.id)
    assert [job.payload["leadId"] for job in claimed] == [older.id, newer.id]
    Job.update(locked_by="worker-b").where((Job.tenant_id == tenant.id) & (Job.id == claimed[1].id)).execute()

    assert batches.run_batch(claimed, duplicates.run_dedup_job) == {}

    stored = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == newer.id))
    assert (stored.duplicate_of, stored.version) == (older.id, newer.version + 1)
    assert jobs.get_job(tenant.id, claimed[1].id).state == jobs.RUNNING  # worker-b's, untouched
    assert _stored(tenant.id)[0] == {
        (older.id, newer.id, ("email",)),
        (newer.id, older.id, ("email",)),
    }


def test_a_job_that_raises_in_a_claimed_batch_reruns_it_with_savepoints(tenant: SeededTenant) -> None:
    """`claim_and_run` runs its jobs without a savepoint each; when one raises, the batch rolls
    back to its claim and runs again job by job in savepoints: the others are done with their
    pairs, the one that raised has written nothing and is reported."""
    leads_made = _create_many(tenant, 6, seed=21)
    bad = leads_made[3]
    [broken] = [job for job in _dedup_jobs(tenant.id) if job.payload["leadId"] == bad.id]
    # A job without its lead id: the handler raises KeyError.
    Job.update(payload={}).where((Job.tenant_id == tenant.id) & (Job.id == broken.id)).execute()
    claimed, errors = batches.claim_and_run(
        "worker-a", duplicates.KIND, duplicates.run_dedup_job, limit=10, tenant_id=tenant.id
    )
    assert len(claimed) == 6
    assert list(errors) == [broken.id] and isinstance(errors[broken.id], KeyError)
    broken_id = broken.id
    states = {job.id: job.state for job in _dedup_jobs(tenant.id)}
    assert states.pop(broken_id) == jobs.RUNNING  # its worker records the failure next
    assert set(states.values()) == {jobs.DONE}
    # The others' pairs are what the same jobs store run one by one from the same start.
    batched = _stored(tenant.id)
    LeadDuplicate.delete().where(LeadDuplicate.tenant_id == tenant.id).execute()
    Lead.update(duplicate_of=None).where(Lead.tenant_id == tenant.id).execute()
    for lead in leads_made:
        if lead.id != bad.id:
            duplicates.detect(tenant.id, lead.id)
    assert _stored(tenant.id) == batched
