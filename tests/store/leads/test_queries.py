"""The lead list: every filter, search, every sort both ways, and keyset pagination."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from store.access.principals import Principal
from store.errors import BadRequest, NotFound
from store.leads import lifecycle as leads
from store.leads import queries as lead_queries
from store.leads.queries import LeadFilters
from store.models import Lead
from store.pagination import CursorCodec
from tests.support import TEST_SECRET, SeededTenant, principal

CODEC = CursorCodec([TEST_SECRET])
T0 = dt.datetime(2026, 1, 1, 12, 0, 0)


def make(caller: Principal, created_at: dt.datetime | None = None, **values: Any) -> Lead:
    fields: dict[str, Any] = {
        "email": f"lead.{uuid.uuid4().hex[:8]}@example.com",
        "first_name": "Pat",
        "last_name": "Smith",
    }
    fields.update(values)
    lead = leads.create_lead(caller, fields)
    if created_at is not None:
        Lead.update(created_at=created_at, updated_at=created_at).where(
            (Lead.tenant_id == caller.tenant_id) & (Lead.id == lead.id)
        ).execute()
    return lead


def ids(caller: Principal, sort: str = "-createdAt", **filters: Any) -> list[str]:
    page = lead_queries.list_leads(
        caller, LeadFilters(**filters), sort=sort, limit=100, cursor=None, codec=CODEC
    )
    assert page.next_cursor is None
    return [lead.id for lead in page.items]


def walk(caller: Principal, sort: str, limit: int, filters: LeadFilters | None = None) -> list[Lead]:
    seen: list[Lead] = []
    cursor = None
    for _ in range(1000):
        page = lead_queries.list_leads(
            caller, filters or LeadFilters(), sort=sort, limit=limit, cursor=cursor, codec=CODEC
        )
        assert len(page.items) <= limit
        assert page.has_more == (page.next_cursor is not None)
        seen += page.items
        if page.next_cursor is None:
            return seen
        assert len(page.items) == limit
        cursor = page.next_cursor
    raise AssertionError("pagination never ended")


@pytest.fixture
def caller(tenant: SeededTenant) -> Principal:
    return principal(tenant.live_key)


def test_default_sort_is_newest_first(caller: Principal) -> None:
    a = make(caller, T0)
    b = make(caller, T0 + dt.timedelta(minutes=1))
    c = make(caller, T0 + dt.timedelta(minutes=2))
    assert ids(caller) == [c.id, b.id, a.id]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "qualified"}, {"q1"}),
        ({"source": "web"}, {"web"}),
        ({"tag": "vip"}, {"vip", "q1"}),
        ({"score_min": 50}, {"q1", "high"}),
        ({"score_max": 10}, {"base", "web", "vip", "old"}),
        ({"score_min": 50, "score_max": 60}, {"q1"}),
        ({"status": "qualified", "tag": "vip"}, {"q1"}),
        ({"status": "qualified", "tag": "hot"}, set()),
    ],
)
def test_filters(caller: Principal, filters: dict[str, Any], expected: set[str]) -> None:
    made = {
        "base": make(caller),
        "web": make(caller, source="web"),
        "vip": make(caller, tags=["vip"]),
        "q1": make(caller, status="qualified", score=55, tags=["vip", "x"]),
        "high": make(caller, score=90),
        "old": make(caller, T0 - dt.timedelta(days=30)),
    }
    by_id = {lead.id: name for name, lead in made.items()}
    assert {by_id[i] for i in ids(caller, **filters)} == expected


def test_assigned_to_filter(caller: Principal, tenant: SeededTenant) -> None:
    mine = make(caller, assigned_to=tenant.owner_id)
    make(caller)
    assert ids(caller, assigned_to=tenant.owner_id) == [mine.id]
    assert ids(caller, assigned_to="NoSuchUser123456") == []


def test_created_after_is_inclusive_and_created_before_exclusive(caller: Principal) -> None:
    a = make(caller, T0)
    b = make(caller, T0 + dt.timedelta(hours=1))
    c = make(caller, T0 + dt.timedelta(hours=2))
    later = T0 + dt.timedelta(hours=1)
    assert ids(caller, created_after=later) == [c.id, b.id]
    assert ids(caller, created_before=later) == [a.id]
    assert ids(caller, created_after=T0, created_before=T0 + dt.timedelta(hours=2)) == [b.id, a.id]
    aware = (T0 + dt.timedelta(hours=1)).replace(tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert ids(caller, created_after=aware) == [c.id, b.id, a.id]  # 13:00+02:00 is 11:00 UTC


@pytest.mark.parametrize("query", ["ACME", "acme", "AcMe", "cme co"])
def test_q_is_case_insensitive_over_company(caller: Principal, query: str) -> None:
    hit = make(caller, company="Acme Co")
    make(caller, company="Globex")
    assert ids(caller, q=query) == [hit.id]


@pytest.mark.parametrize(
    ("field", "value", "query"),
    [
        ("email", "Zelda.Unique@Example.com", "zelda.unique"),
        ("first_name", "Quincy", "QUINCY"),
        ("last_name", "Van Der Berg", "der berg"),
        ("company", "Initech", "iNiTeCh"),
    ],
)
def test_q_searches_each_field(caller: Principal, field: str, value: str, query: str) -> None:
    values: dict[str, Any] = {field: value}
    hit = make(caller, **values)
    make(caller, title="Zelda Quincy Initech Berg", message="zelda.unique")  # other fields are not searched
    assert ids(caller, q=query) == [hit.id]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("100%", {"percent"}), ("a_b", {"under"}), ("%", {"percent"}), ("_", {"under"}), ("\\", {"backslash"})],
)
def test_q_escapes_like_wildcards(caller: Principal, query: str, expected: set[str]) -> None:
    made = {
        "percent": make(caller, company="100% Cotton"),
        "plain": make(caller, company="1000 Cotton aXb"),
        "under": make(caller, company="a_b Ltd"),
        "backslash": make(caller, company="Back\\slash"),
    }
    by_id = {lead.id: name for name, lead in made.items()}
    assert {by_id[i] for i in ids(caller, q=query)} == expected


SORTS: dict[str, Callable[[Lead], Any]] = {
    "createdAt": lambda lead: lead.created_at,
    "updatedAt": lambda lead: lead.updated_at,
    "score": lambda lead: lead.score,
    "lastName": lambda lead: lead.last_name,
}


@pytest.fixture
def tied(caller: Principal) -> list[Lead]:
    """17 leads with many ties on every sort column."""
    made = []
    for i in range(17):
        made.append(
            make(
                caller,
                T0 + dt.timedelta(minutes=i % 3),
                score=(i % 4) * 10,
                last_name=["Adams", "Baker"][i % 2],
            )
        )
    return [Lead.get((Lead.tenant_id == lead.tenant_id) & (Lead.id == lead.id)) for lead in made]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort_key", list(SORTS))
@pytest.mark.parametrize("limit", [1, 4, 17])
def test_keyset_walk_serves_every_row_once_in_order(
    caller: Principal, tied: list[Lead], sort_key: str, descending: bool, limit: int
) -> None:
    sort = ("-" if descending else "") + sort_key
    seen = walk(caller, sort, limit)

    assert len(seen) == len({lead.id for lead in seen}) == len(tied)
    expected = sorted(tied, key=lambda lead: (SORTS[sort_key](lead), lead.id), reverse=descending)
    assert [lead.id for lead in seen] == [lead.id for lead in expected]


def test_walk_with_filters_keeps_filtering(caller: Principal, tied: list[Lead]) -> None:
    filters = LeadFilters(score_min=10, q="baker")
    seen = walk(caller, "score", 2, filters)
    expected = {lead.id for lead in tied if lead.score >= 10 and lead.last_name == "Baker"}
    assert {lead.id for lead in seen} == expected and len(seen) == len(expected)


def test_exact_page_size_has_no_next_cursor(caller: Principal) -> None:
    for _ in range(3):
        make(caller)
    page = lead_queries.list_leads(caller, LeadFilters(), limit=3, cursor=None, codec=CODEC)
    assert len(page.items) == 3 and page.next_cursor is None and not page.has_more


def _first_cursor(caller: Principal, filters: LeadFilters, sort: str = "-createdAt") -> str:
    page = lead_queries.list_leads(caller, filters, sort=sort, limit=1, cursor=None, codec=CODEC)
    assert page.next_cursor is not None
    return page.next_cursor


@pytest.mark.parametrize(
    ("change_filters", "sort"),
    [
        ({"status": "contacted"}, "-createdAt"),
        ({"status": None}, "-createdAt"),
        ({"q": "other"}, "-createdAt"),
        ({"score_min": 1}, "-createdAt"),
        ({}, "createdAt"),
        ({}, "-score"),
    ],
)
def test_cursor_is_bound_to_filters_and_sort(
    caller: Principal, change_filters: dict[str, Any], sort: str
) -> None:
    for _ in range(3):
        make(caller, status="new")
    issued_for = LeadFilters(status="new")
    cursor = _first_cursor(caller, issued_for)

    with pytest.raises(BadRequest) as caught:
        lead_queries.list_leads(
            caller, replace(issued_for, **change_filters), sort=sort, limit=1, cursor=cursor, codec=CODEC
        )
    assert [e.field for e in caught.value.errors] == ["cursor"]


def test_cursor_is_bound_to_environment(tenant: SeededTenant, caller: Principal) -> None:
    for _ in range(2):
        make(caller)
    cursor = _first_cursor(caller, LeadFilters())
    with pytest.raises(BadRequest):
        lead_queries.list_leads(
            principal(tenant.sandbox_key), LeadFilters(), limit=1, cursor=cursor, codec=CODEC
        )


def test_list_is_scoped_to_tenant_and_environment(
    tenant: SeededTenant, other_tenant: SeededTenant, caller: Principal
) -> None:
    mine = make(caller)
    make(principal(tenant.sandbox_key))
    make(principal(other_tenant.live_key))
    assert ids(caller) == [mine.id]


def test_history_pages_oldest_first(caller: Principal) -> None:
    lead = make(caller)
    for score in range(1, 6):
        leads.update_lead(caller, lead.id, {"score": score})

    seen, cursor = [], None
    while True:
        page = lead_queries.list_history(caller, lead.id, limit=2, cursor=cursor, codec=CODEC)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert [e.action for e in seen] == ["created"] + ["updated"] * 5
    assert [e.changes.get("score") for e in seen[1:]] == [[i, i + 1] for i in range(5)]
    assert len({e.id for e in seen}) == 6


def test_history_cursor_is_bound_to_its_lead(caller: Principal) -> None:
    first, second = make(caller), make(caller)
    for lead in (first, second):
        leads.update_lead(caller, lead.id, {"score": 1})
    cursor = lead_queries.list_history(caller, first.id, limit=1, cursor=None, codec=CODEC).next_cursor
    assert cursor is not None
    with pytest.raises(BadRequest):
        lead_queries.list_history(caller, second.id, limit=1, cursor=cursor, codec=CODEC)


def test_history_of_another_tenants_lead_is_not_found(other_tenant: SeededTenant, caller: Principal) -> None:
    theirs = make(principal(other_tenant.live_key))
    with pytest.raises(NotFound):
        lead_queries.list_history(caller, theirs.id, limit=10, cursor=None, codec=CODEC)
