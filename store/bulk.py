"""Multi-row INSERTs for bulk imports, without Peewee building the query value by value.

Peewee compiles every value of ``insert_many`` through its query AST, which costs ~10x more
than the database's own work (two thirds of a 100k-row import). `insert_rows` lets Peewee
compile the first row only, checks that its own conversion of that row gives exactly Peewee's
SQL and parameters, and then repeats that row's SQL for the rest with values converted by the
fields' own ``db_value``. Should the check ever disagree (a field type it does not know), the
rows go through Peewee's ``insert_many`` as usual: the fast path is never a guess.

On PostgreSQL, many rows go in by ``COPY ... FROM STDIN`` instead (`_copy`), from the same
converted values: the server parses no 20,000-parameter statement (a 1,000-row INSERT there
cost more than ten of 100 rows), and a value of a type it does not know sends the rows the
INSERT way.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import peewee

from store.db import database

CHUNK = 100  # rows per statement through Peewee's insert_many (the fallback)
# Parameters per statement of the fast path: under SQLite's default bound-parameter limit
# (32,766) and PostgreSQL's (65,535). Fewer, longer statements (a 1,000-lead chunk's leads in one
# INSERT, not ten) cut the per-statement work: -13 % CPU per imported row on SQLite.
MAX_PARAMS = 30_000
MAX_ROWS = 1000
PG_MAX_ROWS = 100  # PostgreSQL's INSERTs: its parse and plan grow faster than the row count
COPY_MIN_ROWS = 20  # PostgreSQL: fewer rows go as one INSERT (a COPY costs a round trip more)
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


# Value types that a field's ``db_value`` hands back unchanged, by the field's ``adapt``
# (peewee's ``Field.db_value`` is ``None`` as is, else ``adapt(value)``): such values skip the
# two calls (~1.1 million of them per 20,000 imported rows, ~7 % of the import's CPU).
_UNCHANGED_BY_ADAPT: dict[Any, frozenset[type]] = {
    peewee.CharField.adapt: frozenset({str}),  # _StringField's, TextField's too
    peewee.IntegerField.adapt: frozenset({int}),  # int(value)
    peewee.DateTimeField.adapt: frozenset({dt.datetime}),  # parses strings only
    peewee.BooleanField.adapt: frozenset({bool}),  # bool(value)
}
_NONE = type(None)


def _unchanged(field: peewee.Field) -> frozenset[type]:
    """The exact types whose values ``field.db_value`` returns as they are (none if unsure)."""
    kind = type(field)
    if isinstance(field, peewee.JSONField) or kind.db_value is not peewee.Field.db_value:
        return frozenset()
    types = _UNCHANGED_BY_ADAPT.get(kind.adapt)
    return frozenset() if types is None else types | {_NONE}


Converter = tuple[str, Callable[[Any], Any], frozenset[type]]
# (model, database) -> each field's name, value conversion and the types it leaves unchanged:
# built once, not per insert.
_CONVERTERS: dict[tuple[Any, ...], list[Converter]] = {}


def _converters(model: type[peewee.Model], fields: list[peewee.Field]) -> list[Converter]:
    key = (model, database.obj)
    converters = _CONVERTERS.get(key)
    if converters is None:
        converters = _CONVERTERS[key] = [(f.name, _converter(f), _unchanged(f)) for f in fields]
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
    postgres = isinstance(database.obj, peewee.PostgresqlDatabase)
    if postgres and len(rows) >= COPY_MIN_ROWS and _copy(model, fields, converters, rows):
        return
    step = max(1, min(PG_MAX_ROWS if postgres else MAX_ROWS, MAX_PARAMS // len(fields)))
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        params = [
            value if type(value := row[name]) in same else convert(value)
            for row in chunk
            for name, convert, same in converters
        ]
        database.execute_sql(head + VALUES + ", ".join([one_row] * len(chunk)), params)


# COPY's text format: these characters of a value are written as backslash escapes.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str | None:
    """A converted value in COPY's text format; None for a type this does not know."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return str(value).translate(_COPY_ESCAPES)
        return str(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is dt.datetime and value.tzinfo is None:
        return str(value.isoformat(" "))
    adapted = getattr(value, "adapted", None)  # psycopg2's Json, as Peewee's JSONField gives it
    if adapted is not None and callable(getattr(value, "dumps", None)):
        return _copy_text(value.dumps(adapted))
    return None


def _copy(
    model: type[peewee.Model],
    fields: list[peewee.Field],
    converters: list[Converter],
    rows: Sequence[Mapping[str, Any]],
) -> bool:
    """``COPY`` the rows in (PostgreSQL), or False (nothing sent) if a value is of a type
    `_copy_text` does not know."""
    lines = []
    for row in rows:
        values = [
            value if type(value := row[name]) in same else convert(value)
            for name, convert, same in converters
        ]
        # A row whose text values hold nothing COPY escapes (most rows) takes them as they are:
        # one check of them all, not `_copy_text` per value (1.3 million calls per 20k leads).
        texts = "".join([value for value in values if type(value) is str])
        if "\\" in texts or "\t" in texts or "\n" in texts or "\r" in texts:
            cells = [_copy_text(value) for value in values]
        else:
            cells = [
                value if type(value) is str else "\\N" if value is None else _copy_text(value)
                for value in values
            ]
        if None in cells:
            return False
        lines.append("\t".join(cells))  # type: ignore[arg-type]
    left, right = database.obj.quote
    columns = ", ".join(f"{left}{field.column_name}{right}" for field in fields)
    sql = f"COPY {left}{model._meta.table_name}{right} ({columns}) FROM STDIN"
    data = io.StringIO("\n".join(lines) + "\n")
    # Driver errors as Peewee raises them (IntegrityError, DataError...): callers catch those.
    with peewee.ExceptionWrapper(peewee.EXCEPTIONS):  # type: ignore[attr-defined]
        database.cursor().copy_expert(sql, data, size=1 << 20)
    return True
