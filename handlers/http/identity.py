"""Session codec and login policy built from the app's settings, once per settings object.

Kept out of `AppState` so the app factory stays untouched: the settings are frozen (hashable),
so caching on them gives each app its own codec without any module-level state to reset.
"""

from __future__ import annotations

import functools

from handlers.http.context import app_state
from handlers.settings import Settings
from store.users.sessions import SessionCodec
from store.users.signin import LoginPolicy


@functools.cache
def _codec(settings: Settings) -> SessionCodec:
    return SessionCodec(settings.secret_keys, settings.session_ttl_seconds)


def session_codec() -> SessionCodec:
    return _codec(app_state().settings)


def login_policy() -> LoginPolicy:
    settings = app_state().settings
    return LoginPolicy(
        max_failures_per_account=settings.login_max_failures_per_account,
        max_failures_per_ip=settings.login_max_failures_per_ip,
        window_seconds=settings.login_failure_window_seconds,
    )
