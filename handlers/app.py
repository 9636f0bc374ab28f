"""The application factory: everything is built here, nothing at import time."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from connexion import AsyncApp
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware

from handlers.api import imports
from handlers.console import mount as console
from handlers.http import connexion_pinned, errors, observe, rate_limit, security, served_spec
from handlers.http.body_limit import BodyLimit
from handlers.http.context import AppState
from handlers.http.limiter import Limiter
from handlers.http.request_context import RequestContext
from handlers.http.resolver import resolver
from handlers.http.validation import VALIDATOR_MAP
from handlers.settings import Settings
from handlers.store_setup import open_store
from store.pagination import CursorCodec

SPEC_DIR = Path(__file__).resolve().parent.parent / "openapi"
SPEC_FILE = "leadpipe.yaml"
BASE_PATH = "/v1"


def load_spec() -> dict[str, Any]:
    with open(SPEC_DIR / SPEC_FILE, encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.safe_load(handle)
    return spec


def create_app(settings: Settings) -> AsyncApp:
    logging.getLogger("leadpipe").setLevel(settings.log_level)
    # Connexion logs every 4xx at WARNING with the problem's detail; our envelope is the record.
    logging.getLogger("connexion.middleware.exceptions").setLevel(logging.ERROR)
    # It warns on every request to an operation with several body media types (the import's
    # JSON and CSV), though the right one is always chosen by Content-Type.
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)

    # Idempotent: under `leadpipe serve` the CLI has bound it already and job threads use it.
    open_store(settings)
    spec = load_spec()
    limiter = Limiter(settings.rate_limit_url)
    state = AppState(settings=settings, cursors=CursorCodec(settings.secret_keys), limiter=limiter)

    middlewares = [  # outermost first: each entry wraps every one below it, then the handler
        ServerErrorMiddleware,  # Connexion's last resort: a bare 500 if all else failed
        partial(RequestContext, state=state),  # request id, X-Request-ID, the app state, send hooks
        partial(observe.Observe, token=settings.metrics_token),  # metrics, access log; GET /metrics
        console.ConsoleStatic,  # /console/ static files, outside the API
        ExceptionMiddleware,  # every exception below becomes an envelope (handlers.http.errors)
        partial(  # 413 / 408 before anything reads a body
            BodyLimit,
            max_bytes=settings.max_body_bytes,
            routes=imports.body_limits(settings, BASE_PATH),
            timeout_seconds=settings.body_timeout_seconds,
        ),
        partial(served_spec.ServedSpec, spec=spec, base_path=BASE_PATH),  # the spec as written
        SwaggerUIMiddleware,  # /v1/ui/ (its spec URL is answered by ServedSpec above)
        connexion_pinned.IndexedRoutingMiddleware,  # names the operation (routes indexed by method)
        observe.ObserveRoute,  # notes the operation (and, later, who called) for metrics and logs
        partial(  # per client IP, before any key lookup; X-RateLimit-* on every answer (a send hook)
            rate_limit.IpRateLimit,
            limiter=limiter,
            policy=rate_limit.ip_policy(settings),
            public_operations=rate_limit.public_operations(spec),
            overrides=settings.rate_limit_overrides,
        ),
        SecurityMiddleware,  # the credential -> token_info with our Principal (handlers.http.security)
        partial(rate_limit.TenantRateLimit, limiter=limiter, overrides=settings.rate_limit_overrides),
        connexion_pinned.CachedRequestValidationMiddleware,  # parameters and body, validators built once
        ResponseValidationMiddleware,  # on in tests (settings.validate_responses)
        LifespanMiddleware,
        ContextMiddleware,  # connexion.context for the handlers
    ]
    app = AsyncApp(
        __name__,
        specification_dir=SPEC_DIR,
        validator_map=VALIDATOR_MAP,
        security_map=connexion_pinned.security_map(security.SECURITY_MAP),
        middlewares=middlewares,
    )
    connexion_pinned.install(app)  # handler decorators built once per operation, not per request
    app.add_api(
        SPEC_FILE,
        base_path=BASE_PATH,
        resolver=resolver(),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        pythonic_params=True,
    )
    errors.register(app, errors.AllowedMethods(BASE_PATH, spec["paths"]))
    return app
