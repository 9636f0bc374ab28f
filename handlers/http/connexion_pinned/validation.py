"""Request validation built once per operation: its URI parser, parameter and body validators.

See the package docstring.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from connexion import utils
from connexion.exceptions import UnsupportedMediaTypeProblem
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.operations import AbstractOperation
from starlette.types import Receive, Scope, Send

logger = logging.getLogger("connexion.middleware.validation")


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
