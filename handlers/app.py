"""The application factory: everything is built here, nothing at import time."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition

from handlers.api import imports
from handlers.console import mount as console
from handlers.http import connexion_pinned, errors, observe, rate_limit, security
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

    app = AsyncApp(
        __name__,
        specification_dir=SPEC_DIR,
        validator_map=VALIDATOR_MAP,
        security_map=security.SECURITY_MAP,
        # Handler decorators and request validators built once per operation, not per request.
        middlewares=connexion_pinned.middlewares(),
    )
    connexion_pinned.install(app)
    app.add_api(
        SPEC_FILE,
        base_path=BASE_PATH,
        resolver=resolver(),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        pythonic_params=True,
    )
    app.add_middleware(RequestContext, position=MiddlewarePosition.BEFORE_EXCEPTION, state=state)
    app.add_middleware(
        BodyLimit,
        position=MiddlewarePosition.BEFORE_SWAGGER,
        max_bytes=settings.max_body_bytes,
        routes=imports.body_limits(settings, BASE_PATH),
        timeout_seconds=settings.body_timeout_seconds,
    )
    observe.install(app, settings.metrics_token)  # inside RequestContext, outside the rate limits
    rate_limit.install(app, limiter, settings, spec)
    errors.register(app, errors.AllowedMethods(BASE_PATH, spec["paths"]))
    console.install(app)
    return app
