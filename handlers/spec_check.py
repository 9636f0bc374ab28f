"""Check that every operationId in the spec resolves to a handler function, every security
scheme's ``x-*InfoFunc`` to a security function, and that every
secured operation names its scopes in ``x-scopes`` (never on the security requirement, which
OpenAPI 3.0 wants empty for apiKey/http schemes; `handlers.http.scopes` fails closed without).

Run by ``tox -e spec``; Connexion would also fail at startup, but this names every missing
handler at once and is cheap enough for a pre-commit hook.
"""

from __future__ import annotations

import importlib
from typing import Any

from handlers.app import load_spec
from handlers.http.resolver import snake_case_function
from handlers.http.scopes import EXTENSION

METHODS = {"get", "post", "put", "patch", "delete"}
# The scheme extensions through which Connexion imports a function by dotted path.
FUNCTION_EXTENSIONS = ("x-apikeyInfoFunc", "x-bearerInfoFunc", "x-basicInfoFunc", "x-tokenInfoFunc")


def unresolved(spec: dict[str, Any] | None = None) -> list[str]:
    spec = spec if spec is not None else load_spec()
    missing: list[str] = _scheme_problems(spec.get("components", {}).get("securitySchemes", {}))
    seen: set[str] = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            operation_id = operation["operationId"]
            if operation_id in seen:
                missing.append(f"{method.upper()} {path}: duplicate operationId {operation_id}")
            seen.add(operation_id)
            missing += _scope_problems(f"{method.upper()} {path}", operation, spec.get("security", []))
            controller = operation.get("x-openapi-router-controller", "")
            try:
                snake_case_function(f"{controller}.{operation_id}")
            except (ImportError, AttributeError, ValueError) as exc:
                missing.append(f"{method.upper()} {path}: {controller}.{operation_id} ({exc})")
    return missing


def _scheme_problems(schemes: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, scheme in schemes.items():
        for extension in FUNCTION_EXTENSIONS:
            if extension not in scheme:
                continue
            module, _, attribute = str(scheme[extension]).rpartition(".")
            try:
                found = getattr(importlib.import_module(module), attribute)
            except (ImportError, AttributeError, ValueError) as exc:
                problems.append(f"securityScheme {name}: {extension} {scheme[extension]} ({exc})")
                continue
            if not callable(found):
                problems.append(f"securityScheme {name}: {extension} {scheme[extension]} is not callable")
    return problems


def _scope_problems(where: str, operation: dict[str, Any], default: list[dict[str, Any]]) -> list[str]:
    requirements = operation.get("security", default)
    problems = [
        f"{where}: scopes listed on security requirement {scheme!r}; move them to x-scopes"
        for requirement in requirements
        for scheme, listed in requirement.items()
        if listed
    ]
    if any(requirements) and not isinstance(operation.get(EXTENSION), list):
        problems.append(f"{where}: secured but declares no {EXTENSION} (an empty list if none needed)")
    return problems


def main() -> int:
    problems = unresolved()
    for problem in problems:
        print(problem)
    print(f"{len(problems)} unresolved operation(s)")
    return 1 if problems else 0
