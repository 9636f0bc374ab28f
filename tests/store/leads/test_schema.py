"""The import rows' schema check: the compiled twin agrees with the reference validator."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml

from store.leads import schema as lead_schema


@pytest.mark.parametrize(
    "item",
    [
        {"email": "a@b.test", "firstName": "A", "lastName": "B"},
        {"email": "a@b.test", "firstName": "A", "lastName": "B", "phone": None, "customFields": {"k": None}},
        {"email": "a@b.test", "firstName": "", "lastName": "B"},
        {"email": "no-at-sign", "firstName": "A", "lastName": "B"},
        {"email": "a@b.test", "firstName": "A", "lastName": "B", "score": 101},
        {"email": "a@b.test", "firstName": "A", "lastName": "B", "tags": ["x"] * 21},
        {"email": "a@b.test", "firstName": "A", "lastName": "B", "customFields": {"k": {"nested": 1}}},
        {"email": "a@b.test", "firstName": "A", "lastName": "B", "id": "x"},
        {"email": "a@b.test", "firstName": "é" * 100, "lastName": "B"},
        {"email": "a@b.test", "firstName": "é" * 101, "lastName": "B"},
    ],
)
def test_the_compiled_check_agrees_with_the_reference_validator(item: dict[str, Any]) -> None:
    reference = list(lead_schema._validator().iter_errors(item))
    assert lead_schema._fast_validator().is_valid(item) is (not reference)
    assert (lead_schema.item_errors(item) == []) is (not reference)


def test_the_spec_loads_alike_with_libyaml_and_pure_python() -> None:
    """`schema._LOADER` (libyaml's safe loader when built in) reads the spec as `yaml.safe_load` does."""
    text = (resources.files("openapi") / lead_schema.SPEC_FILE).read_text(encoding="utf-8")
    assert yaml.load(text, Loader=lead_schema._LOADER) == yaml.safe_load(text)
    assert lead_schema._LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
