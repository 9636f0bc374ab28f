"""Helpers shared by the tests: seeded tenants, lead bodies, principals, envelope checks, row counts."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import peewee
from playhouse.migrations import Runner
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from handlers.worker import Worker
from store import db
from store.access.principals import Principal
from store.keys import api_keys
from store.models import ApiKey, Lead, LeadEvent, LeadTag, User
from store.tenants import lifecycle as tenants

BACKEND = os.environ.get("LEADPIPE_TEST_DATABASE", "sqlite")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
POSTGRES_URL = os.environ.get("LEADPIPE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "leadpipe.yaml"

Call = Callable[[httpx.Client], httpx.Response]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def principal(plaintext: str) -> Principal:
    """The principal a key authenticates as, exactly as the HTTP layer gets it."""
    return api_keys.authenticate(plaintext)


def assert_error(response: httpx.Response, status: int, code: str, *fields: str) -> dict[str, Any]:
    """An error envelope with this status and code (and, if given, exactly these fields named)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert (body["status"], body["code"]) == (status, code), body
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.text
    assert set(body["meta"]) >= {"timestamp", "version", "requestId"}
    assert TIMESTAMP.match(body["meta"]["timestamp"])
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    if fields:
        assert {e["field"] for e in body.get("errors", [])} == set(fields), body
    return body


def assert_ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True and body["status"] == status
    assert body["meta"]["version"] == "v1"
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    return body["data"]


def row_counts(tenant_id: str) -> dict[str, int]:
    """Everything a tenant owns, to prove a refused request wrote nothing."""
    return {
        model.__name__: model.select().where(model.tenant_id == tenant_id).count()
        for model in (Lead, LeadEvent, LeadTag, ApiKey)
    }


def make_key(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """Create a key over HTTP; returns ``data`` (with the one-time ``key``)."""
    payload = {"name": f"key-{uuid.uuid4().hex[:8]}", "scopes": ["read:leads"], **body}
    response = client.post("/v1/api-keys", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


@dataclass
class SeededTenant:
    """A fresh tenant with its owner and a live and a sandbox key carrying every scope."""

    id: str
    owner_id: str
    plan: str
    live_key: str
    sandbox_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.live_key}

    @property
    def sandbox_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.sandbox_key}


def make_tenant(plan: str = "pro") -> SeededTenant:
    provisioned = tenants.create_tenant(
        f"tenant-{uuid.uuid4().hex[:8]}",
        plan=plan,
        owner_email=f"owner-{uuid.uuid4().hex[:8]}@example.com",
        owner_password="correct horse battery staple",
    )
    return SeededTenant(
        id=provisioned.tenant.id,
        owner_id=provisioned.owner.id,
        plan=plan,
        live_key=provisioned.live_key,
        sandbox_key=provisioned.sandbox_key,
    )


def lead_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": f"jane.{uuid.uuid4().hex[:8]}@example.com",
        "firstName": "Jane",
        "lastName": "Doe",
    }
    body.update(overrides)
    return body


def race(base_url: str, calls: list[Call]) -> list[httpx.Response]:
    """Run every call in its own thread, all released at once; the responses in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[httpx.Response | BaseException | None] = [None] * len(calls)

    def run(index: int, call: Call) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            barrier.wait()
            try:
                results[index] = call(http)
            except BaseException as exc:  # reported below, with its index
                results[index] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [(i, r) for i, r in enumerate(results) if not isinstance(r, httpx.Response)]
    assert failures == []
    return [r for r in results if isinstance(r, httpx.Response)]


# Users and sign-in, for the tests of users, auth, audit and sessions.
PASSWORD = "a long enough passphrase"


def user_body(role: str = "member", **overrides: Any) -> dict[str, Any]:
    body = {
        "email": f"u-{uuid.uuid4().hex[:8]}@example.com",
        "name": "Sam Lee",
        "role": role,
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


def create_user(client: Any, headers: dict[str, str], role: str = "member", **overrides: Any) -> Any:
    return assert_ok(client.post("/v1/users", json=user_body(role, **overrides), headers=headers), 201)


def sign_in(client: Any, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, str]:
    data = assert_ok(client.post("/v1/auth/login", json={"email": email, "password": password, **extra}))
    return {"Authorization": f"Bearer {data['token']}"}


OWNER_PASSWORD = "correct horse battery staple"


def owner_email(tenant: SeededTenant) -> str:
    return str(User.get((User.tenant_id == tenant.id) & (User.id == tenant.owner_id)).email)


# --- metrics scrapes ---


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scrape: dict[Any, float], name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


# --- imports and the job queue ---


def leads_of(tenant: SeededTenant, environment: str = "live") -> list[Lead]:
    query = Lead.select().where((Lead.tenant_id == tenant.id) & (Lead.environment == environment))
    return list(query.order_by(Lead.created_at, Lead.id))


def import_status(client: TestClient, tenant: SeededTenant, import_id: str) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(client.get(f"/v1/imports/{import_id}", headers=tenant.headers))
    return data


def run_jobs(tenant: SeededTenant) -> int:
    return Worker().run_until_idle(tenant_id=tenant.id)


def query_plan(
    database: peewee.Database, query: peewee.Query, values: Mapping[str, Any] | None = None
) -> str:
    """The database's plan for ``query`` as one line (SQLite's ``EXPLAIN QUERY PLAN``, else
    ``EXPLAIN``); ``values`` replaces string parameters (e.g. `store.prepared.param` markers)."""
    sql, params = query.sql()
    if values:
        params = [values.get(value, value) if isinstance(value, str) else value for value in params]
    prefix = "EXPLAIN QUERY PLAN " if isinstance(database, peewee.SqliteDatabase) else "EXPLAIN "
    return " | ".join(str(row) for row in database.execute_sql(prefix + sql, params).fetchall())


@contextlib.contextmanager
def analyzed_sqlite(
    path: Path, insert_sql: str, rows: Sequence[tuple[Any, ...]]
) -> Iterator[peewee.Database]:
    """A migrated SQLite database at ``path`` holding ``rows`` (``insert_sql``), after ``ANALYZE``:
    what SQLite's planner decides once it has seen the data, which an empty test table hides."""
    fresh = db.open_database(f"sqlite:///{path}")
    try:
        with fresh.connection_context():
            Runner(fresh, str(db.MIGRATIONS_DIR)).up()
            with fresh.atomic():
                fresh.cursor().executemany(insert_sql, rows)
            fresh.execute_sql("ANALYZE")
            yield fresh
    finally:
        fresh.close()
