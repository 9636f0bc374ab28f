"""Every response documents an example, and every example in the spec fits its schema.

Examples are what a reader copies and what tools (Swagger UI, mock servers, Schemathesis'
examples phase) send or expect, so a stale one is a bug. Checked with OpenAPI 3.0 semantics
(``nullable``), against the same schemas the server validates with.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from handlers.app import load_spec

SPEC = load_spec()
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def resolve(node: Any) -> Any:
    """``node`` with every local ``$ref`` replaced by its target (the spec has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = SPEC
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(target)
        return {key: resolve(value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item) for item in node]
    return node


def media_types() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, media type object) for every request and response body of every operation."""
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            body = resolve(operation.get("requestBody", {}))
            for media, content in body.get("content", {}).items():
                yield f"{method.upper()} {path} request {media}", content
            for status, response in operation["responses"].items():
                for media, content in resolve(response).get("content", {}).items():
                    yield f"{method.upper()} {path} {status} {media}", content


def examples_of(content: dict[str, Any]) -> list[Any]:
    found = [content["example"]] if "example" in content else []
    return found + [example["value"] for example in content.get("examples", {}).values()]


CASES = list(media_types())


def test_every_response_with_a_body_has_an_example() -> None:
    missing = [where for where, content in CASES if " request " not in where and not examples_of(content)]
    assert not missing, missing


@pytest.mark.parametrize(("where", "content"), CASES, ids=[where for where, _ in CASES])
def test_examples_fit_their_schema(where: str, content: dict[str, Any]) -> None:
    schema = content.get("schema", {})
    for example in examples_of(content):
        errors = [e.message for e in OAS30Validator(schema).iter_errors(example)]
        assert not errors, f"{where}: {errors}"


def test_the_examples_check_can_fail() -> None:
    schema = resolve({"$ref": "#/components/schemas/LeadEnvelope"})
    example = resolve({"$ref": "#/components/examples/LeadEnvelope"})["value"]
    assert not list(OAS30Validator(schema).iter_errors(example))
    broken = {**example, "data": {**example["data"], "score": "high"}}
    assert list(OAS30Validator(schema).iter_errors(broken))
