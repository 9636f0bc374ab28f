"""Connexion's security handlers with the security function's signature inspected once."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from connexion.security import SECURITY_HANDLERS
from connexion.utils import inspect_function_arguments


@functools.lru_cache(maxsize=256)
def _accepts_kwarg(func: Callable[..., Any], keyword: str) -> bool:
    """`AbstractSecurityHandler._accepts_kwarg`, remembered: Connexion re-inspects the security
    function's signature twice per request (~6 % of a GET), though the function never changes."""
    arguments, has_kwargs = inspect_function_arguments(func)
    return bool(has_kwargs or keyword in arguments)


@functools.cache
def _with_cached_signature(cls: type) -> type:
    members = {"_accepts_kwarg": staticmethod(_accepts_kwarg), "__module__": cls.__module__}
    return type(cls.__name__, (cls,), members)


def security_map(overrides: Mapping[str, type]) -> dict[str, type]:
    """Connexion's security handlers with ``overrides`` on top (the app's ``security_map``), each
    with `_accepts_kwarg` remembered."""
    return {name: _with_cached_signature(cls) for name, cls in {**SECURITY_HANDLERS, **overrides}.items()}
