"""The spec's ``LeadCreate`` schema, applied to import rows.

A bulk import must not fail as a whole because one row is bad, so its rows cannot be checked by
Connexion's request-body validation (that would reject the entire body). Each row is checked
here instead, against the very schema `POST /v1/leads` uses (read from ``openapi/leadpipe.yaml``,
the source of truth), with the same messages (`store.schema_errors`). The rules beyond the schema
stay in `store.leads.rules`, applied by `store.leads.lifecycle`.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

import jsonschema_rs
import yaml
from jsonschema import Draft4Validator

from store.errors import FieldError
from store.schema_errors import collect

SPEC_FILE = "leadpipe.yaml"
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _inline(node: Any, schemas: dict[str, Any]) -> Any:
    """Resolve local ``$ref``s and turn OpenAPI 3.0 ``nullable`` into a JSON-schema type list."""
    if isinstance(node, list):
        return [_inline(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(schemas[node["$ref"].rsplit("/", 1)[1]], schemas)
    result = {key: _inline(value, schemas) for key, value in node.items()}
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        result["type"] = [node["type"], "null"]
    return result


# libyaml's loader when PyYAML was built with it: the pure-Python one took 0.3-0.5 s of the first
# import (the whole spec is parsed for one schema). Both are safe loaders of the same documents.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _lead_create() -> dict[str, Any]:
    text = (resources.files("openapi") / SPEC_FILE).read_text(encoding="utf-8")
    schemas = yaml.load(text, Loader=_LOADER)["components"]["schemas"]
    schema: dict[str, Any] = _inline(schemas["LeadCreate"], schemas)
    return schema


@functools.cache
def _validator() -> Draft4Validator:
    return Draft4Validator(_lead_create(), format_checker=Draft4Validator.FORMAT_CHECKER)


@functools.cache
def _fast_validator() -> Any:
    """A compiled (Rust) twin of `_validator`: a bulk import checks every row, and most rows are
    fine. It only says yes or no; the messages of a bad row come from `_validator`, which stays
    the authority (a row the twin refuses but `_validator` accepts is accepted)."""
    return jsonschema_rs.Draft4Validator(_lead_create(), validate_formats=True)


def properties() -> tuple[str, ...]:
    """The camelCase field names a client may send when creating a lead."""
    return tuple(_lead_create()["properties"])


def required() -> tuple[str, ...]:
    return tuple(_lead_create().get("required", ()))


@functools.lru_cache(maxsize=1024)  # a handful of field names, converted for every imported row
def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def item_errors(item: Any) -> list[FieldError]:
    """Everything wrong with one lead object, field by field (camelCase paths, as sent)."""
    if not isinstance(item, dict):
        return [FieldError("item", "Must be a JSON object")]
    if _fast_validator().is_valid(item):
        return []
    return collect(_validator().iter_errors(item))


def to_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A checked camelCase lead object as the store's snake_case fields."""
    return {snake(name): value for name, value in item.items()}
