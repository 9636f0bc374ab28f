"""Entry point for ASGI servers: ``uvicorn --factory handlers.asgi:app_factory``.

Under plain uvicorn pass ``--no-proxy-headers`` or ``--forwarded-allow-ips`` with your proxies
(``leadpipe serve`` passes ``LEADPIPE_TRUSTED_PROXIES``): uvicorn by default believes
``X-Forwarded-For`` from 127.0.0.1.
"""

from __future__ import annotations

from connexion import AsyncApp

from handlers import logging_setup
from handlers.app import create_app
from handlers.settings import Settings


def app_factory() -> AsyncApp:
    settings = Settings.from_env()
    logging_setup.configure(settings)  # each uvicorn worker process is a fresh interpreter
    return create_app(settings)
