"""From the spec's operationIds to our functions: camelCase for clients, snake_case in Python."""

from __future__ import annotations

import re
from typing import Any

from connexion.resolver import Resolver
from connexion.utils import get_function_from_name


def snake_case_function(operation_id: str) -> Any:
    """``handlers.api.leads.createLead`` -> the function ``handlers.api.leads.create_lead``.

    Clients see idiomatic camelCase operationIds; Python keeps snake_case names. The app's
    resolver and `handlers.spec_check` both resolve through here, so the check cannot drift.
    """
    module, _, name = operation_id.rpartition(".")
    return get_function_from_name(f"{module}.{re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower()}")


def resolver() -> Resolver:
    return Resolver(function_resolver=snake_case_function)
