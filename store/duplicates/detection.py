"""Duplicate detection: the ``dedup`` job and the stored matches it leaves behind.

Every lead creation (API, capture, import) enqueues a ``dedup`` job in its own transaction
(`enqueue_detection`), and so does a change to a field the rules read (`MATCHED_FIELDS`); the
worker then compares the lead with the others of its tenant and environment by the rules of
`store.duplicates.matching` (email, phone, name + company), each match recorded with its reasons.

A pair is stored in both directions, so either lead lists the other. ``leads.duplicate_of``
names the oldest *earlier* lead that matches: the original has none. The job is idempotent: a
re-run recomputes the lead's pairs from scratch.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Any

import peewee

from store.db import transaction
from store.duplicates import writes
from store.duplicates.matching import (  # the rules; re-exported for the callers of detection
    EMAIL,
    NAME_COMPANY,
    PHONE,
    Match,
    find_matches,
    match_queries,
    normalize_company,
)
from store.events import emit as events
from store.jobs import queue as jobs
from store.jobs import registry
from store.models import Job, Lead, LeadDuplicate, utcnow

KIND = "dedup"
# Lead columns the rules read: changing one (PATCH, onDuplicate=update) re-runs detection.
MATCHED_FIELDS = frozenset({"email", "phone", "first_name", "last_name", "company"})


def enqueue_detection(lead: Lead) -> Job:
    """Call inside the transaction that created ``lead``: the job commits with it."""
    return jobs.enqueue(lead.tenant_id, KIND, {"leadId": lead.id})


def enqueue_detections(tenant_id: str, lead_ids: Iterable[str]) -> None:
    """`enqueue_detection` for many new leads of one tenant at once (bulk imports)."""
    jobs.enqueue_many(tenant_id, KIND, [{"leadId": lead_id} for lead_id in lead_ids])


def refresh_duplicate_of(tenant_id: str, lead_ids: Iterable[str]) -> dict[str, str | None]:
    """Point each lead at its oldest earlier match (or nothing) from the stored pairs; returns
    the leads whose pointer changed, with the new one.

    ``duplicateOf`` is part of what a client sees, so a change bumps the lead's ``version``
    (its ETag). Leads are visited in id order, the order merges lock them in.
    """
    changed: dict[str, str | None] = {}
    for lead_id in sorted(set(lead_ids)):
        lead = Lead.select(Lead.id, Lead.created_at, Lead.duplicate_of).where(
            (Lead.tenant_id == tenant_id) & (Lead.id == lead_id)
        )
        current = lead.first()
        if current is None:
            continue
        oldest = (
            Lead.select(Lead.id)
            .join(
                LeadDuplicate,
                on=(LeadDuplicate.tenant_id == Lead.tenant_id) & (LeadDuplicate.duplicate_id == Lead.id),
            )
            .where(
                (LeadDuplicate.tenant_id == tenant_id)
                & (LeadDuplicate.lead_id == lead_id)
                & (peewee.Tuple(Lead.created_at, Lead.id) < (current.created_at, current.id))
            )
            .order_by(Lead.created_at, Lead.id)
            .first()
        )
        pointed = oldest.id if oldest else None
        if pointed == current.duplicate_of:
            continue
        Lead.update(duplicate_of=pointed, version=Lead.version + 1).where(
            (Lead.tenant_id == tenant_id) & (Lead.id == lead_id)
        ).execute()
        changed[lead_id] = pointed
    return changed


def forget(tenant_id: str, lead_ids: Iterable[str]) -> None:
    """Drop every pair involving these (erased or merged) leads and re-point their partners."""
    ids = list(lead_ids)
    partners = [
        row.duplicate_id
        for row in LeadDuplicate.select(LeadDuplicate.duplicate_id).where(
            (LeadDuplicate.tenant_id == tenant_id) & LeadDuplicate.lead_id.in_(ids)
        )
    ]
    LeadDuplicate.delete().where(
        (LeadDuplicate.tenant_id == tenant_id)
        & (LeadDuplicate.lead_id.in_(ids) | LeadDuplicate.duplicate_id.in_(ids))
    ).execute()
    refresh_duplicate_of(tenant_id, (p for p in partners if p not in ids))


@transaction
def detect(tenant_id: str, lead_id: str) -> dict[str, Any]:
    """Check one lead (a job run alone): its matches, stored pairs and pointer, and the
    ``lead.duplicate_detected`` event for matches not known before. `store.duplicates.batch`
    does the same for a batch of jobs with one query per rule."""
    lead = Lead.select().where((Lead.tenant_id == tenant_id) & (Lead.id == lead_id)).first()
    if lead is None:
        return skipped(lead_id)
    created: dict[str, Any] = {}
    found = find_matches(lead, created)
    ordered = sorted(found, key=lambda other: created[other])  # oldest first, as in a batch
    matches = {other: Match(other, created[other][0], tuple(sorted(found[other]))) for other in ordered}
    stored = LeadDuplicate.select(LeadDuplicate.duplicate_id, LeadDuplicate.reasons).where(
        (LeadDuplicate.tenant_id == tenant_id) & (LeadDuplicate.lead_id == lead_id)
    )
    outcome = record(lead, matches, {row.duplicate_id: tuple(row.reasons) for row in stored})
    if outcome.new:  # only news: a re-run of the job finds the pairs stored and emits nothing
        events.emit(
            events.LEAD_DUPLICATE,
            Lead.get((Lead.tenant_id == tenant_id) & (Lead.id == lead_id)),  # as committed now
            extra={"duplicates": outcome.new},
        )
    return {"leadId": lead_id, "matches": len(matches)}


def skipped(lead_id: str) -> dict[str, Any]:
    return {"leadId": lead_id, "matches": 0, "skipped": "lead no longer exists"}


@dataclass
class Recorded:
    """What `record` wrote: the matches that are news (for the event), every lead whose
    ``duplicate_of`` it changed (each change also bumped that lead's version), and the partners
    whose pointer it left to a later check (``later``)."""

    new: list[dict[str, Any]]
    pointers: dict[str, str | None]
    deferred: list[str] = field(default_factory=list)  # partners left to re-point (``later``)


def record(
    lead: Lead,
    matches: dict[str, Match],
    known: dict[str, tuple[str, ...]],
    later: Container[str] = (),
) -> Recorded:
    """Store ``lead``'s pairs as exactly ``matches`` (``known``: the pairs stored before, partner
    -> reasons), point it at its oldest earlier match, and re-point the partners whose pointer
    can change. ``lead.duplicate_of`` must be its stored pointer (no query to re-read it).

    Only what changed is written: a pair already stored with the same reasons keeps its row (and
    its ``detected_at``: when it was found), so a re-check that finds nothing new writes nothing.
    ``later``: leads whose own check comes later in the same transaction (a batch), which sets
    their pointer from their matches anyway; re-pointing them here is left to the caller
    (`Recorded.deferred`), for the case their check does not happen after all.
    """
    tenant_id, lead_id = lead.tenant_id, lead.id
    gone = [other for other in known if other not in matches]
    if gone:
        LeadDuplicate.delete().where(
            (LeadDuplicate.tenant_id == tenant_id)
            & (
                ((LeadDuplicate.lead_id == lead_id) & LeadDuplicate.duplicate_id.in_(gone))
                | ((LeadDuplicate.duplicate_id == lead_id) & LeadDuplicate.lead_id.in_(gone))
            )
        ).execute()
    changed = [match for match in matches.values() if known.get(match.id) != match.reasons]
    pairs = [
        (a, b, match.reasons) for match in changed for a, b in ((lead_id, match.id), (match.id, lead_id))
    ]
    if pairs:
        writes.store_pairs(tenant_id, lead.environment, pairs, utcnow())
    pointers = {}
    key = (lead.created_at, lead.id)
    earlier = [match.key for match in matches.values() if match.key < key]
    pointed = min(earlier)[1] if earlier else None
    if pointed != lead.duplicate_of and _point(lead, pointed):
        pointers[lead_id] = pointed
    # A partner's pointer is its oldest EARLIER stored match, so it can only change when their
    # pair is new and this lead is older than the partner, or when the pair was dropped:
    # partners older than this lead, or already paired with it, keep theirs and cost no query.
    newer = [m.id for m in matches.values() if m.key > key and m.id not in known]
    deferred = [other for other in newer + gone if other in later]
    pointers.update(refresh_duplicate_of(tenant_id, [other for other in newer + gone if other not in later]))
    new = [{"leadId": m.id, "reasons": list(m.reasons)} for m in matches.values() if m.id not in known]
    return Recorded(new, pointers, deferred)


def _point(lead: Lead, pointed: str | None) -> bool:
    """Set the checked lead's pointer (after `record` stored its pairs, they are exactly its
    matches: no query to find the oldest). Guarded by the stored value, so a lead already
    pointed there is not bumped again; True if it changed."""
    return writes.point(lead.tenant_id, lead.id, pointed)


@registry.job_handler(KIND, batch=True)  # database writes only: the worker runs many per transaction
def run_dedup_job(job: Job) -> dict[str, Any]:
    return detect(job.tenant_id, job.payload["leadId"])


__all__ = ["EMAIL", "NAME_COMPANY", "PHONE", "find_matches", "match_queries", "normalize_company"]
