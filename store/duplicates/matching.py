"""The duplicate rules, for one lead (`find_matches`) or a whole set of leads (`matches_for_many`).

Three rules, each recorded as a reason (`store.duplicates.detection` stores the pairs):

- ``email``: the same `lead_rules.normalize_email` key (case and outer whitespace ignored,
  ``+tag`` dropped for every domain, dots dropped for gmail.com / googlemail.com);
- ``phone``: the same E.164 number (only numbers that parse as real ones have one);
- ``name_company``: the same first and last name (case-insensitive, as the database's
  ``LOWER`` folds them) at the same company, where company names compare case-, punctuation-
  and whitespace-insensitively and without a trailing legal form ("Acme, Inc." = "ACME").

`matches_for_many` applies exactly these rules with ONE query per rule for any number of leads
(a batch of dedup jobs, an import chunk) instead of up to three per lead: the per-lead queries
cost more in Peewee building them than in the database running them. Both read the same
indexes: ``(tenant_id, environment, email_normalized)``, ``leads_phone_match`` (phones only) and
``leads_name_match`` (``lower(last_name), lower(first_name)``; the company compares in Python).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from store.duplicates import lookups
from store.duplicates.lookups import EMAIL, NAME_COMPANY, PHONE
from store.models import Lead

REASONS = (EMAIL, PHONE, NAME_COMPANY)
_LEGAL_EN = ("inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "plc", "pty")
_LEGAL_EU = ("gmbh", "ag", "kg", "sa", "sas", "sarl", "bv", "nv", "srl", "spa", "oy", "ab", "as")
LEGAL_FORMS = frozenset(_LEGAL_EN + _LEGAL_EU)
_NON_WORD = re.compile(r"[^\w]+")
# Lead ids per query: well under SQLite's (and PostgreSQL's) bound-parameter limits.
IDS_PER_QUERY = lookups.MAX_VALUES


def normalize_company(company: str | None) -> str | None:
    if not company:
        return None
    words = _NON_WORD.sub(" ", company.casefold()).split()
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(words) or None


@dataclass(frozen=True)
class Match:
    """Another lead that matches: its id, its creation time (with the id, the order that decides
    which lead is the original) and the rules it matches by, sorted."""

    id: str
    created_at: dt.datetime
    reasons: tuple[str, ...]

    @property
    def key(self) -> tuple[dt.datetime, str]:
        return (self.created_at, self.id)


# -- one lead ----------------------------------------------------------------------------------


def _others(lead: Lead) -> peewee.ModelSelect[Lead]:
    return Lead.select(Lead.id, Lead.company, Lead.created_at).where(
        (Lead.tenant_id == lead.tenant_id) & (Lead.environment == lead.environment) & (Lead.id != lead.id)
    )


def match_queries(lead: Lead) -> dict[str, peewee.ModelSelect[Lead]]:
    """The candidate lookups for ``lead``, one per rule that applies, each served by an index of
    the leads table. `bench.plans.explain_dedup` records their plans."""
    queries = {EMAIL: _others(lead).where(Lead.email_normalized == lead.email_normalized)}
    if lead.phone_e164:
        queries[PHONE] = _others(lead).where(Lead.phone_e164 == lead.phone_e164)
    if normalize_company(lead.company):
        queries[NAME_COMPANY] = _others(lead).where(
            (peewee.fn.LOWER(Lead.last_name) == peewee.fn.LOWER(lead.last_name))
            & (peewee.fn.LOWER(Lead.first_name) == peewee.fn.LOWER(lead.first_name))
        )
    return queries


def find_matches(lead: Lead, created: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Other lead id -> the reasons it matches ``lead``; ``created`` (if given) collects each
    match's ``(created_at, id)`` key. The per-lead form of `matches_for_many` (its reference)."""
    found: dict[str, list[str]] = {}
    company = normalize_company(lead.company)
    for reason, query in match_queries(lead).items():
        for row in query:
            if reason != NAME_COMPANY or normalize_company(row.company) == company:
                found.setdefault(row.id, []).append(reason)
                if created is not None:
                    created[row.id] = (row.created_at, row.id)
    return found


# -- many leads at once ------------------------------------------------------------------------


def _keys(tenant_id: str, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Checked lead id -> (email key, E.164 phone, lower last name, lower first name, company)."""
    return {row[0]: row[1:] for row in lookups.keys(tenant_id, ids)}


def _candidates(
    tenant_id: str, environment: str, reason: str, values: list[Any]
) -> Iterator[tuple[Any, ...]]:
    """`candidates_query` for ``values`` (for `NAME_COMPANY`: (last, first) pairs): (key, id,
    company, created_at), the key a pair of names for `NAME_COMPANY`."""
    if reason != NAME_COMPANY:
        return iter(lookups.candidates(tenant_id, environment, reason, values))
    lasts, firsts = sorted({last for last, _ in values}), sorted({first for _, first in values})
    rows = lookups.candidates(tenant_id, environment, reason, lasts, firsts)
    return ((row[:2], *row[2:]) for row in rows)


def _chunk_matches(tenant_id: str, environment: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Checked id -> other id -> (created_at, reasons), for one chunk of stored leads."""
    keys = _keys(tenant_id, ids)
    found: dict[str, dict[str, Any]] = {lead_id: {} for lead_id in keys}
    company_key = {lead_id: normalize_company(key[4]) for lead_id, key in keys.items()}
    by_rule: dict[str, dict[Any, list[str]]] = {EMAIL: {}, PHONE: {}, NAME_COMPANY: {}}
    for lead_id, (email, phone, last, first, _company) in keys.items():
        by_rule[EMAIL].setdefault(email, []).append(lead_id)
        if phone is not None:  # NULL never equals: no phone, no match
            by_rule[PHONE].setdefault(phone, []).append(lead_id)
        if company_key[lead_id] is not None and last is not None and first is not None:
            by_rule[NAME_COMPANY].setdefault((last, first), []).append(lead_id)
    for reason in REASONS:
        wanted = by_rule[reason]
        if not wanted:
            continue
        values = list(wanted)
        for start in range(0, len(values), IDS_PER_QUERY):
            for key, other, other_company, created_at in _candidates(
                tenant_id, environment, reason, values[start : start + IDS_PER_QUERY]
            ):
                for lead_id in wanted.get(key, ()):
                    if other == lead_id:
                        continue
                    if reason == NAME_COMPANY and normalize_company(other_company) != company_key[lead_id]:
                        continue
                    entry = found[lead_id].setdefault(other, (created_at, set()))
                    entry[1].add(reason)
    return found


def _stored(tenant_id: str, environment: str, ids: list[str]) -> list[str]:
    present: list[str] = []
    for start in range(0, len(ids), IDS_PER_QUERY):
        present += [
            row[0] for row in lookups.stored(tenant_id, environment, ids[start : start + IDS_PER_QUERY])
        ]
    return present


def matches_for_many(tenant_id: str, environment: str, leads: Iterable[Lead | str]) -> dict[str, list[Match]]:
    """Lead id -> every other lead of the tenant and environment that matches it (by `REASONS`),
    for many leads with one query per rule (and per `IDS_PER_QUERY` leads).

    ``leads`` (Lead rows or ids) must be stored (committed, or written earlier in the caller's
    transaction): the rules read their stored values, as `find_matches` reads the row it is
    given, so leads of one set match each other too (both directions). Leads of another tenant
    or environment, and ids no longer stored, get no entry; a lead without matches gets ``[]``.
    The result is exactly `find_matches` for each lead (``tests/store/duplicates`` checks
    that over random leads); matches are listed oldest first.

    Call it inside a transaction (or `reading`): it only reads. Used by the batched dedup job
    and by bulk imports, which apply the same rules to whole chunks.
    """
    given = list(leads)
    rows = [lead for lead in given if not isinstance(lead, str)]
    ids = list(
        dict.fromkeys(
            lead.id for lead in rows if (lead.tenant_id, lead.environment) == (tenant_id, environment)
        )
    )
    if len(rows) < len(given):  # plain ids: which of them are stored, and this tenant's
        ids += _stored(tenant_id, environment, [lead for lead in given if isinstance(lead, str)])
    ids = list(dict.fromkeys(ids))
    found: dict[str, dict[str, tuple[dt.datetime, set[str]]]] = {lead_id: {} for lead_id in ids}
    for start in range(0, len(ids), IDS_PER_QUERY):
        found.update(_chunk_matches(tenant_id, environment, ids[start : start + IDS_PER_QUERY]))
    return {
        lead_id: sorted(
            (
                Match(other, created_at, tuple(sorted(reasons)))
                for other, (created_at, reasons) in others.items()
            ),
            key=lambda match: match.key,
        )
        for lead_id, others in found.items()
    }
