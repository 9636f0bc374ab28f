"""Request validators that answer in our terms: every problem, field by field.

Connexion's stock validators stop at the first error and answer 400 problem+json. Ours collect
all errors and raise `store.errors.ValidationFailed` (422) with a field path per error, keep
400 for what cannot be parsed at all (bad JSON, non-UTF-8, a non-integer where an integer
belongs, a repeated scalar parameter), and answer 404 for a malformed path ID: such a resource
cannot exist.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import parse_qsl

from connexion.exceptions import BadRequestProblem
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionRequest
from connexion.utils import is_null, is_nullable
from connexion.validators import FormDataValidator, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from jsonschema.validators import extend
from starlette.types import Scope

from handlers.http.uploads import FormUploadValidator
from store.errors import BadRequest, FieldError, NotFound, ValidationFailed
from store.schema_errors import collect, explain  # shared with the store's checks of import rows


class RequestInvalid(ValidationFailed):
    """Schema errors name fields exactly as the client sent them (``first_name`` stays
    ``first_name``), so `handlers.http.errors` must not translate them to camelCase."""

    client_names = True


class RequestUnparseable(BadRequest):
    client_names = True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    """``1e400`` parses to infinity, which neither JSON nor the databases can hold."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of range")
    return value


def storable(value: Any) -> bool:
    """False if any string in ``value`` holds NUL or a lone surrogate.

    PostgreSQL refuses both (SQLite stores them), so they would surface as a 500 there; they
    are never meaningful in lead data. Iterative: bodies may nest as deep as JSON allows.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return True


def _property_names(validator: Any, names: dict[str, Any], instance: Any, _schema: Any) -> Any:
    """``x-propertyNames`` (the spec's stand-in for JSON Schema's ``propertyNames``, which
    OpenAPI 3.0 lacks): bounds the length of an object's keys, e.g. ``customFields``' keys.
    The message never quotes the key: it may be 100,000 characters long."""
    if not validator.is_type(instance, "object"):
        return
    limit = names.get("maxLength")
    if limit is not None and any(len(key) > limit for key in instance):
        yield ValidationError(f"Keys must be at most {limit} characters")


RequestSchemaValidator = extend(Draft4RequestValidator, {"x-propertyNames": _property_names})


class EnvelopeJSONBodyValidator(JSONRequestBodyValidator):
    @property
    def _validator(self) -> Any:
        return RequestSchemaValidator(self._schema, format_checker=Draft4Validator.FORMAT_CHECKER)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        try:
            text = raw.decode(self._encoding)
        except UnicodeDecodeError as exc:
            raise BadRequestProblem(detail="Request body is not valid UTF-8") from exc
        if not text.strip():
            return None
        try:
            body = json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
        except json.JSONDecodeError as exc:
            raise BadRequestProblem(detail=f"Malformed JSON: {exc.msg}") from exc
        except ValueError as exc:  # NaN/Infinity, 1e400, or an integer with thousands of digits
            raise BadRequestProblem(detail=f"Malformed JSON: {exc}") from exc
        except RecursionError as exc:
            raise BadRequestProblem(detail="Malformed JSON: nested too deeply") from exc
        if not storable(body):
            raise BadRequestProblem(
                detail="Malformed JSON: strings must be valid Unicode without NUL characters"
            )
        return body

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is None:
            if self._nullable:
                return None
            raise RequestInvalid([FieldError("body", "A JSON object body is required")])
        errors = collect(self._validator.iter_errors(body))
        if errors:
            raise RequestInvalid(errors)
        return None


class EnvelopeParameterValidator(ParameterValidator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Compiled once per operation (handlers.http.connexion_pinned builds validators once), not
        # per parameter per request.
        self._query_checkers = {
            p["name"]: Draft4Validator(p.get("schema", {}), format_checker=Draft4Validator.FORMAT_CHECKER)
            for p in self.parameters.get("query", [])
        }
        # Connexion's own path check deep-copies the parameter and compiles a validator per
        # request (a tenth of a GET's CPU under bench.profile); the same check, compiled once.
        self._path_checkers = [
            (p, Draft4Validator(p.get("schema", p), format_checker=Draft4Validator.FORMAT_CHECKER))
            for p in self.parameters.get("path", [])
        ]

    def validate_request(self, request: ConnexionRequest) -> None:
        path_params = request.path_params
        for param, checker in self._path_checkers:
            value = path_params.get(param["name"].replace("-", "_"))
            if is_nullable(param) and is_null(value):
                continue
            if (value is None and param.get("required")) or (
                value is not None and not checker.is_valid(value)
            ):
                raise NotFound("Resource not found")
        if not storable(list(request.path_params.values())):
            raise NotFound("Resource not found")

        query = request.query_params
        declared = {p["name"]: p for p in self.parameters.get("query", [])}
        unparseable: list[FieldError] = []
        invalid: list[FieldError] = []
        if self.strict_validation:
            invalid += [FieldError(name, "Unknown query parameter") for name in query if name not in declared]
        raw_pairs = parse_qsl(
            request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
        unparseable += [
            FieldError(name, "Must not contain NUL characters") for name, v in raw_pairs if "\x00" in v
        ]
        given = Counter(name for name, _ in raw_pairs)
        for name, param in declared.items():
            schema = param.get("schema", {})
            if schema.get("type") != "array" and given[name] > 1:
                unparseable.append(FieldError(name, "Must be given once"))
                continue
            value = query.get(name)
            if value is None:
                if param.get("required"):
                    invalid.append(FieldError(name, "Is required"))
                continue
            for error in self._query_checkers[name].iter_errors(value):
                target = unparseable if error.validator == "type" else invalid
                target += [FieldError(name, e.message) for e in explain(error)]
        if unparseable:
            raise RequestUnparseable("Malformed query parameters", unparseable)
        if invalid:
            raise RequestInvalid(invalid)

        for param in self.parameters.get("header", []):
            error = self.validate_header_parameter(param, request)
            if error:
                # Connexion's text is jsonschema's whole report; say it the way query errors do.
                name, value = param["name"], request.headers.get(param["name"])
                errors = Draft4Validator(param.get("schema", {})).iter_errors(value) if value else iter(())
                found = [e.message for err in errors for e in explain(err)]
                raise RequestInvalid([FieldError(name, message) for message in found or [error]])


class EnvelopeFormBodyValidator(FormDataValidator):
    """HTML form posts (public capture): every problem as a 422 field error, like JSON bodies.

    An HTML form sends every input, filled or not: an empty value means "not given", so it is
    left out before validation instead of failing a pattern or a format.
    """

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if not isinstance(body, dict):
            raise BadRequestProblem(detail="Malformed form body")
        if not storable(body):
            raise BadRequestProblem(detail="Form values must not contain NUL characters")
        given = {name: value for name, value in body.items() if value not in ("", None, [])}
        errors = collect(self._validator.iter_errors(given))
        if errors:
            raise RequestInvalid(errors)
        return None


VALIDATOR_MAP = {
    "body": {
        "application/json": EnvelopeJSONBodyValidator,
        "application/x-www-form-urlencoded": EnvelopeFormBodyValidator,
        # The CSV import's file upload: parsed once, spooled, never whole in memory.
        "multipart/form-data": FormUploadValidator,
    },
    "parameter": EnvelopeParameterValidator,
}
