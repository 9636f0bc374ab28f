"""Test helpers for the rate-limit backends: the Redis URL, and a probe that skips or fails.

Redis is expected at ``LEADPIPE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``, a
database the app never uses by default). Unreachable Redis fails the run under ``CI=true``
and skips the Redis cases elsewhere, saying why, like the PostgreSQL fixture does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from handlers.app import create_app
from handlers.settings import Settings
from store import db

REDIS_URL = os.environ.get("LEADPIPE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ("memory", "redis")


def require_redis() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message + " (set CI=true to make this a failure)")
    return REDIS_URL


def backend_url(backend: str) -> str:
    return require_redis() if backend == "redis" else "memory://"


def unique(prefix: str = "t") -> str:
    """A fresh identifier, so runs sharing one Redis never see each other's counters."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def random_ip() -> str:
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2] or 1}"


@contextlib.contextmanager
def limited_app(settings: Settings, url: str, **changes: Any) -> Iterator[Any]:
    """An app with the real limits; the shared app's database binding is restored after."""
    original = db.database.obj
    values: dict[str, Any] = {"rate_limit_plans": (), "rate_limit_per_ip": (1_000_000, 100_000), **changes}
    real = dataclasses.replace(settings, rate_limit_url=url, **values)
    try:
        yield create_app(real)
    finally:
        opened = db.database.obj
        db.bind(original)
        if opened is not original:
            close_all = getattr(opened, "close_all", None)
            close_all() if close_all else opened.close()


def client_for(app: Any, ip: str | None = None) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(ip or random_ip(), 50000))
