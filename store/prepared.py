"""Hot queries built by peewee once, then executed with fresh parameters.

Building a select with peewee (cloning, walking the expression tree, quoting) costs more CPU
than running it on an indexed table: bench/RESULTS.md put it near a tenth of a ``GET`` lead.
A `Prepared` query is written as ordinary peewee code that takes `param` markers where the
request's values go; its SQL is generated on first use per *shape* (whatever changes the text:
which filters are present, the sort, a cursor) and per database dialect, and every later call
only fills in the parameters. The query stays peewee's, so quoting, placeholders and operators
are exactly what the unprepared query would produce.

A marker is passed where peewee makes one parameter of the value (``==``, ``<``, ``IN``,
``LIMIT``) or wraps it in a LIKE pattern (``contains``); it must not be transformed otherwise.
Values are bound as given, the way peewee binds them: the caller passes what it would have
written into the query (strings, numbers, naive UTC datetimes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from store.db import database

# Markers carry a '%', so peewee always escapes them inside a LIKE pattern (and adds its
# ESCAPE clause, whatever the real value): the SQL text is then the same for every value.
_MARK = "\x1e%{}%\x1e"
MAX_SHAPES = 512


def param(name: str) -> Any:
    """The marker of parameter ``name``, to write into a query where its value goes."""
    return _MARK.format(name)


def _escape_like(text: str) -> str:
    """Peewee's own escaping of a LIKE operand (`peewee.ColumnBase._escape_like_expr`)."""
    return text.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


@dataclass(frozen=True)
class _Slot:
    """One parameter of the generated SQL: a named value, a LIKE pattern around one, or a constant."""

    name: str | None = None
    pattern: str | None = None  # the escaped marker inside it is replaced by the escaped value
    constant: Any = None

    def value(self, values: dict[str, Any]) -> Any:
        if self.name is None:
            return self.constant
        if self.pattern is None:
            return values[self.name]
        return self.pattern.replace(_escape_like(param(self.name)), _escape_like(str(values[self.name])))


def _slot(value: Any, names: Sequence[str], exact: dict[str, str]) -> _Slot:
    if isinstance(value, str):
        if value in exact:  # the common case, without a scan of every name (IN lists have hundreds)
            return _Slot(name=exact[value])
        for name in names:
            if value == param(name):
                return _Slot(name=name)
            if _escape_like(param(name)) in value:
                return _Slot(name=name, pattern=value)
            if param(name) in value:
                raise ValueError(
                    f"parameter {name!r} was transformed by the query; pass it to == or LIKE only"
                )
    return _Slot(constant=value)


class Prepared:
    """``build(shape)`` returns the peewee query for a shape, with `param` markers for ``names``."""

    def __init__(self, build: Callable[[Any], peewee.Query], names: Sequence[str]) -> None:
        self._build = build
        self._names = tuple(names)
        self._exact = {param(name): name for name in self._names}
        self._built: dict[tuple[type, Hashable], tuple[str, tuple[_Slot, ...]]] = {}
        self._lock = threading.Lock()

    def sql(self, shape: Hashable, values: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL of ``shape`` on the bound database and its parameters from ``values``."""
        key = (type(database.obj), shape)
        built = self._built.get(key)
        if built is None:
            text, params = self._build(shape).sql()
            built = (text, tuple(_slot(value, self._names, self._exact) for value in params))
            with self._lock:
                if len(self._built) >= MAX_SHAPES:
                    self._built.clear()
                self._built[key] = built
        text, slots = built
        return text, [slot.value(values) for slot in slots]

    def rows(self, model: type[peewee.Model], shape: Hashable, values: dict[str, Any]) -> list[Any]:
        """The rows as ``model`` instances (extra selected columns become attributes)."""
        text, params = self.sql(shape, values)
        return list(model.raw(text, *params))
