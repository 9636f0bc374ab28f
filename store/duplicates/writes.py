"""The two writes of a dedup job that finds a match, built by peewee once per shape
(`store.prepared`), not per job: storing the lead's pairs and pointing the lead at its
original. Building them was most of what a job cost in bench/ (py-spy: peewee's SQL
compilation under `detection.record`), far more than SQLite or PostgreSQL running them.

The SQL is exactly what peewee builds for the same calls (tests/store/duplicates/test_writes.py
compares them): the values only are filled in per job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import peewee

from store.db import database
from store.models import Lead, LeadDuplicate
from store.prepared import Prepared, param

# One stored pair in one direction: (lead_id, duplicate_id, reasons).
Pair = tuple[str, str, tuple[str, ...]]


def _row(n: int, reasons: tuple[str, ...]) -> dict[str, Any]:
    return {
        "tenant_id": param("tenant_id"),
        "lead_id": param(f"lead{n}"),
        "duplicate_id": param(f"other{n}"),
        "environment": param("environment"),
        # A constant of the shape (one of seven sets of rule names): a JSON value, which peewee
        # converts per dialect (SQLite wraps it in ``json(?)``), so it cannot be a marker.
        "reasons": list(reasons),
        "detected_at": param("now"),
    }


def pairs_query(shape: tuple[tuple[str, ...], ...]) -> peewee.Insert:
    """Upsert pairs; ``shape``: each row's reasons. A pair already stored takes the new reasons
    and detection time (the caller writes only pairs whose reasons changed)."""
    return LeadDuplicate.insert_many([_row(n, reasons) for n, reasons in enumerate(shape)]).on_conflict(
        conflict_target=(LeadDuplicate.tenant_id, LeadDuplicate.lead_id, LeadDuplicate.duplicate_id),
        preserve=(LeadDuplicate.reasons, LeadDuplicate.detected_at),
    )


MAX_ROWS = 50  # rows per statement: the markers of one row are six parameters
_NAMES = ("tenant_id", "environment", "now", *(f"{k}{n}" for n in range(MAX_ROWS) for k in ("lead", "other")))
PAIRS = Prepared(pairs_query, _NAMES)


def store_pairs(tenant_id: str, environment: str, pairs: Sequence[Pair], now: dt.datetime) -> None:
    """`pairs_query` for ``pairs``, in statements of up to `MAX_ROWS` rows."""
    for start in range(0, len(pairs), MAX_ROWS):
        chunk = pairs[start : start + MAX_ROWS]
        values: dict[str, Any] = {"tenant_id": tenant_id, "environment": environment, "now": now}
        for n, (lead_id, other, _) in enumerate(chunk):
            values[f"lead{n}"], values[f"other{n}"] = lead_id, other
        text, params = PAIRS.sql(tuple(reasons for _, _, reasons in chunk), values)
        database.execute_sql(text, params)


def point_query(to_none: bool) -> peewee.ModelUpdate:
    """Point a lead at ``pointed`` (or at nothing: ``to_none``), bumping its version, unless it
    points there already."""
    key = (Lead.tenant_id == param("tenant_id")) & (Lead.id == param("id"))
    if to_none:
        return Lead.update(duplicate_of=None, version=Lead.version + 1).where(
            key & Lead.duplicate_of.is_null(False)
        )
    differs = Lead.duplicate_of.is_null() | (Lead.duplicate_of != param("pointed"))
    return Lead.update(duplicate_of=param("pointed"), version=Lead.version + 1).where(key & differs)


POINT = Prepared(point_query, ("tenant_id", "id", "pointed"))


def point(tenant_id: str, lead_id: str, pointed: str | None) -> bool:
    """`point_query`; True if the lead's pointer changed."""
    text, params = POINT.sql(pointed is None, {"tenant_id": tenant_id, "id": lead_id, "pointed": pointed})
    return bool(database.execute_sql(text, params).rowcount)
