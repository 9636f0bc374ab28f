"""camelCase (the API's JSON) <-> snake_case (the store's columns), for field names and paths.

In `handlers.http` because the error mapping names fields too (handlers.http must not import
handlers.api: layers point one way).
"""

from __future__ import annotations

import re
from typing import Any

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def to_snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def field_path_to_camel(path: str) -> str:
    """``custom_fields.role`` -> ``customFields.role``: only the top-level name is ours."""
    top, dot, rest = path.partition(".")
    return to_camel(top) + dot + rest


def snake_keys(body: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys only: nested objects such as ``customFields`` are client data."""
    return {to_snake(key): value for key, value in body.items()}
