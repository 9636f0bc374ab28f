"""Leadpipe as it was before `handlers.http.connexion_pinned`: the same app with Connexion's stock
operations (decorators and validators rebuilt on every request). Served beside the real
`leadpipe serve` in the same run, it gives the before/after of that change under the same load.

Run: ``uvicorn --factory bench.stock:app_factory`` with the usual ``LEADPIPE_*`` environment.
"""

from __future__ import annotations

from typing import Any

from connexion import AsyncApp
from connexion.middleware import ConnexionMiddleware

from handlers.app import create_app
from handlers.http import connexion_pinned
from handlers.settings import Settings


def _stock_middlewares() -> list[Any]:
    return list(ConnexionMiddleware.default_middlewares)


def _no_install(app: AsyncApp) -> None:
    return None


def app_factory() -> AsyncApp:
    # Bench-only and per process: this server is started for the comparison and nothing else.
    connexion_pinned.middlewares = _stock_middlewares
    connexion_pinned.install = _no_install
    return create_app(Settings.from_env())
