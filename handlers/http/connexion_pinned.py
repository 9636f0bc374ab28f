"""Connexion operations built once per operation instead of once per request.

Connexion 3.3 rebuilds, on every request, work whose result depends only on the operation:
`AsyncOperation.fn` makes a new `StarletteDecorator`, whose wrapper re-runs ``decorate``
(re-inspecting the handler's signature) and a new URI parser; `RequestValidationOperation`
makes a new URI parser, a new parameter validator and a new body validator, and the body
validator compiles a new jsonschema validator each time it is used. Profiling Leadpipe under
``python -m bench.profile`` put that at roughly 5-10 % of the CPU per request (see
bench/RESULTS.md). These subclasses build the same objects once, lazily on an operation's first
request, and reuse them: none of them holds per-request state (the request, scope and operation
are read from Connexion's context variables at call time, exactly as before), so behaviour is
unchanged. Parameter names become argument names through a memo of Connexion's own function
(`CachedNamesParameterDecorator`).

They rely on Connexion internals (`AsyncOperation.fn`, `RequestValidationOperation.__call__`,
`BaseParameterDecorator.sanitize_fn`,
the body validators' ``_validator`` property, ``AsyncApp._middleware_app.api_cls``), read in
Connexion `WRITTEN_FOR`; pyproject pins ``<3.4``, and tests/handlers/http/test_connexion_pinned.py
fails as soon as the installed Connexion is another version, so whoever upgrades re-reads the
parent methods copied here before moving the pin.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import logging
from collections.abc import Callable, Mapping
from typing import Any

from connexion import AsyncApp, utils
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
from connexion.exceptions import UnsupportedMediaTypeProblem
from connexion.http_facts import FORM_CONTENT_TYPES
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.routing import RoutingAPI, RoutingMiddleware
from connexion.operations import AbstractOperation
from connexion.security import SECURITY_HANDLERS
from connexion.utils import inspect_function_arguments
from starlette._utils import get_route_path
from starlette.routing import Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from handlers.http import handler_threads

logger = logging.getLogger("connexion.middleware.validation")

# The Connexion release these subclasses were written against (and the default middleware stack
# `handlers.app.create_app` lists explicitly); see the module docstring.
WRITTEN_FOR = "3.3.0"


def installed_version() -> str:
    return importlib.metadata.version("connexion")


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


@functools.cache
def _with_cached_schema_validator(cls: type) -> type:
    """A subclass of a body validator whose compiled jsonschema validator is kept, not rebuilt."""
    prop = cls.__dict__.get("_validator") or next(
        (klass.__dict__["_validator"] for klass in cls.__mro__ if "_validator" in klass.__dict__), None
    )
    if not isinstance(prop, property) or prop.fget is None:
        return cls
    cached = functools.cached_property(prop.fget)
    return type(cls.__name__, (cls,), {"_validator": cached, "__module__": cls.__module__})


class CachedRequestValidationOperation(RequestValidationOperation):
    """`RequestValidationOperation` with its URI parser and validators built once.

    The body validator is keyed by (mime type, encoding), the two request-dependent inputs of
    its constructor. The flow below is the parent's `__call__`, line for line otherwise.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parameter_validator: Any = None
        self._body_validators: dict[tuple[str, str], Any] = {}

    def _parameters(self) -> Any:
        if self._parameter_validator is None:
            uri_parser = self._operation._uri_parser_class(
                self._operation.parameters, self._operation.body_definition()
            )
            self._parameter_validator = self._validator_map["parameter"](
                self._operation.parameters,
                uri_parser=uri_parser,
                strict_validation=self.strict_validation,
                security_query_params=self.security_query_params,
            )
        return self._parameter_validator

    def _body(self, schema: dict[str, Any], mime_type: str, encoding: str) -> Any:
        key = (mime_type, encoding)
        if key not in self._body_validators:
            try:
                body_validator = self._validator_map["body"][mime_type]
            except KeyError:
                self._body_validators[key] = None
            else:
                self._body_validators[key] = _with_cached_schema_validator(body_validator)(
                    schema=schema,
                    required=self._operation.request_body.get("required", False),
                    nullable=utils.is_nullable(self._operation.body_definition(mime_type)),
                    encoding=encoding,
                    strict_validation=self.strict_validation,
                    uri_parser=self._operation.uri_parser_class(
                        self._operation.parameters, self._operation.body_definition()
                    ),
                )
        return self._body_validators[key]

    def _require_content_type(self, scope: Scope) -> None:
        """A body without ``Content-Type`` is 415, not a guess.

        Connexion validates such a body as the operation's first media type but then hands the
        handler raw bytes (a 500 in the handler); a client that forgot the header must be told.
        A request with no body at all passes on, so a required body is still reported as missing.
        """
        if not self._operation.request_body:
            return
        headers = dict(scope.get("headers", []))
        if b"content-type" in headers:
            return
        length = headers.get(b"content-length")
        if (length is not None and length.strip() not in (b"", b"0")) or b"transfer-encoding" in headers:
            raise UnsupportedMediaTypeProblem(
                detail=f"Content-Type is required, one of {self._operation.consumes}"
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._parameters().validate(scope)
        self._require_content_type(scope)

        mime_type, encoding = self.extract_content_type(scope["headers"])
        self.validate_mime_type(mime_type)

        schema = self._operation.body_schema(mime_type)
        if schema:
            validator = self._body(schema, mime_type, encoding)
            if validator is None:
                logger.info(f"Skipping validation. No validator registered for content type: {mime_type}.")
            else:
                receive, scope = await validator.wrap_receive(receive, scope=scope)

        await self.next_app(scope, receive, send)


class CachedRequestValidationAPI(RequestValidationAPI):
    def make_operation(self, operation: AbstractOperation) -> RequestValidationOperation:
        return CachedRequestValidationOperation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class CachedRequestValidationMiddleware(RequestValidationMiddleware):
    """Request validation with `CachedRequestValidationAPI`; `handlers.app.create_app` lists it
    where Connexion's default stack has `RequestValidationMiddleware`."""

    api_cls = CachedRequestValidationAPI


class IndexedRouter(Router):
    """A Starlette `Router` that finds a full match without trying every route on the way.

    Starlette tries each route in order (a regex, a dict, a path-params copy each), ~6 % of a
    GET's CPU on our ~50 operations. The first route to match fully is the first *plain*
    `Route` whose methods include the request's and whose regex matches: a route of another
    method can only match partially, which matters only when nothing matches fully. So this
    tries, per method, only those routes, in their order, and hands the winner to Starlette's
    own `Route.matches`/`handle`; no full match (a 405, a redirect, a 404) or any route that is
    not a plain `Route` goes to the parent's `app` unchanged.
    """

    _index: dict[str, list[tuple[Any, Route]]] | None = None
    _indexed_routes = -1

    def _candidates(self, method: str) -> list[tuple[Any, Route]] | None:
        if self._indexed_routes != len(self.routes):  # routes are added at startup only
            plain = all(type(route) is Route for route in self.routes)
            self._index = {} if plain else None
            self._indexed_routes = len(self.routes)
        if self._index is None:
            return None
        candidates = self._index.get(method)
        if candidates is None:
            candidates = [
                (route.path_regex, route)
                for route in self.routes
                if isinstance(route, Route) and (route.methods is None or method in route.methods)
            ]
            self._index[method] = candidates
        return candidates

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            candidates = self._candidates(scope["method"])
            if candidates is not None:
                path = get_route_path(scope)
                for regex, route in candidates:
                    if regex.match(path):
                        match, child_scope = route.matches(scope)
                        if match is Match.FULL:
                            scope.setdefault("router", self)
                            scope["route"] = route
                            scope.update(child_scope)
                            await route.handle(scope, receive, send)
                            return
                        break
        await super().app(scope, receive, send)


class IndexedRoutingAPI(RoutingAPI):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stock: Router = getattr(self, "router")  # noqa: B009 (set by the untyped parent)
        self.router = IndexedRouter(routes=stock.routes, default=stock.default)


class IndexedRoutingMiddleware(RoutingMiddleware):
    """`RoutingMiddleware` whose API routers are `IndexedRouter`s; `add_api` is the parent's."""

    def add_api(
        self,
        specification: Any,
        base_path: str | None = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        api = IndexedRoutingAPI(
            specification, base_path=base_path, arguments=arguments, next_app=self.app, **kwargs
        )
        for route in self.router.routes:
            if isinstance(route, Mount) and route.path == api.base_path:
                route.app.default = api.router  # type: ignore[attr-defined]
        self.router.mount(api.base_path, app=api.router)


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


def middlewares() -> list[Any]:
    """Connexion's default middleware stack with request validation and routing swapped for ours."""
    swapped: dict[Any, Any] = {
        RequestValidationMiddleware: CachedRequestValidationMiddleware,
        RoutingMiddleware: IndexedRoutingMiddleware,
    }
    return [swapped.get(m, m) for m in ConnexionMiddleware.default_middlewares]


def install(app: AsyncApp) -> None:
    """Make ``app`` build its handler operations once; call before ``add_api``."""
    app._middleware_app.api_cls = CachedAsyncApi
