"""Fixtures: app -> client -> seeded tenant, against SQLite or PostgreSQL.

``LEADPIPE_TEST_DATABASE=postgres`` runs the same suite on PostgreSQL
(``LEADPIPE_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``) in a
fresh database made for the session and dropped after it. Unreachable PostgreSQL fails the run
under ``CI=true`` and skips it elsewhere, saying why.

Tests isolate by tenancy: every test gets brand-new tenants, so no test sees another's rows and
nothing needs truncating between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from starlette.testclient import TestClient

from handlers.app import create_app
from handlers.settings import Settings
from store import db
from tests.support import BACKEND, POSTGRES_URL, TEST_SECRET, SeededTenant, make_tenant


def _postgres_database() -> Iterator[str]:
    parsed = urlparse(POSTGRES_URL)
    name = f"leadpipe_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg2.connect(POSTGRES_URL, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}".strip()
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message + " (set CI=true to make this a failure)")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(parsed._replace(path=f"/{name}"))
    finally:
        db.database.obj.close_all() if hasattr(db.database.obj, "close_all") else None
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "postgres":
        yield from _postgres_database()
    elif BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'leadpipe.db'}"
    else:
        raise pytest.UsageError(f"LEADPIPE_TEST_DATABASE must be sqlite or postgres, not {BACKEND!r}")


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_keys=(TEST_SECRET,),
        validate_responses=True,
        max_body_bytes=64 * 1024,
        # The whole suite comes from one client IP through a few pro/enterprise tenants: lift
        # those limits here. Free/starter/team keep the plan table; the rate-limit tests build
        # their own app with every real limit (tests/handlers/http/test_rate_limit.py).
        rate_limit_per_ip=None,
        rate_limit_plans=(("pro", 1_000_000, 100_000), ("enterprise", 1_000_000, 100_000)),
        # Webhook tests deliver to receivers on loopback, and retry at once (the real schedule
        # spans days; tests/store/webhooks/test_schedule.py covers it).
        webhook_retry_delays=(0, 0, 0),
        webhook_allow_networks=("127.0.0.0/8",),
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Any:
    application = create_app(settings)
    db.migrate()
    return application


@pytest.fixture(scope="session")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def tenant(app: Any) -> SeededTenant:
    return make_tenant()


@pytest.fixture
def other_tenant(app: Any) -> SeededTenant:
    return make_tenant()


@pytest.fixture
def new_tenant(app: Any) -> Any:
    """Factory for tests that need a particular plan or more tenants."""
    return make_tenant
