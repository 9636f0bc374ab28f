"""Applying import rows: each row is created or updated through `store.leads`, on its own.

Rows go through exactly what a single `POST /v1/leads` goes through: the spec's ``LeadCreate``
schema (`store.lead_schema`), the lead rules, history, audit and the duplicate-detection job
(all inside `store.leads`). A batch of rows shares one transaction, and every row runs in its
own savepoint (`store.leads` functions nest as savepoints), so one bad row never sinks the others
and a batch commits or rolls back as a unit.

``onDuplicate`` decides what a row whose normalized email matches an existing lead of the same
tenant and environment does: ``update`` (the default for imports: re-running an import must not
double the leads) updates the oldest match with the row's fields; ``allow`` creates a new lead
anyway (duplicate detection will still flag it); ``reject`` reports the row as an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import peewee

from store import lead_duplicates, lead_schema, leads
from store.db import transaction
from store.errors import FieldError, StoreError
from store.principals import Principal

ON_DUPLICATE = ("update", "allow", "reject")
DEFAULT_ON_DUPLICATE = "update"
MAX_JSON_ITEMS = 1000
# Rows per transaction: long enough to amortize the commit, short enough that SQLite's single
# write lock is never held for long while other requests wait.
BATCH_ROWS = 200
IMPORT_SOURCE = "import"

CREATED, UPDATED, ERROR = "created", "updated", "error"


@dataclass(frozen=True)
class RowOutcome:
    status: str
    lead_id: str | None = None
    errors: tuple[FieldError, ...] = field(default=())


# A row ready to apply: checked snake_case fields, or the errors that already sank it.
Prepared = dict[str, Any] | list[FieldError]


def prepare(item: Any) -> Prepared:
    """Check one camelCase lead object against the schema; no database access."""
    errors = lead_schema.item_errors(item)
    return errors if errors else lead_schema.to_fields(item)


def _apply(caller: Principal, row: Prepared, on_duplicate: str) -> RowOutcome:
    if isinstance(row, list):
        return RowOutcome(ERROR, errors=tuple(row))
    try:
        existing = lead_duplicates.find_by_email(caller, row["email"]) if on_duplicate != "allow" else None
        if existing is not None and on_duplicate == "reject":
            message = f"A lead with this email already exists: {existing.id}"
            return RowOutcome(ERROR, lead_id=existing.id, errors=(FieldError("email", message),))
        if existing is not None:
            return RowOutcome(UPDATED, leads.update_lead(caller, existing.id, row).id)
        # "import" is the default source of a created row only: an update keeps the lead's own.
        return RowOutcome(CREATED, leads.create_lead(caller, {"source": IMPORT_SOURCE, **row}).id)
    except StoreError as exc:
        if exc.status >= 500:  # the database is gone: the whole batch fails, to be retried
            raise
        return RowOutcome(ERROR, errors=tuple(exc.errors) or (FieldError("item", exc.message),))
    except (peewee.IntegrityError, peewee.DataError) as exc:
        # The row's savepoint is rolled back; the batch goes on.
        return RowOutcome(ERROR, errors=(FieldError("item", f"Could not be stored: {type(exc).__name__}"),))


def apply_rows(caller: Principal, rows: Sequence[Prepared], on_duplicate: str) -> list[RowOutcome]:
    """Apply rows in the caller's transaction (join one, or open one with `apply_batch`)."""
    return [_apply(caller, row, on_duplicate) for row in rows]


@transaction
def apply_batch(caller: Principal, rows: Sequence[Prepared], on_duplicate: str) -> list[RowOutcome]:
    return apply_rows(caller, rows, on_duplicate)


def import_items(caller: Principal, items: Sequence[Any], on_duplicate: str) -> list[RowOutcome]:
    """The synchronous JSON import: one outcome per item, in order.

    Committed batch by batch (`BATCH_ROWS` per transaction) rather than in one transaction, so
    a 1,000-item import never holds SQLite's write lock for the whole request.
    """
    prepared = [prepare(item) for item in items]
    outcomes: list[RowOutcome] = []
    for start in range(0, len(prepared), BATCH_ROWS):
        outcomes += apply_batch(caller, prepared[start : start + BATCH_ROWS], on_duplicate)
    return outcomes
