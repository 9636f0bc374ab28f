"""Multi-row INSERTs for bulk imports, without Peewee building the query value by value.

Peewee compiles every value of ``insert_many`` through its query AST, which costs ~10x more
than the database's own work (two thirds of a 100k-row import). `insert_rows` lets Peewee
compile the first row only, checks that its own conversion of that row gives exactly Peewee's
SQL and parameters, and then repeats that row's SQL for the rest with values converted by the
fields' own ``db_value``. Should the check ever disagree (a field type it does not know), the
rows go through Peewee's ``insert_many`` as usual: the fast path is never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import peewee

from store.db import database

CHUNK = 100  # rows per statement: well under SQLite's and PostgreSQL's parameter limits
VALUES = " VALUES "


def _converter(field: peewee.Field) -> Callable[[Any], Any]:
    if not isinstance(field, peewee.JSONField):
        return field.db_value
    if not isinstance(field.db_value({}), peewee.Node):
        return field.db_value  # PostgreSQL: already a plain parameter (a psycopg2 ``Json``)
    # SQLite: Peewee wraps the JSON text in SQL (``json(?)``), which the template keeps, so the
    # parameter is the text alone. Serialized here once (``db_value`` would serialize it too).
    dumps = getattr(field, "_dumps", json.dumps)

    def convert(value: Any) -> Any:
        return None if value is None else dumps(value)

    return convert


def _same(ours: Any, theirs: Any) -> bool:
    return bool(getattr(ours, "adapted", ours) == getattr(theirs, "adapted", theirs))


def _template(model: type[peewee.Model], fields: list[peewee.Field], first: Mapping[str, Any]) -> str | None:
    """The one-row SQL (``INSERT ... VALUES (...)``) if our conversion matches Peewee's, else None."""
    if any(field.name not in first for field in fields):
        return None
    sql, params = model.insert_many([first]).sql()
    ours = [_converter(field)(first[field.name]) for field in fields]
    left, right = database.obj.quote
    columns = ", ".join(f"{left}{field.column_name}{right}" for field in fields)
    if len(params) != len(ours) or not all(map(_same, ours, params)):
        return None
    if sql.count(VALUES) != 1 or f"({columns}){VALUES}" not in sql:
        return None
    return str(sql).split(" RETURNING ", 1)[0]  # the rows' keys are known: nothing to return


# (model, database, which fields are None) -> the checked one-row SQL. The SQL depends on the
# dialect and on which values are NULL (Peewee wraps a JSON value in ``json(?)`` on SQLite, not a
# NULL one), never on the values themselves: checked once per shape, then reused. Single-row
# inserts (a create: lead, history, audit, job, event) otherwise paid Peewee's compilation
# twice, for the check and for nothing else (a third of a create's CPU in bench/).
_TEMPLATES: dict[tuple[Any, ...], str] = {}


def _cached_template(
    model: type[peewee.Model], fields: list[peewee.Field], first: Mapping[str, Any]
) -> str | None:
    if any(isinstance(value, peewee.Node) for value in first.values()):
        return _template(model, fields, first)  # SQL given as a value: its own shape, no cache
    key = (model, database.obj, tuple(first.get(field.name) is None for field in fields))
    template = _TEMPLATES.get(key)
    if template is None:
        template = _template(model, fields, first)
        if template is not None:
            _TEMPLATES[key] = template
    return template


# (model, database) -> each field's name and value conversion: built once, not per insert.
_CONVERTERS: dict[tuple[Any, ...], list[tuple[str, Callable[[Any], Any]]]] = {}


def _converters(
    model: type[peewee.Model], fields: list[peewee.Field]
) -> list[tuple[str, Callable[[Any], Any]]]:
    key = (model, database.obj)
    converters = _CONVERTERS.get(key)
    if converters is None:
        converters = _CONVERTERS[key] = [(field.name, _converter(field)) for field in fields]
    return converters


def insert_rows(model: type[peewee.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each with a value for every field) inside the caller's transaction."""
    if not rows:
        return
    fields = list(model._meta.sorted_fields)
    template = _cached_template(model, fields, rows[0])
    if template is None:
        for batch in peewee.chunked(rows, CHUNK):
            model.insert_many(batch).execute()
        return
    head, _, one_row = template.partition(VALUES)
    converters = _converters(model, fields)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        params = [convert(row[name]) for row in chunk for name, convert in converters]
        database.execute_sql(head + VALUES + ", ".join([one_row] * len(chunk)), params)
