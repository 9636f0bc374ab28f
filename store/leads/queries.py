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
from store.errors import NotFound
from store.leads.lifecycle import find_lead
from store.models import Lead, LeadEvent, LeadTag
from store.pagination import CursorCodec, Keyset, PageRequest, PageResult, keyset_page
from store.prepared import Prepared, param

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


def _values(caller: Principal, filters: LeadFilters) -> dict[str, Any]:
    """The list's parameters: the caller's tenant and environment and each filter given, as the
    WHERE clause compares them (`_condition`)."""
    values: dict[str, Any] = {"tenant_id": caller.tenant_id, "environment": caller.environment}
    for name in ("status", "source", "assigned_to", "tag", "score_min", "score_max"):
        if getattr(filters, name) is not None:
            values[name] = getattr(filters, name)
    if filters.q:
        values["q"] = filters.q.strip()
    for name in ("created_after", "created_before"):
        moment = getattr(filters, name)
        if moment is not None:
            values[name] = _naive_utc(moment)
    return values


def _condition(values: dict[str, Any]) -> peewee.Expression:
    """The WHERE clause for `_values` (real values, or `store.prepared.param` markers)."""
    condition = (Lead.tenant_id == values["tenant_id"]) & (Lead.environment == values["environment"])
    for name, column in (("status", Lead.status), ("source", Lead.source), ("assigned_to", Lead.assigned_to)):
        if name in values:
            condition &= column == values[name]
    if "tag" in values:
        tagged = LeadTag.select(LeadTag.lead_id).where(
            (LeadTag.tenant_id == values["tenant_id"])
            & (LeadTag.environment == values["environment"])
            & (LeadTag.tag == values["tag"])
        )
        condition &= Lead.id.in_(tagged)
    if "q" in values:
        # contains() escapes LIKE wildcards and is case-insensitive (ILIKE / SQLite LIKE).
        q = values["q"]
        condition &= (
            Lead.email.contains(q)
            | Lead.first_name.contains(q)
            | Lead.last_name.contains(q)
            | Lead.company.contains(q)
        )
    # Bound as given (validated integers): the column's converter would choke on a marker.
    if "score_min" in values:
        condition &= Lead.score >= peewee.Value(values["score_min"], converter=False)
    if "score_max" in values:
        condition &= Lead.score <= peewee.Value(values["score_max"], converter=False)
    if "created_after" in values:
        condition &= Lead.created_at >= values["created_after"]
    if "created_before" in values:
        condition &= Lead.created_at < values["created_before"]
    return condition


def matching(caller: Principal, filters: LeadFilters) -> peewee.Expression:
    """The WHERE clause of the filtered list; shared by the list and the CSV export."""
    return _condition(_values(caller, filters))


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _position(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _keyset(sort: str) -> Keyset:
    sort_key = sort.lstrip("-")
    restore = dt.datetime.fromisoformat if sort_key in ("createdAt", "updatedAt") else _same
    return Keyset(SORT_COLUMNS[sort_key], Lead.id, sort.startswith("-"), _position, restore)


def _same(value: Any) -> Any:
    return value


def _list_query(shape: tuple[tuple[str, ...], str]) -> peewee.ModelSelect[Any]:
    names, sort = shape
    markers = {name: param(name) for name in names}
    after = (markers["after_key"], markers["after_id"]) if "after_key" in markers else None
    return _keyset(sort).ordered(Lead.select().where(_condition(markers)), after, markers["fetch"])


# The list every lead page runs, built once per shape: which filters, the sort, a cursor or not.
LIST_QUERY = Prepared(
    _list_query, (*FILTER_NAMES, "q", "tenant_id", "environment", "after_key", "after_id", "fetch")
)


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
    page, keyset = PageRequest(limit, cursor, codec), _keyset(sort)
    fingerprint = codec.fingerprint("leads", {"env": caller.environment, "sort": sort, **asdict(filters)})
    values = {**_values(caller, filters), "fetch": limit + 1}
    position = keyset.position(page, fingerprint)
    if position is not None:
        values["after_key"], values["after_id"] = position
    rows = LIST_QUERY.rows(Lead, (tuple(sorted(values)), sort), values)
    return keyset.page(rows, page, fingerprint)


def _lead_query(_shape: None) -> peewee.ModelSelect[Any]:
    return Lead.select().where(
        (Lead.tenant_id == param("tenant_id"))
        & (Lead.id == param("id"))
        & (Lead.environment == param("environment"))
    )


# ``GET /v1/leads/{id}``: the same lookup as `store.leads.lifecycle.find_lead`, built once.
LEAD_QUERY = Prepared(_lead_query, ("tenant_id", "id", "environment"))


@reading
def read_lead(caller: Principal, lead_id: str) -> Lead:
    """The caller's lead (its tenant and environment), or `NotFound`."""
    values = {"tenant_id": caller.tenant_id, "id": lead_id, "environment": caller.environment}
    rows = LEAD_QUERY.rows(Lead, None, values)
    if not rows:
        raise NotFound("Lead not found")
    lead: Lead = rows[0]
    return lead


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
