"""Leads in CSV: how an import file's header and cells map to lead fields, and the cell rules
the export (`handlers.api.exports`) shares with it.

Import files:
- UTF-8 (an Excel byte-order mark is fine; other encodings are refused at upload), comma-
  separated, RFC 4180 quoting, strictly (a stray quote stops the import at its row); the first
  record is the header. Row numbers count records as a spreadsheet shows them: header = row 1.
- Header names are the fields of ``LeadCreate`` in camelCase or snake_case, case-insensitively
  (``firstName``, ``first_name``, ``FirstName``). ``email``, ``firstName`` and ``lastName`` are
  required. ``customFields.<key>`` (or ``custom_fields.<key>``) columns set one custom field
  each, as text. Any other column (including read-only ones such as ``id`` or ``createdAt``)
  is an error: nothing is silently dropped.
- An empty cell means "not given" (never ``null``), so a sparse sheet does not clear fields.
  ``score`` is an integer; ``tags`` are separated by ``;``; ``customFields`` is a JSON object.
- A cell the export protected against formula injection (a single quote before ``=``, ``+``,
  ``-``, ``@``, tab or carriage return) has that quote removed, so an export imports back as is.
- A record whose cells are all empty is skipped; cells beyond the header are an error.
- A cell longer than `csv.field_size_limit()` (131,072 characters) is an error of its row; the
  rest of the file is imported (`records`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from store.errors import FieldError
from store.leads import schema as lead_schema
from store.leads.rules import MAX_CUSTOM_FIELD_KEY_LENGTH

TAG_SEPARATOR = ";"
# Spreadsheet applications evaluate a cell starting with one of these as a formula (OWASP "CSV
# injection"); the export prefixes such cells with a single quote.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CUSTOM_PREFIX = "customfields."
# A header name is echoed in its error's field, cut to this: a column may be megabytes long.
MAX_NAME_IN_ERROR = 120
_SCORE = re.compile(r"^\s*\d{1,3}\s*$")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


@dataclass(frozen=True)
class Column:
    field: str  # camelCase name in LeadCreate, or "customFields"
    custom_key: str | None = None  # for customFields.<key> columns


def parse_header(names: Sequence[str]) -> list[Column] | list[FieldError]:
    """The header's columns, or one error per bad column (field ``header.<name>``)."""
    known = {_key(name): name for name in lead_schema.properties()}
    columns: list[Column] = []
    errors: list[FieldError] = []
    for raw in names:
        name = raw.strip()
        key = _key(name)
        if key.startswith(CUSTOM_PREFIX):
            column = Column("customFields", name.split(".", 1)[1].strip())
            if not column.custom_key:
                errors.append(FieldError(f"header.{name}", "A custom field column needs a key"))
            elif len(column.custom_key) > MAX_CUSTOM_FIELD_KEY_LENGTH:
                errors.append(
                    FieldError(
                        f"header.{name[:MAX_NAME_IN_ERROR]}",
                        f"A custom field key must be at most {MAX_CUSTOM_FIELD_KEY_LENGTH} characters",
                    )
                )
                continue
        elif key in known:
            column = Column(known[key])
        else:
            errors.append(FieldError(f"header.{name[:MAX_NAME_IN_ERROR]}", "Unknown or read-only column"))
            continue
        if column in columns:
            errors.append(FieldError(f"header.{name[:MAX_NAME_IN_ERROR]}", "Column given more than once"))
        columns.append(column)
    present = {column.field for column in columns}
    errors += [
        FieldError(f"header.{name}", "Required column is missing")
        for name in lead_schema.required()
        if name not in present
    ]
    return errors if errors else columns


def unguard(cell: str) -> str:
    """Undo the export's formula-injection guard."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in FORMULA_TRIGGERS else cell


def guard(cell: str) -> str:
    """Neutralize a cell a spreadsheet would evaluate as a formula."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def _value(field: str, cell: str) -> tuple[Any, FieldError | None]:
    if field == "score":
        return (int(cell), None) if _SCORE.match(cell) else (cell, None)  # the schema explains
    if field == "tags":
        return [tag.strip() for tag in cell.split(TAG_SEPARATOR) if tag.strip()], None
    if field == "customFields":
        try:
            parsed = json.loads(cell)
        except ValueError:
            parsed = None
        except RecursionError:  # thousands of nested brackets: this row's error, not the job's
            return None, FieldError("customFields", "Must be a JSON object (this one is nested too deeply)")
        if not isinstance(parsed, dict):
            return None, FieldError("customFields", "Must be a JSON object")
        return parsed, None
    return cell, None


def records(reader: Iterator[list[str]]) -> Iterator[list[str] | FieldError]:
    """The reader's records; an over-long cell yields its row's error instead of ending the file.

    ``csv`` raises for a field over its limit and drops the rest of that line; the next call
    starts afresh at the next line, so the reading goes on. (An over-long *quoted* cell spanning
    several lines leaves its remaining lines to be read as records, which then fail their own
    checks or stop the import as malformed: they can never be silently imported as good rows.)
    """
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" not in str(exc):
                raise
            yield FieldError("row", f"A cell is longer than {csv.field_size_limit()} characters")
            continue
        yield cells


def to_item(columns: Sequence[Column], cells: Sequence[str]) -> dict[str, Any] | list[FieldError] | None:
    """One record as a camelCase lead object, its cell-level errors, or None for a blank record."""
    if not any(cell.strip() for cell in cells):
        return None
    if any(cell.strip() for cell in cells[len(columns) :]):
        return [FieldError("row", f"Has more cells than the header's {len(columns)} columns")]
    item: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    errors: list[FieldError] = []
    for column, raw in zip(columns, cells, strict=False):
        cell = unguard(raw)
        if cell == "":
            continue
        if column.custom_key is not None:
            custom[column.custom_key] = cell
            continue
        value, error = _value(column.field, cell)
        if error is not None:
            errors.append(error)
        else:
            item[column.field] = value
    if custom:
        item["customFields"] = {**item.get("customFields", {}), **custom}
    return errors if errors else item
