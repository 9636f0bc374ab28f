"""Schemathesis fuzzes every operation of the running app against its own spec.

Every response is checked for server errors, undeclared status codes, content types, headers
and schema conformance; negative (schema-violating) requests must be rejected, and
schema-valid ones accepted. Some values are valid only by meaning, which no schema can say: a
cursor must be one the server issued, a webhook URL one the server accepts (no SSRF target),
``assignedTo`` must name a user of the tenant, a key's
``expiresAt`` must lie in the future and its scopes must suit its type, and text must be
storable Unicode (no NUL, no lone surrogates: PostgreSQL cannot hold them). For schema-valid cases
only, the hook below makes those values meaningful; negative cases keep whatever the fuzzer
made. Each of those rules has its own explicit test in tests/handlers.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode

from tests.support import SeededTenant, make_tenant


@pytest.fixture(scope="module")
def fuzz_tenant(app: Any) -> SeededTenant:
    return make_tenant("enterprise")


@pytest.fixture(scope="module")
def api_schema(app: Any, fuzz_tenant: SeededTenant) -> Any:
    loaded = schemathesis.openapi.from_asgi("/v1/openapi.json", app)

    @loaded.hook
    def map_case(context: Any, case: Any) -> Any:
        if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
            return case
        if isinstance(case.query, dict):
            case.query.pop("cursor", None)
            if "assignedTo" in case.query:
                case.query["assignedTo"] = fuzz_tenant.owner_id
        if case.media_type == "text/csv":  # a CSV import must name known columns in its header
            case.body = "email,firstName,lastName\nfuzz@example.com,Fuzz,Case\n"
        case.body = _storable(case.body)
        if isinstance(case.body, dict):
            _make_meaningful(case.operation.path, case.body, fuzz_tenant)
        return case

    return loaded


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return "".join(c for c in value if c != "\x00" and not 0xD800 <= ord(c) <= 0xDFFF)
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _make_meaningful(path: str, body: dict[str, Any], tenant: SeededTenant) -> None:
    if isinstance(body.get("customFields"), dict):  # keys <= 100 chars (x-propertyNames)
        body["customFields"] = {k[:100]: v for k, v in body["customFields"].items()}
    if body.get("assignedTo") is not None:
        body["assignedTo"] = tenant.owner_id
    if body.get("expiresAt") is not None:
        body["expiresAt"] = "2999-01-01T00:00:00Z"
    if path in ("/webhook-endpoints", "/webhook-endpoints/{endpointId}"):
        # A destination must be one the server accepts (https, a host name): SSRF rules are
        # meaning, not schema (tests/store/webhooks/test_ssrf.py). `fields` needs lead.updated.
        if "url" in body:
            body["url"] = "https://hooks.example.com/fuzz"
        if body.get("fields") and "events" in body:
            body["events"] = ["lead.updated"]
        elif body.get("fields"):
            body.pop("fields")
    if path == "/api-keys":
        field = "permissions" if "permissions" in body else "scopes"
        body.pop("scopes" if field == "permissions" else "permissions", None)
        if body.get("type") == "publishable":
            body[field] = ["capture:leads"]
        else:
            body[field] = [s for s in body.get(field) or [] if s != "capture:leads"] or ["read:leads"]
            body.pop("allowedOrigins", None)  # publishable keys only


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_spec(case: Any, fuzz_tenant: SeededTenant) -> None:
    case.call_and_validate(headers={"X-API-Key": fuzz_tenant.live_key})
