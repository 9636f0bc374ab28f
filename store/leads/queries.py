"""Named queries over leads: the filtered, sorted, keyset-paginated list and the history.

Each sort maps to an index led by (tenant_id, environment, <sort column>, id), so a page deep
in a million-lead walk costs one index range scan, the same as the first page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import Any

import peewee

from store.access.principals import Principal
from store.db import reading
from store.leads.lifecycle import find_lead
from store.models import Lead, LeadEvent, LeadTag
from store.pagination import CursorCodec, Keyset, PageRequest, PageResult, keyset_page

SORT_COLUMNS: dict[str, peewee.Field] = {
    "createdAt": Lead.created_at,
    "updatedAt": Lead.updated_at,
    "score": Lead.score,
    "lastName": Lead.last_name,
}
DEFAULT_SORT = "-createdAt"


@dataclass(frozen=True)
class LeadFilters:
    status: str | None = None
    source: str | None = None
    assigned_to: str | None = None
    tag: str | None = None
    q: str | None = None
    score_min: int | None = None
    score_max: int | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None


FILTER_NAMES = tuple(field.name for field in fields(LeadFilters))


def matching(caller: Principal, filters: LeadFilters) -> peewee.Expression:
    """The WHERE clause of the filtered list; shared by the list and the CSV export."""
    condition = (Lead.tenant_id == caller.tenant_id) & (Lead.environment == caller.environment)
    equal = {"status": Lead.status, "source": Lead.source, "assigned_to": Lead.assigned_to}
    for name, column in equal.items():
        value = getattr(filters, name)
        if value is not None:
            condition &= column == value
    if filters.tag is not None:
        tagged = LeadTag.select(LeadTag.lead_id).where(
            (LeadTag.tenant_id == caller.tenant_id)
            & (LeadTag.environment == caller.environment)
            & (LeadTag.tag == filters.tag)
        )
        condition &= Lead.id.in_(tagged)
    if filters.q:
        # contains() escapes LIKE wildcards and is case-insensitive (ILIKE / SQLite LIKE).
        q = filters.q.strip()
        condition &= (
            Lead.email.contains(q)
            | Lead.first_name.contains(q)
            | Lead.last_name.contains(q)
            | Lead.company.contains(q)
        )
    if filters.score_min is not None:
        condition &= Lead.score >= filters.score_min
    if filters.score_max is not None:
        condition &= Lead.score <= filters.score_max
    if filters.created_after is not None:
        condition &= Lead.created_at >= _naive_utc(filters.created_after)
    if filters.created_before is not None:
        condition &= Lead.created_at < _naive_utc(filters.created_before)
    return condition


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _position(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _restore(sort_key: str, value: Any) -> Any:
    return dt.datetime.fromisoformat(value) if sort_key in ("createdAt", "updatedAt") else value


@reading
def list_leads(
    caller: Principal,
    filters: LeadFilters,
    *,
    sort: str = DEFAULT_SORT,
    limit: int,
    cursor: str | None,
    codec: CursorCodec,
) -> PageResult[Lead]:
    sort_key = sort.lstrip("-")
    return keyset_page(
        Lead.select().where(matching(caller, filters)),
        PageRequest(limit, cursor, codec),
        Keyset(
            SORT_COLUMNS[sort_key], Lead.id, sort.startswith("-"), _position, lambda v: _restore(sort_key, v)
        ),
        "leads",
        {"env": caller.environment, "sort": sort, **asdict(filters)},
    )


@reading
def list_history(
    caller: Principal, lead_id: str, *, limit: int, cursor: str | None, codec: CursorCodec
) -> PageResult[LeadEvent]:
    """Oldest first: a timeline reads forward."""
    lead = find_lead(caller, lead_id)
    query = LeadEvent.select().where((LeadEvent.tenant_id == lead.tenant_id) & (LeadEvent.lead_id == lead.id))
    return keyset_page(
        query,
        PageRequest(limit, cursor, codec),
        Keyset(LeadEvent.occurred_at, LeadEvent.id),
        "lead_history",
        {"lead": lead.id},
    )
