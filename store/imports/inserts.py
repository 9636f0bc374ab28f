"""An import chunk's new leads, written as plain rows: the bulk form of `leads.insert_leads`.

`store.leads.lifecycle.insert_leads` builds a Peewee ``Lead`` per row and reads every column
back from it (~1,600,000 descriptor calls for 20,000 rows), mints ids one system call each and
formats each row's values through the model: about a third of an import's CPU in bench/. Here
the same rows are dicts built once, ids come from one draw of the CSPRNG (`ids.new_ids`), and
each table gets its multi-row INSERTs (`store.bulk.insert_rows`), in the caller's transaction:

- the quota check and counter move first (`reserve_leads`), as `insert_leads` does;
- leads, tag index rows, the "created" history entry, the audit row (`audit.record_many`) and
  the ``lead.created`` outbox event with its webhook deliveries (`events.emit_created`), the
  same values as `insert_leads` writes (``tests/store/imports/test_inserts.py`` compares them
  over random rows); no dedup job: the caller deduplicates the chunk (`sets.detect_created`).

The leads come back as `NewLead` views (attribute access over the row dict), which is all the
event, dedup and outcome code reads of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, cast

from store import bulk
from store.access.principals import Principal
from store.audit import log as audit
from store.events import emit as events
from store.ids import new_ids
from store.leads.lifecycle import WRITABLE
from store.limits.plans import reserve_leads
from store.models import Lead, LeadEvent, LeadTag, utcnow

CREATED = "created"
_EMPTY: tuple[Any, ...] = (
    None,
    {},
    [],
)  # values a "created" change leaves out (as `lifecycle._initial` does)


# Set on every row by `_lead_values` (their defaults, ``utcnow``, would only be overwritten).
_STAMPED = frozenset({"tenant_id", "id", "environment", "created_at", "updated_at"})


def _defaults() -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    """The Lead columns' plain defaults, and those made per row (``dict``, ``list``)."""
    plain: dict[str, Any] = {}
    made: dict[str, Callable[[], Any]] = {}
    for field in Lead._meta.sorted_fields:
        if field.name in _STAMPED:
            continue
        if callable(field.default):
            made[field.name] = field.default
        else:
            plain[field.name] = field.default
    return plain, made


_PLAIN, _MADE = _defaults()


class NewLead:
    """A just-inserted lead as its row's values, read as attributes like a ``Lead``."""

    __slots__ = ("__dict__",)

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__ = values

    id: str
    tenant_id: str
    environment: str
    created_at: dt.datetime
    duplicate_of: str | None
    tags: list[str]


def _lead_values(caller: Principal, lead_id: str, at: dt.datetime, row: dict[str, Any]) -> dict[str, Any]:
    values = {**_PLAIN, **row}
    for name, make in _MADE.items():
        if name not in row:
            values[name] = make()
    values.update(
        tenant_id=caller.tenant_id, id=lead_id, environment=caller.environment, created_at=at, updated_at=at
    )
    return values


def _initial(values: dict[str, Any]) -> dict[str, list[Any]]:
    """The "created" change of a new lead: every writable field it has, as ``[None, value]``."""
    return {name: [None, values[name]] for name in WRITABLE if values[name] not in _EMPTY}


def insert_new_leads(caller: Principal, rows: Sequence[dict[str, Any]]) -> list[NewLead]:
    """Create leads from `leads.new_values` rows (in the caller's transaction), in order, each
    with its tags, history entry, audit row and ``lead.created`` event; `QuotaExceeded` leaves
    nothing written. Creation times follow the rows' order (a microsecond apart)."""
    if not rows:
        return []
    reserve_leads(caller, len(rows))
    now = utcnow()
    ids = new_ids(2 * len(rows))
    values = [
        _lead_values(caller, ids[offset], now + dt.timedelta(microseconds=offset), row)
        for offset, row in enumerate(rows)
    ]
    changes = [_initial(lead) for lead in values]
    bulk.insert_rows(Lead, values)
    tenant_id, environment = caller.tenant_id, caller.environment
    bulk.insert_rows(
        LeadTag,
        [
            {"tenant_id": tenant_id, "environment": environment, "tag": tag, "lead_id": lead["id"]}
            for lead in values
            for tag in lead["tags"]
        ],
    )
    actor = {
        "tenant_id": tenant_id, "action": CREATED, "actor_type": caller.actor_type,
        "actor_id": caller.actor_id, "on_behalf_of": caller.on_behalf_of, "request_id": caller.request_id,
    }  # fmt: skip
    history = [
        {**actor, "id": ids[len(rows) + index], "lead_id": lead["id"], "changes": change,
         "occurred_at": lead["created_at"]}
        for index, (lead, change) in enumerate(zip(values, changes, strict=True))
    ]  # fmt: skip
    bulk.insert_rows(LeadEvent, history)
    # The same changes go to the audit log, in the same transaction: history and audit agree.
    audit.record_many(
        caller, "lead.created", "lead", [(lead["id"], c) for lead, c in zip(values, changes, strict=True)]
    )
    leads = [NewLead(lead) for lead in values]
    events.emit_created(cast(Sequence[Lead], leads))  # the outbox, committed with the leads
    return leads
