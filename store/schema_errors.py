"""JSON-schema errors as the field errors a client can act on.

Shared by the HTTP validators (`handlers.http.validation`) and by the store's own checks of data
that never passes through Connexion's body validation (import rows: `store.leads.schema`), so
both speak the same messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema import ValidationError

from store.errors import FieldError


def _path(error: ValidationError) -> str:
    parts: list[str] = []
    for part in error.absolute_path:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{part}]"]
        else:
            parts.append(str(part))
    return ".".join(parts)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def explain(error: ValidationError) -> list[FieldError]:
    """One jsonschema error as the field errors a client can act on."""
    path, kind, spec = _path(error), error.validator, error.validator_value
    if kind == "required":
        missing = error.message.split("'")[1]
        return [FieldError(_join(path, missing), "Is required")]
    if kind == "additionalProperties":
        extra = set(error.instance) - set(error.schema.get("properties", {}))
        return [FieldError(_join(path, name), "Unknown or read-only field") for name in sorted(extra)]
    if kind in ("oneOf", "anyOf") and error.context:
        return _closest_branch(error)
    if kind == "not" and spec == {}:
        return [FieldError(path or "body", "Not allowed here")]
    if kind == "not" and isinstance(spec, dict) and list(spec) == ["required"]:
        # ``not: {required: [a, b]}``: mutually exclusive fields; name the later one.
        names = spec["required"]
        return [FieldError(_join(path, names[-1]), f"Send either {' or '.join(names)}, not both")]
    return [FieldError(path or "body", _message(kind, spec, error.message))]


def _closest_branch(error: ValidationError) -> list[FieldError]:
    """A ``oneOf``/``anyOf`` that matched no branch: explain the branch the body came closest to.

    Closest: fewest failed one-value ``enum``s on top-level fields (the body's kind, e.g. a
    key's ``type``), then fewest errors, then the first branch. When several branches matched
    (a ``oneOf`` broken by sending both of two alternatives), there is no sub-error to show.
    """
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)

    def rank(item: tuple[int, list[ValidationError]]) -> tuple[int, int, int]:
        index, errors = item
        kind_errors = sum(
            e.validator == "enum" and len(e.validator_value) == 1 and len(e.relative_path) == 1
            for e in errors
        )
        return kind_errors, len(errors), index

    _, closest = min(branches.items(), key=rank)
    found: list[FieldError] = []
    for sub in closest:
        found += [e for e in explain(sub) if e not in found]
    return found


def _message(kind: str, spec: Any, fallback: str) -> str:
    if kind == "format":
        return "Invalid email format" if spec == "email" else f"Must be a valid {spec}"
    if kind == "enum":
        return f"Must be one of: {', '.join(map(str, spec))}"
    if kind == "type":
        return f"Must be of type {spec if isinstance(spec, str) else ' or '.join(spec)}"
    templates = {
        "maxLength": "Must be at most {} characters",
        "minLength": "Must be at least {} characters",
        "minimum": "Must be at least {}",
        "maximum": "Must be at most {}",
        "maxItems": "Must have at most {} items",
        "minItems": "Must have at least {} items",
        "maxProperties": "Must have at most {} entries",
        "pattern": "Has an invalid format",
        "uniqueItems": "Must not contain duplicates",
        # jsonschema's own text for these quotes the client's value back: say what is allowed.
        "anyOf": "Has an invalid type or value",
        "oneOf": "Has an invalid type or value",
        "not": "Has a value that is not allowed",
    }
    return templates[kind].format(spec) if kind in templates else fallback


def collect(errors: Iterable[ValidationError]) -> list[FieldError]:
    found: list[FieldError] = []
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        found += [e for e in explain(error) if e not in found]
    return found
