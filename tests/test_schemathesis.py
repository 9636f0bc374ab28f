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

import contextlib
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky

from tests.schemathesis_hooks import meaningful
from tests.support import SeededTenant, make_tenant


@pytest.fixture(scope="module")
def fuzz_tenant(app: Any) -> SeededTenant:
    return make_tenant("enterprise")


@pytest.fixture(scope="module")
def api_schema(app: Any, fuzz_tenant: SeededTenant) -> Any:
    loaded = schemathesis.openapi.from_asgi("/v1/openapi.json", app)

    @loaded.hook
    def map_case(context: Any, case: Any) -> Any:
        # The shipped hooks (schemathesis.toml) already ran; here assignees can be real users.
        return meaningful(case, assignee=fuzz_tenant.owner_id)

    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_spec(case: Any, fuzz_tenant: SeededTenant) -> None:
    case.call_and_validate(headers={"X-API-Key": fuzz_tenant.live_key})


def _declared_links(raw: dict[str, Any]) -> set[str]:
    """Every link of the spec, named as Schemathesis names a transition."""
    declared: set[str] = set()
    targets = {
        op["operationId"]: f"{method.upper()} {path}"
        for path, item in raw["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    links = raw["components"].get("links", {})
    for path, item in raw["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, response in op["responses"].items():
                for name, link in (response.get("links") or {}).items():
                    target = targets[links[link["$ref"].rpartition("/")[2]]["operationId"]]
                    declared.add(f"{method.upper()} {path} -> [{status}] {name} -> {target}")
    return declared


def test_stateful_links(api_schema: Any, fuzz_tenant: SeededTenant) -> None:
    """The stateful phase: chains of calls that follow the spec's links (create -> get ->
    patch -> history -> delete, key -> rotate -> revoke, ...), every check on every step.

    The steps share a live database, so Hypothesis may see a replay go another way (a second
    create of the same email answers differently) and call the run flaky: like Schemathesis'
    own runner, such a round is retried. Every check failure is recorded as it happens, so a
    flaky replay cannot hide one.
    """
    declared = _declared_links(api_schema.raw_schema)
    # Only the spec's own links: inferred ones (`st run` keeps them) would outnumber them 4 to 1
    # and leave a three-step chain (create endpoint -> test -> its event) mostly unvisited.
    api_schema.config.phases.stateful.inference.algorithms = []
    followed: set[str] = set()
    failures: list[str] = []
    base = api_schema.as_state_machine()

    class Workflow(base):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            # The fuzz key is the one credential: a generated bearer token or acting-as user
            # would end most chains at 401/403 before they reach the links (the fuzzing
            # test above sends them and checks those answers).
            if case.headers is not None:
                for name in ("Authorization", "X-On-Behalf-Of"):
                    case.headers.pop(name, None)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"X-API-Key": fuzz_tenant.live_key}}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            try:
                super().validate_response(response, case, **kwargs)
            except Exception as exc:
                failures.append(f"{case.operation.label} -> {response.status_code}: {exc!r}"[:2000])
                raise

        def step(self, input: Any) -> Any:
            output = super().step(input)
            if input.transition is not None and input.is_applied:
                followed.add(input.transition.id)
            return output

    for _ in range(ROUNDS):
        with contextlib.suppress(Flaky):
            Workflow.run(settings=STATEFUL_SETTINGS)
        assert not failures, failures[0]
        if declared <= followed:
            break
    covered = followed & declared
    print(f"\nstateful phase: followed {len(covered)} of {len(declared)} declared links")
    assert declared, "the spec declares links"
    assert covered == declared, f"links never followed: {sorted(declared - followed)}"


ROUNDS = 10
STATEFUL_SETTINGS = settings(
    max_examples=80,
    stateful_step_count=6,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
)
