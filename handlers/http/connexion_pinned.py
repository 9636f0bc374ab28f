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

import functools
import importlib.metadata
import logging
from collections.abc import Callable
from typing import Any

from connexion import AsyncApp, utils
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import receive as context_receive
from connexion.context import scope as context_scope
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import AsyncParameterDecorator, pythonic, sanitized
from connexion.exceptions import UnsupportedMediaTypeProblem
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.operations import AbstractOperation
from starlette.types import Receive, Scope, Send

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
    """`AsyncParameterDecorator` whose name sanitizer remembers its answers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        given: Callable[[str], str] = getattr(self, "sanitize_fn")  # noqa: B009 (untyped upstream)
        self.sanitize_fn = _SANITIZERS.get(given, given)


class CachedNamesStarletteDecorator(StarletteDecorator):
    @property
    def _parameter_decorator_cls(self) -> type[AsyncParameterDecorator]:
        return CachedNamesParameterDecorator


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


def middlewares() -> list[Any]:
    """Connexion's default middleware stack with request validation swapped for the cached one."""
    return [
        CachedRequestValidationMiddleware if m is RequestValidationMiddleware else m
        for m in ConnexionMiddleware.default_middlewares
    ]


def install(app: AsyncApp) -> None:
    """Make ``app`` build its handler operations once; call before ``add_api``."""
    app._middleware_app.api_cls = CachedAsyncApi
