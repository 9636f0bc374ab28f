"""Schemathesis hooks for contract-testing Leadpipe; ``schemathesis.toml`` loads them.

CI users can reuse them as they are: ``st run <server>/v1/openapi.json -H "X-API-Key: ..."``
from the repository root picks up schemathesis.toml and these hooks. They touch schema-valid
(positive) cases only, and only where a value is valid by *meaning*, which no schema can say:

- ``cursor`` must be one the server issued (a random string is a ``400``): dropped.
- ``assignedTo`` must name a user of the caller's tenant: null in bodies, dropped from filters.
- an API key's ``expiresAt`` must lie in the future: set to 2999.
- a CSV import's header must name ``email``, ``firstName`` and ``lastName``: a small valid file.
- ``customFields`` keys are at most 100 characters (``x-propertyNames``, enforced by the server).
- a webhook endpoint's ``url`` must pass the SSRF rules (https, public host): a fixed public URL.
- a captured lead needs ``name``, or ``firstName`` and ``lastName``: the missing one filled in.
- a webhook endpoint's stored ``fields`` need ``lead.updated`` among its ``events``: a change of
  ``events`` alone clears ``fields``.
- ``If-Match`` must name the lead's current ``ETag`` (else ``412``): ``*`` (the lead exists).
- text must be storable Unicode (no NUL, no lone surrogates; PostgreSQL cannot hold them).

Negative (schema-violating) cases are left exactly as the fuzzer made them. The same rules have
their own explicit tests in tests/handlers.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.generation import GenerationMode

VALID_CSV = "email,firstName,lastName\nfuzz@example.com,Fuzz,Case\n"


def storable(value: Any) -> Any:
    if isinstance(value, str):
        return "".join(c for c in value if c != "\x00" and not 0xD800 <= ord(c) <= 0xDFFF)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def meaningful(case: Any, assignee: str | None = None) -> Any:
    """``case`` with the meaning-only values made valid (positive cases only)."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return case
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)
        if "assignedTo" in case.query:
            if assignee is None:
                case.query.pop("assignedTo")
            else:
                case.query["assignedTo"] = assignee
    if case.headers is not None and "If-Match" in case.headers:  # a CaseInsensitiveDict
        case.headers["If-Match"] = "*"
    if case.media_type in ("text/csv", "multipart/form-data"):
        case.body = VALID_CSV if case.media_type == "text/csv" else {"file": VALID_CSV.encode()}
    case.body = storable(case.body)
    if isinstance(case.body, dict):
        if case.body.get("assignedTo") is not None:
            case.body["assignedTo"] = assignee
        if case.body.get("expiresAt") is not None:
            case.body["expiresAt"] = "2999-01-01T00:00:00Z"
        if isinstance(case.body.get("customFields"), dict):  # keys <= 100 chars (x-propertyNames)
            case.body["customFields"] = {k[:100]: v for k, v in case.body["customFields"].items()}
        if case.operation.path in ("/webhook-endpoints", "/webhook-endpoints/{endpointId}"):
            _webhook_destination(case.body)
        if case.operation.path == "/public/leads" and not str(case.body.get("name") or "").strip():
            for field, filler in (("firstName", "Fuzz"), ("lastName", "Case")):
                if not str(case.body.get(field) or "").strip():
                    case.body[field] = filler
    return case


def _webhook_destination(body: dict[str, Any]) -> None:
    """A destination the server accepts (https, a public host name: the SSRF rules are meaning,
    not schema), and ``fields`` only beside ``lead.updated``."""
    if "url" in body:
        body["url"] = "https://hooks.example.com/fuzz"
    if body.get("fields") and "events" in body:
        body["events"] = ["lead.updated"]
    elif body.get("fields"):
        body.pop("fields")
    elif "events" in body and "fields" not in body and not {"*", "lead.updated"} & set(body["events"]):
        body["fields"] = None  # an endpoint's stored fields would no longer apply


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    return meaningful(case)
