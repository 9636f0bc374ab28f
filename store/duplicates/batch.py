"""A batch of dedup jobs checked together (`store.jobs.batches`): the batch's leads, their
matches and their stored pairs are read with a few queries for the whole batch (one per rule,
`matching.matches_for_many`) instead of five to seven per job, and the kept jobs'
``lead.duplicate_detected`` events are written at the end in one INSERT.

What each job writes, and when, is what `detection.detect` writes for it run alone, in the
order the batch runs them: the state read up front is kept current with what the batch's own
kept jobs wrote (pairs, pointers), so job two sees job one's pairs exactly as if run after it
(a pair found by the first job of the two is no news to the second). A job's writes are in its
savepoint with its ``done``; the events of the kept jobs commit with the batch, like their
``done``. The leads are re-read for the events, so each carries the lead as committed.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

from store.duplicates import detection
from store.duplicates.matching import IDS_PER_QUERY, Match, matches_for_many
from store.events import emit as events
from store.jobs import batches
from store.models import Job, Lead, LeadDuplicate

Key = tuple[str, str]  # (tenant_id, lead_id)


def _leads(tenant_id: str, ids: Sequence[str]) -> list[Lead]:
    found: list[Lead] = []
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = list(ids[start : start + IDS_PER_QUERY])
        found.extend(Lead.select().where((Lead.tenant_id == tenant_id) & Lead.id.in_(chunk)))
    return found


class DedupBatch:
    """`batches.BatchRun` for ``dedup`` jobs."""

    def __init__(self, claimed: Sequence[Job]) -> None:
        by_tenant: dict[str, list[str]] = {}
        for job in claimed:
            lead_id = job.payload.get("leadId")
            if isinstance(lead_id, str):  # a job without one raises in `run`, alone
                by_tenant.setdefault(job.tenant_id, []).append(lead_id)
        self.leads: dict[Key, Lead] = {}
        self.matches: dict[Key, dict[str, Match]] = {}
        self.known: dict[Key, dict[str, tuple[str, ...]]] = {}  # stored pairs: partner -> reasons
        for tenant_id, ids in by_tenant.items():
            ids = list(dict.fromkeys(ids))
            rows = _leads(tenant_id, ids)
            by_env: dict[str, list[Lead]] = {}
            for lead in rows:
                self.leads[(tenant_id, lead.id)] = lead
                self.known[(tenant_id, lead.id)] = {}
                by_env.setdefault(lead.environment, []).append(lead)
            for environment, group in by_env.items():
                for lead_id, found in matches_for_many(tenant_id, environment, group).items():
                    self.matches[(tenant_id, lead_id)] = {match.id: match for match in found}
            for start in range(0, len(ids), IDS_PER_QUERY):
                pairs = LeadDuplicate.select(
                    LeadDuplicate.lead_id, LeadDuplicate.duplicate_id, LeadDuplicate.reasons
                ).where(
                    (LeadDuplicate.tenant_id == tenant_id)
                    & LeadDuplicate.lead_id.in_(ids[start : start + IDS_PER_QUERY])
                )
                for pair in pairs:
                    self.known.setdefault((tenant_id, pair.lead_id), {})[pair.duplicate_id] = tuple(
                        pair.reasons
                    )
        # Job id -> what its run wrote, until it is kept (applied to the state above) or not.
        self._pending: dict[str, tuple[Key, detection.Recorded]] = {}
        self._news: list[tuple[Key, list[dict[str, Any]]]] = []
        # Leads whose job has yet to run in this batch, and partners whose re-pointing a kept job
        # left to their own (later) job: re-pointed in `close` unless that job was kept.
        self._later: collections.Counter[Key] = collections.Counter(
            (job.tenant_id, job.payload["leadId"])
            for job in claimed
            if isinstance(job.payload.get("leadId"), str)
        )
        self._deferred: set[Key] = set()

    def run(self, job: Job) -> dict[str, Any]:
        key = (job.tenant_id, job.payload["leadId"])
        self._later[key] -= 1
        lead = self.leads.get(key)
        if lead is None:
            return detection.skipped(key[1])
        matches = self.matches[key]
        later = {lead_id for (tenant_id, lead_id), n in self._later.items() if n > 0 and tenant_id == key[0]}
        self._pending[job.id] = (key, detection.record(lead, matches, dict(self.known[key]), later))
        return {"leadId": key[1], "matches": len(matches)}

    def kept(self, job: Job) -> None:
        """The job's writes committed with its ``done``: later jobs of the batch see them."""
        pending = self._pending.pop(job.id, None)
        if pending is None:
            return
        (tenant_id, lead_id), recorded = pending
        self._deferred.discard((tenant_id, lead_id))  # its pointer now follows its stored pairs
        self._deferred.update((tenant_id, other) for other in recorded.deferred)
        matches = self.matches[(tenant_id, lead_id)]
        for other in self.known[(tenant_id, lead_id)].keys() - matches.keys():  # pairs it dropped
            self.known.get((tenant_id, other), {}).pop(lead_id, None)
        self.known[(tenant_id, lead_id)] = {other: match.reasons for other, match in matches.items()}
        for other, match in matches.items():
            if (tenant_id, other) in self.known:
                self.known[(tenant_id, other)][lead_id] = match.reasons
        for changed, pointed in recorded.pointers.items():
            if (lead := self.leads.get((tenant_id, changed))) is not None:
                lead.duplicate_of, lead.version = pointed, lead.version + 1
        if recorded.new:
            self._news.append(((tenant_id, lead_id), recorded.new))

    def close(self) -> None:
        """Re-point the partners whose own job was not kept after all, then the kept jobs'
        events, each with its lead as committed now, in one INSERT per tenant and environment."""
        by_tenant_deferred: dict[str, list[str]] = {}
        for tenant_id, lead_id in sorted(self._deferred):
            by_tenant_deferred.setdefault(tenant_id, []).append(lead_id)
        for tenant_id, ids in by_tenant_deferred.items():
            detection.refresh_duplicate_of(tenant_id, ids)
        if not self._news:
            return
        current: dict[Key, Lead] = {}
        by_tenant: dict[str, list[str]] = {}
        for (tenant_id, lead_id), _ in self._news:
            by_tenant.setdefault(tenant_id, []).append(lead_id)
        for tenant_id, ids in by_tenant.items():
            current.update({(tenant_id, lead.id): lead for lead in _leads(tenant_id, ids)})
        groups: dict[tuple[str, str], list[tuple[Lead, dict[str, Any]]]] = {}
        for key, new in self._news:
            if (lead := current.get(key)) is not None:
                groups.setdefault((lead.tenant_id, lead.environment), []).append((lead, {"duplicates": new}))
        for items in groups.values():  # each group in claim order: the feed keeps it
            events.emit_many(events.LEAD_DUPLICATE, items)


batches.batch_start(detection.KIND)(DedupBatch)
