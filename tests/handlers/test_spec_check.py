"""`handlers.spec_check` (run by ``tox -e spec``): the shipped spec passes, and each kind of drift
between spec and code it exists to catch is named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from handlers.app import load_spec
from handlers.spec_check import unresolved


def test_the_shipped_spec_resolves_completely() -> None:
    assert unresolved() == []


def _broken(change: str) -> dict[str, Any]:
    spec = copy.deepcopy(load_spec())
    operation = spec["paths"]["/leads/{leadId}"]["get"]
    schemes = spec["components"]["securitySchemes"]
    if change == "operationId":
        operation["operationId"] = "get_no_such_lead"
    elif change == "apikey function":
        schemes["apiKey"]["x-apikeyInfoFunc"] = "handlers.http.security.no_such_function"
    elif change == "bearer module":
        schemes["bearer"]["x-bearerInfoFunc"] = "handlers.no_such_module.bearer_auth"
    elif change == "scopes on requirement":
        operation["security"] = [{"apiKey": ["read:leads"]}]
    elif change == "no x-scopes":
        del operation["x-scopes"]
    return spec


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("operationId", "get_no_such_lead"),
        ("apikey function", "no_such_function"),
        ("bearer module", "no_such_module"),
        ("scopes on requirement", "move them to x-scopes"),
        ("no x-scopes", "declares no x-scopes"),
    ],
)
def test_each_drift_is_named(change: str, named: str) -> None:
    problems = unresolved(_broken(change))
    assert len(problems) == 1 and named in problems[0], problems
