"""Duplicate detection for a whole set of new leads, inside the transaction that creates them.

Bulk imports create leads by the chunk; one ``dedup`` job per lead cost ~2.5 ms of worker CPU
each (15x the import itself), and left the import's duplicates unknown for minutes after it said
``completed``. `detect_created` does the same work for the chunk's new leads in its own
transaction: the matches for all of them in one query per rule
(`store.duplicates.matching.matches_for_many`), the pairs in one multi-row INSERT, the
``duplicateOf`` pointers in one UPDATE, the ``lead.duplicate_detected`` events in one batch.

The result is exactly what running `detection.detect` for each lead, in creation order, right
after the chunk's INSERTs would leave (``tests/store/duplicates/test_sets.py`` checks that over
random colliding leads): the same pairs with the same reasons, the same ``duplicateOf`` on
every lead, and a ``lead.duplicate_detected`` event for the same leads naming the same
duplicates (a pair between two leads of the set is news to the older one only, whose check runs
first). Where a chunk's lead points at a match, its ``version`` grows by one, as the job's
pointer update makes it.

Concurrency (PostgreSQL): the caller takes `lock_detection` at the start of its transaction
(after the tenant's lead counter, before any lead row: the lock order of `store.limits.quotas`).
It is the lock the batched dedup jobs take (`store.jobs.batches.run_batch`, key
``dedup:<tenant>``), so a job checking a lead changed by a concurrent PATCH either commits
before the chunk's match queries (which then see it) or waits for the chunk's commit (and then
sees the chunk's leads). Creates and other imports hold the same counter row, so they are
ordered with the chunk anyway. SQLite serialises all writers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol, cast

from store import bulk
from store.duplicates import detection, lookups, matching
from store.events import emit as events
from store.jobs import batches
from store.models import Lead, LeadDuplicate, utcnow

# Leads per pointer UPDATE / re-read: well under SQLite's bound-parameter limit.
IDS_PER_STATEMENT = 400


class Created(Protocol):
    """What is read of a new lead: a ``Lead`` or an import's `store.imports.inserts.NewLead`."""

    @property
    def id(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def environment(self) -> str: ...
    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def duplicate_of(self) -> str | None: ...


def lock_detection(tenant_id: str) -> None:
    """Take the tenant's duplicate-detection turn until the transaction ends (PostgreSQL only);
    the same key the batched dedup jobs lock (``<kind>:<tenant>``)."""
    batches.take_turn(detection.KIND, tenant_id)


def _pair(
    tenant_id: str, environment: str, a: str, b: str, reasons: Sequence[str], now: Any
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "lead_id": a,
        "duplicate_id": b,
        "environment": environment,
        "reasons": list(reasons),
        "detected_at": now,
    }


def _point(tenant_id: str, pointers: dict[str, str]) -> None:
    """Set ``duplicate_of`` (and bump ``version``) of new leads, a CASE per statement."""
    ids = sorted(pointers)  # id order, the order merges lock leads in
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        part = ids[start : start + IDS_PER_STATEMENT]
        lookups.point(tenant_id, part, [pointers[lead_id] for lead_id in part])


def _reread(tenant_id: str, ids: list[str]) -> dict[str, Lead]:
    found: dict[str, Lead] = {}
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        found.update(
            {lead.id: lead for lead in lookups.reread(tenant_id, ids[start : start + IDS_PER_STATEMENT])}
        )
    return found


def detect_created(tenant_id: str, environment: str, created: Sequence[Created]) -> None:
    """Detect duplicates of ``created`` (new leads of one tenant and environment, just inserted in
    the caller's transaction, in creation order): pairs, pointers and events, as their jobs would."""
    if not created:
        return
    found = matching.matches_for_many(tenant_id, environment, cast(Sequence[Lead], created))
    position = {lead.id: index for index, lead in enumerate(created)}
    now = utcnow()
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    pointers: dict[str, str] = {}
    news: dict[str, list[dict[str, Any]]] = {}
    newer_partners: set[str] = set()
    for lead in created:
        matches = found.get(lead.id, [])
        key = (lead.created_at, lead.id)
        earlier = [match for match in matches if match.key < key]  # oldest first
        if earlier and earlier[0].id != lead.duplicate_of:
            pointers[lead.id] = earlier[0].id
        new = []
        for match in matches:
            for a, b in ((lead.id, match.id), (match.id, lead.id)):
                pairs.setdefault((a, b), _pair(tenant_id, environment, a, b, match.reasons, now))
            if match.id not in position and match.key > key:
                newer_partners.add(match.id)  # a stored lead created "after" it (clock skew)
            # Already known: the pair an earlier lead of the set stored when it was checked.
            if position.get(match.id, len(created)) >= position[lead.id]:
                new.append({"leadId": match.id, "reasons": list(match.reasons)})
        if new:
            news[lead.id] = new
    bulk.insert_rows(LeadDuplicate, list(pairs.values()))
    _point(tenant_id, pointers)
    detection.refresh_duplicate_of(tenant_id, newer_partners)
    if news:
        current = _reread(tenant_id, list(news))  # as committed now: pointer and version
        events.emit_many(
            events.LEAD_DUPLICATE,
            [
                (current[lead_id], {"duplicates": duplicates})
                for lead_id, duplicates in news.items()
                if lead_id in current
            ],
        )
