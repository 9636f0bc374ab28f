"""The IN-list statements of set-based duplicate detection (`store.duplicates.matching`'s
reads, `store.duplicates.sets`' pointers and re-read) and of an import batch's email lookup
(`store.duplicates.policy.oldest_by_email`), built by peewee once per shape (`store.prepared`)
instead of per chunk.

Peewee compiled each of these statements value by value (a ``Value`` node and a converter call
per element of a 500-value IN list): ~12 % of an import's CPU in bench/, more than the
database's work. Here a list is padded to the next power of two (`bucket`) by repeating its
last value, which changes nothing an IN list matches, so a handful of shapes serve every chunk;
the SQL is exactly what the ``*_query`` functions below build through peewee for the padded
values (``tests/store/duplicates/test_lookups.py`` compares SQL, parameters and rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import peewee

from store.db import database
from store.models import Lead
from store.prepared import Prepared, param

EMAIL, PHONE, NAME_COMPANY = "email", "phone", "name_company"
MAX_VALUES = 500  # per list: callers slice longer ones (under every bound-parameter limit)

# The stored values the rules compare, of the checked leads: ``LOWER`` is the database's own
# (SQLite folds ASCII only), exactly as `matching.match_queries` compares names.
LAST, FIRST = peewee.fn.LOWER(Lead.last_name), peewee.fn.LOWER(Lead.first_name)


def keys_query(tenant_id: Any, ids: Sequence[Any]) -> peewee.ModelSelect[Lead]:
    """The checked leads' stored rule values: (id, email key, E.164 phone, lower last name,
    lower first name, company)."""
    return Lead.select(Lead.id, Lead.email_normalized, Lead.phone_e164, LAST, FIRST, Lead.company).where(
        (Lead.tenant_id == tenant_id) & Lead.id.in_(list(ids))
    )


def candidates_query(
    tenant_id: Any, environment: Any, reason: str, values: Sequence[Any], more: Sequence[Any] = ()
) -> peewee.ModelSelect[Lead]:
    """The tenant's leads in ``environment`` holding one of ``values`` for the rule: (key..., id,
    company, created_at); for `NAME_COMPANY` ``values`` are lower last names and ``more`` lower
    first names (which last goes with which first is the caller's check). An IN list on the
    rule's index, no self-join: the planner can only read it as index lookups, with or without
    statistics (a self-join planned on none, or on ANALYZE figures of a table that has since
    grown, became a nested loop over every lead of the tenant per checked lead on PostgreSQL)."""
    scope = (Lead.tenant_id == tenant_id) & (Lead.environment == environment)
    if reason == EMAIL:
        return Lead.select(Lead.email_normalized, Lead.id, Lead.company, Lead.created_at).where(
            scope & Lead.email_normalized.in_(list(values))
        )
    if reason == PHONE:
        return Lead.select(Lead.phone_e164, Lead.id, Lead.company, Lead.created_at).where(
            scope & Lead.phone_e164.in_(list(values))
        )
    return Lead.select(LAST, FIRST, Lead.id, Lead.company, Lead.created_at).where(
        scope & LAST.in_(list(values)) & FIRST.in_(list(more))
    )


def stored_query(tenant_id: Any, environment: Any, ids: Sequence[Any]) -> peewee.ModelSelect[Lead]:
    """Which of ``ids`` are the tenant's leads in ``environment``: (id,)."""
    return Lead.select(Lead.id).where(
        (Lead.tenant_id == tenant_id) & (Lead.environment == environment) & Lead.id.in_(list(ids))
    )


def same_email_query(tenant_id: Any, environment: Any, keys: Sequence[Any]) -> peewee.ModelSelect[Lead]:
    """The leads with one of these normalized emails, oldest first: (id, email key)."""
    return (
        Lead.select(Lead.id, Lead.email_normalized)
        .where(
            (Lead.tenant_id == tenant_id)
            & (Lead.environment == environment)
            & Lead.email_normalized.in_(list(keys))
        )
        .order_by(Lead.created_at, Lead.id)
    )


def reread_query(tenant_id: Any, ids: Sequence[Any]) -> peewee.ModelSelect[Lead]:
    """The tenant's leads ``ids``, whole (as committed so far in the caller's transaction)."""
    return Lead.select().where((Lead.tenant_id == tenant_id) & Lead.id.in_(list(ids)))


def point_query(tenant_id: Any, ids: Sequence[Any], targets: Sequence[Any]) -> peewee.ModelUpdate:
    """Point each of ``ids`` at its ``targets`` entry (``duplicate_of``, a CASE on the id) and
    bump its version."""
    target = peewee.Case(Lead.id, list(zip(ids, targets, strict=True)))
    return Lead.update(duplicate_of=target, version=Lead.version + 1).where(
        (Lead.tenant_id == tenant_id) & Lead.id.in_(list(ids))
    )


def bucket(n: int) -> int:
    """The padded length of an n-value list (1 <= n <= `MAX_VALUES`): the next power of two."""
    if not 1 <= n <= MAX_VALUES:
        raise ValueError(f"an IN list of {n} values (1 to {MAX_VALUES})")
    return min(1 << (n - 1).bit_length(), MAX_VALUES)


def padded(values: Sequence[Any]) -> list[Any]:
    """``values`` to its `bucket` length, its last value repeated (the same set for IN)."""
    return [*values, *[values[-1]] * (bucket(len(values)) - len(values))]


def _markers(prefix: str, n: int) -> list[Any]:
    return [param(f"{prefix}{i}") for i in range(n)]


_NAMES = ("tenant_id", "environment", *(f"{p}{i}" for p in "vw" for i in range(MAX_VALUES)))
_TENANT, _ENV = param("tenant_id"), param("environment")
KEYS = Prepared(lambda n: keys_query(_TENANT, _markers("v", n)), _NAMES)
CANDIDATES = Prepared(
    lambda shape: candidates_query(_TENANT, _ENV, shape[0], _markers("v", shape[1]), _markers("w", shape[2])),
    _NAMES,
)
STORED = Prepared(lambda n: stored_query(_TENANT, _ENV, _markers("v", n)), _NAMES)
SAME_EMAIL = Prepared(lambda n: same_email_query(_TENANT, _ENV, _markers("v", n)), _NAMES)
REREAD = Prepared(lambda n: reread_query(_TENANT, _markers("v", n)), _NAMES)
POINT = Prepared(lambda n: point_query(_TENANT, _markers("v", n), _markers("w", n)), _NAMES)


def _values(tenant_id: str, environment: str | None, *lists: list[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"tenant_id": tenant_id, "environment": environment}
    for prefix, items in zip("vw", lists, strict=False):
        values.update({f"{prefix}{i}": item for i, item in enumerate(items)})
    return values


def _rows(prepared: Prepared, shape: Any, values: dict[str, Any]) -> list[tuple[Any, ...]]:
    text, params = prepared.sql(shape, values)
    return list(database.execute_sql(text, params).fetchall())


def keys(tenant_id: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """`keys_query` rows (text columns only: the driver's values are what peewee gives)."""
    ids = padded(ids)
    return _rows(KEYS, len(ids), _values(tenant_id, None, ids))


def candidates(
    tenant_id: str, environment: str, reason: str, values: Sequence[Any], more: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """`candidates_query` rows, ``created_at`` (the last column) converted as peewee does."""
    values, more = padded(values), (padded(more) if more else [])
    found = _rows(CANDIDATES, (reason, len(values), len(more)), _values(tenant_id, environment, values, more))
    convert = Lead.created_at.python_value
    return [(*row[:-1], convert(row[-1])) for row in found]


def stored(tenant_id: str, environment: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    ids = padded(ids)
    return _rows(STORED, len(ids), _values(tenant_id, environment, ids))


def same_email(tenant_id: str, environment: str, keys: Sequence[str]) -> list[tuple[Any, ...]]:
    """`same_email_query` rows: (id, email key), oldest first."""
    keys = padded(keys)
    return _rows(SAME_EMAIL, len(keys), _values(tenant_id, environment, keys))


def reread(tenant_id: str, ids: Sequence[str]) -> list[Lead]:
    """`reread_query` rows as ``Lead`` instances."""
    ids = padded(ids)
    return REREAD.rows(Lead, len(ids), _values(tenant_id, None, ids))


def point(tenant_id: str, ids: Sequence[str], targets: Sequence[str]) -> None:
    """`point_query`: a repeated last pair (the padding) sets the same pointer again."""
    ids, targets = padded(ids), padded(targets)
    text, params = POINT.sql(len(ids), _values(tenant_id, None, ids, targets))
    database.execute_sql(text, params)
