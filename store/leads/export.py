"""The filtered lead list for the CSV export, read in keyset batches.

Each batch is its own short read on the calling thread's connection (`reading`): the export's
generator is advanced by whichever thread-pool thread the server picks for each chunk, and
Peewee's connections are per thread, so no connection or transaction may outlive a batch. A
million-lead export is thus a series of index range scans over (tenant_id, environment,
created_at, id), ``BATCH_SIZE`` rows at a time, in bounded memory. It is not a snapshot: a lead
created or erased during a long export may or may not appear in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import peewee

from store.access.principals import Principal
from store.db import reading
from store.leads.queries import LeadFilters, matching
from store.models import Lead

BATCH_SIZE = 1000


@reading
def export_batch(
    caller: Principal, filters: LeadFilters, after: tuple[dt.datetime, str] | None, size: int
) -> list[Lead]:
    """Up to ``size`` matching leads after ``after`` in (created_at, id) order, oldest first."""
    query = Lead.select().where(matching(caller, filters))
    if after is not None:
        query = query.where(peewee.Tuple(Lead.created_at, Lead.id) > after)
    return list(query.order_by(Lead.created_at, Lead.id).limit(size))


def export_batches(
    caller: Principal, filters: LeadFilters, *, size: int = BATCH_SIZE
) -> Iterator[list[Lead]]:
    """Every matching lead, batch by batch; lazily, one query per batch."""
    after: tuple[dt.datetime, str] | None = None
    while True:
        rows = export_batch(caller, filters, after, size)
        if rows:
            yield rows
        if len(rows) < size:
            return
        after = (rows[-1].created_at, rows[-1].id)
