"""Entry point for ASGI servers: ``uvicorn --factory handlers.asgi:app_factory``."""

from __future__ import annotations

from connexion import AsyncApp

from handlers.app import create_app
from handlers.settings import Settings


def app_factory() -> AsyncApp:
    return create_app(Settings.from_env())
