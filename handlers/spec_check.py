"""Check that every operationId in the spec resolves to a handler function.

Run by ``tox -e spec``; Connexion would also fail at startup, but this names every missing
handler at once and is cheap enough for a pre-commit hook.
"""

from __future__ import annotations

from handlers.app import load_spec
from handlers.http.resolver import snake_case_function

METHODS = {"get", "post", "put", "patch", "delete"}


def unresolved() -> list[str]:
    spec = load_spec()
    missing: list[str] = []
    seen: set[str] = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            operation_id = operation["operationId"]
            if operation_id in seen:
                missing.append(f"{method.upper()} {path}: duplicate operationId {operation_id}")
            seen.add(operation_id)
            controller = operation.get("x-openapi-router-controller", "")
            try:
                snake_case_function(f"{controller}.{operation_id}")
            except (ImportError, AttributeError, ValueError) as exc:
                missing.append(f"{method.upper()} {path}: {controller}.{operation_id} ({exc})")
    return missing


def main() -> int:
    problems = unresolved()
    for problem in problems:
        print(problem)
    print(f"{len(problems)} unresolved operation(s)")
    return 1 if problems else 0
