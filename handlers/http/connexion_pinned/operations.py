"""Handler operations built once: the decorated handler, its parameter decorator, the thread hop.

See the package docstring; each class names the Connexion method it replaces.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import receive as context_receive
from connexion.context import scope as context_scope
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import (
    AsyncParameterDecorator,
    prep_kwargs,
    pythonic,
    sanitized,
    unwrap_decorators,
)
from connexion.http_facts import FORM_CONTENT_TYPES
from connexion.operations import AbstractOperation
from connexion.utils import inspect_function_arguments

from handlers.http import handler_threads

# Parameter names to handler argument names (camelCase to snake_case by inflection's regexes, then
# sanitized): Connexion recomputes them for every parameter of every request, ~5 % of a list's CPU
# (bench.profile). The answer depends on the name alone, and strict validation has refused any
# name the spec does not declare by then; bounded all the same.
_SANITIZERS: dict[Callable[[str], str], Callable[[str], str]] = {
    fn: functools.lru_cache(maxsize=4096)(fn) for fn in (pythonic, sanitized)
}


class CachedNamesParameterDecorator(AsyncParameterDecorator):
    """`AsyncParameterDecorator` whose name sanitizer remembers its answers, and which asks for
    uploaded files only when the body is a form (the parent's ``__call__`` otherwise)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        given: Callable[[str], str] = getattr(self, "sanitize_fn")  # noqa: B009 (untyped upstream)
        self.sanitize_fn = _SANITIZERS.get(given, given)

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        arguments, has_kwargs = inspect_function_arguments(unwrap_decorators(function))

        @functools.wraps(function)
        async def wrapper(request: Any) -> Any:
            request_body = self._maybe_get_body(request, arguments=arguments, has_kwargs=has_kwargs)
            while asyncio.iscoroutine(request_body):
                request_body = await request_body
            # Starlette parses a form (and Connexion splits out its files) only for these two
            # media types; for any other body (JSON, none at all) the parent's ``await
            # request.files()`` builds an empty form to find no files in it.
            files = await request.files() if request.mimetype in FORM_CONTENT_TYPES else {}
            kwargs = prep_kwargs(
                request,
                request_body=request_body,
                files=files,
                arguments=arguments,
                has_kwargs=has_kwargs,
                sanitize=self.sanitize_fn,
            )
            return await function(**kwargs)

        return wrapper


class CachedNamesStarletteDecorator(StarletteDecorator):
    @property
    def _parameter_decorator_cls(self) -> type[AsyncParameterDecorator]:
        return CachedNamesParameterDecorator

    @property
    def _sync_async_decorator(self) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """The parent's, with a sync handler run by `handler_threads` instead of anyio's
        `to_thread.run_sync` (Starlette's `run_in_threadpool`): same context copy, less work."""

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            threads = handler_threads.pool()
            is_async = asyncio.iscoroutinefunction(function)

            @functools.wraps(function)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                if is_async:
                    return await function(*args, **kwargs)
                return await threads.run(function, *args, **kwargs)

            return wrapper

        return decorator


class CachedAsyncOperation(AsyncOperation):
    """`AsyncOperation` whose decorated handler is built once, not on every request."""

    @functools.cached_property
    def fn(self) -> Callable[..., Any]:
        decorator = CachedNamesStarletteDecorator(
            pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )
        decorated = decorator.decorate(self._fn)
        framework = decorator.framework
        parsers: list[Any] = []  # the URI parser needs the operation context: built on first use

        @functools.wraps(self._fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not parsers:
                parsers.append(decorator.uri_parser)
            request = framework.get_request(
                uri_parser=parsers[0], scope=context_scope, receive=context_receive
            )
            return await decorated(request)

        return wrapper


class CachedAsyncApi(AsyncApi):
    def make_operation(self, operation: AbstractOperation) -> AsyncOperation:
        return CachedAsyncOperation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )
