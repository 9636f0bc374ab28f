"""Applying import rows: created (`store.imports.inserts`) or updated (`store.leads.lifecycle`),
one outcome per row.

Rows go through exactly what a single `POST /v1/leads` goes through: the spec's ``LeadCreate``
schema (`store.leads.schema`), the lead rules (`leads.new_values` / `leads.update_lead`), the
plan's lead quota, history, audit and event (`store.leads.lifecycle`; for a batch's new leads
its bulk form `store.imports.inserts`, property-tested to write the same) and duplicate detection,
which for a batch's new leads runs in the batch's own transaction, as a set
(`store.duplicates.sets`: the same rules and results as one dedup job per lead, run in order).

A batch of rows shares one transaction. New leads are inserted together
(`inserts.insert_new_leads`, the bulk form of `leads.insert_leads`: a few multi-row INSERTs
instead of ~6 statements per lead, which is what makes a 100k-row file take seconds, not
minutes) inside a savepoint; should that fail (the quota, a constraint), the same rows are
retried one by one, each in its own savepoint (`leads.create_lead` nests as one), so one bad
row never sinks the others and a batch still commits or rolls back as a unit.

``onDuplicate`` decides what a row whose normalized email matches an existing lead of the same
tenant and environment does (an earlier row of the same import counts): ``update`` (the default
for imports: re-running an import must not double the leads) updates the oldest match with the
row's fields; ``allow`` creates a new lead anyway (duplicate detection will still flag it);
``reject`` reports the row as an error naming the existing lead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import peewee

from store.access.principals import Principal
from store.db import database, transaction
from store.duplicates import policy, sets
from store.errors import FieldError, Refused, StoreError
from store.imports import inserts
from store.leads import lifecycle as leads
from store.leads import schema as lead_schema
from store.leads.rules import normalize_email
from store.limits import quotas

DEFAULT_ON_DUPLICATE = policy.UPDATE  # re-running an import must not double the leads
# Rows per transaction: long enough to amortize the commit and the index pages each commit
# rewrites (200 cost 22 % more CPU per row than 1,000 on SQLite, bench/imports), short enough
# that SQLite's single write lock is held for tenths of a second at most while requests wait.
BATCH_ROWS = 1000
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
    try:
        errors = lead_schema.item_errors(item)
    except RecursionError:  # a value nested thousands deep: this item's error, never the batch's
        return [FieldError("item", "Nested too deeply")]
    return errors if errors else lead_schema.to_fields(item)


def _failed(exc: StoreError) -> RowOutcome:
    if not isinstance(exc, Refused):  # the database is gone (Transient) or a bug: the whole batch fails
        raise exc
    return RowOutcome(ERROR, errors=tuple(exc.errors) or (FieldError("item", exc.message),))


def _stored_error(exc: Exception) -> RowOutcome:
    return RowOutcome(ERROR, errors=(FieldError("item", f"Could not be stored: {type(exc).__name__}"),))


class _Batch:
    """One batch's rows in order; new leads are held back and inserted together."""

    def __init__(self, caller: Principal, on_duplicate: str, size: int) -> None:
        self.caller, self.on_duplicate = caller, on_duplicate
        self.outcomes: list[RowOutcome | None] = [None] * size
        self.pending: list[tuple[int, dict[str, Any], dict[str, Any]]] = []  # index, fields, values
        self.pending_keys: set[str] = set()  # the pending rows' normalized emails
        self.known: dict[str, str] = {}
        self.created: list[inserts.NewLead] = []  # inserted together: their duplicates are found at the end

    def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        self.pending_keys = set()
        try:
            with database.atomic():  # the quota is checked and counted in insert_new_leads
                created = inserts.insert_new_leads(self.caller, [values for _, _, values in pending])
        except (StoreError, peewee.IntegrityError, peewee.DataError):
            return self._one_by_one(pending)  # one by one: each with its own dedup job
        self.created += created
        for (index, _, values), lead in zip(pending, created, strict=True):
            self.outcomes[index] = RowOutcome(CREATED, lead.id)
            self.known.setdefault(values["email_normalized"], lead.id)

    def _one_by_one(self, pending: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> None:
        for index, fields, values in pending:
            try:
                lead = leads.create_lead(self.caller, fields)
            except StoreError as exc:
                self.outcomes[index] = _failed(exc)
                continue
            except (peewee.IntegrityError, peewee.DataError) as exc:
                self.outcomes[index] = _stored_error(exc)
                continue
            self.outcomes[index] = RowOutcome(CREATED, lead.id)
            self.known.setdefault(values["email_normalized"], lead.id)

    def add(self, index: int, row: dict[str, Any]) -> None:
        fields = {"source": IMPORT_SOURCE, **row}  # a default for new leads only
        try:
            values = leads.new_values(self.caller, fields)
        except StoreError as exc:
            self.outcomes[index] = _failed(exc)
            return
        key = values["email_normalized"]
        if self.on_duplicate != policy.ALLOW and key in self.pending_keys:
            self.flush()  # an earlier row of this batch creates it: this one meets it as existing
        existing = self.known.get(key) if self.on_duplicate != policy.ALLOW else None
        if existing is None:
            self.pending.append((index, fields, values))
            self.pending_keys.add(key)
        elif self.on_duplicate == policy.REJECT:
            message = policy.rejection_message(existing)
            self.outcomes[index] = RowOutcome(ERROR, existing, (FieldError("email", message),))
        else:
            self.outcomes[index] = self._update(existing, row)

    def _update(self, lead_id: str, row: dict[str, Any]) -> RowOutcome:
        try:
            return RowOutcome(UPDATED, leads.update_lead(self.caller, lead_id, row).id)
        except StoreError as exc:
            return _failed(exc)
        except (peewee.IntegrityError, peewee.DataError) as exc:
            return _stored_error(exc)


def apply_rows(caller: Principal, rows: Sequence[Prepared], on_duplicate: str) -> list[RowOutcome]:
    """Apply rows in the caller's transaction (join one, or open one with `apply_batch`).

    The tenant's lead counter is locked first: a batch both creates (the counter) and updates
    (lead rows), and every transaction takes the counter before lead rows (`store.limits.quotas`);
    then the tenant's detection turn (`sets.lock_detection`), as the batch ends by finding the
    duplicates of the leads it created (`sets.detect_created`).
    """
    quotas.lock(caller.tenant_id, caller.environment)
    sets.lock_detection(caller.tenant_id)  # after the counter, before any lead row
    batch = _Batch(caller, on_duplicate, len(rows))
    if on_duplicate != policy.ALLOW:
        emails = {normalize_email(row["email"]) for row in rows if isinstance(row, dict)}
        batch.known = policy.oldest_by_email(caller, emails)
    for index, row in enumerate(rows):
        if isinstance(row, list):
            batch.outcomes[index] = RowOutcome(ERROR, errors=tuple(row))
        else:
            batch.add(index, row)
    batch.flush()
    sets.detect_created(caller.tenant_id, caller.environment, batch.created)
    return [outcome or RowOutcome(ERROR) for outcome in batch.outcomes]


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
