"""REVIEW2 (review of e856d3d..46a1519, the perf pass): attacks through the real app.

The router-index and thread-start tests failed on 46a1519 (findings, fixed); the others are
regression tests of attacks that held."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import Lead
from tests.support import SeededTenant, assert_ok, lead_body

NASTY = [
    "back\\slash",
    "tab\there",
    "new\nline",
    "cr\rhere",
    "\\N",
    "\\.",
    "end\\",
    "\\\\N",
    "quote\"'",
    "uni\u2028\u0085é✓𝄞",
    "x" * 200,
    "",
    " lead ",
]


def _import(client: TestClient, tenant: SeededTenant, items: list[dict[str, Any]]) -> dict[str, Any]:
    return assert_ok(client.post("/v1/leads/import", json=items, headers=tenant.headers))


@pytest.mark.parametrize("value", NASTY)
def test_review2_copy_keeps_every_text_value_exactly(
    client: TestClient, tenant: SeededTenant, value: str
) -> None:
    """25 rows: COPY on PostgreSQL, the 1,000-row INSERT on SQLite; each value read back over
    HTTP equals the one sent, in text, JSON custom fields and tags, as a single POST stores it."""
    items = [
        lead_body(company=value or None, customFields={"k": value, "k2": value + "\t\\"}) for _ in range(25)
    ]
    data = _import(client, tenant, items)
    assert data["created"] == 25, data
    single = assert_ok(
        client.post("/v1/leads", json=items[0] | {"email": "single@example.com"}, headers=tenant.headers), 201
    )
    for result, item in zip(data["results"], items, strict=True):
        got = assert_ok(client.get(f"/v1/leads/{result['id']}", headers=tenant.headers))
        assert got.get("company") == item.get("company") == single.get("company")
        assert got["customFields"] == item["customFields"] == single["customFields"]


def test_review2_csv_import_copies_escapes_exactly(client: TestClient, tenant: SeededTenant) -> None:
    """The job path (CSV): 30 rows of backslashes, tabs, CR/LF (quoted), \\N and \\. markers."""
    import csv
    import io

    from tests.handlers.api.test_imports import upload_csv
    from tests.support import import_status, run_jobs

    values = [v for v in NASTY if v][:12]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "firstName", "lastName", "company"])
    rows = [(f"c{i}@example.com", "Jane", "Doe", values[i % len(values)]) for i in range(30)]
    writer.writerows(rows)
    data = upload_csv(client, tenant, buffer.getvalue())
    run_jobs(tenant)
    assert import_status(client, tenant, data["id"])["status"] == "completed"
    stored = {lead.email: lead.company for lead in Lead.select().where(Lead.tenant_id == tenant.id)}
    assert stored == {email: company.strip() or None for email, _, _, company in rows} or stored == {
        email: company for email, _, _, company in rows
    }


def test_review2_concurrent_requests_keep_their_own_tenant_and_request_id(tmp_path: Any) -> None:
    """60 requests of two tenants at once through a real server (more than the pool's 40
    threads, so some wait in its backlog), a third of them failing (404, 422): every lead is its
    caller's, its history carries its own request's id, every answer echoes its own id."""
    import httpx

    from tests.server_support import create_tenant, own_database, serving
    from tests.support import race

    with own_database(tmp_path) as url, serving(tmp_path, LEADPIPE_DATABASE_URL=url) as server:
        owners = [{"X-API-Key": create_tenant(url, plan="enterprise")["apiKey"]} for _ in range(2)]

        def call(i: int) -> Any:
            headers = {**owners[i % 2], "X-Request-ID": f"rid-{i}"}
            if i % 3 == 1:
                return lambda c: c.get("/v1/leads/nosuchlead0000000", headers=headers)
            if i % 3 == 2:
                return lambda c: c.post("/v1/leads", json={"email": "bad"}, headers=headers)
            return lambda c: c.post("/v1/leads", json=lead_body(company=f"c-{i}"), headers=headers)

        answers = race(server.base, [call(i) for i in range(60)])
        with httpx.Client(base_url=server.base) as http:
            for i, answer in enumerate(answers):
                assert answer.headers["x-request-id"] == f"rid-{i}"
                assert answer.json()["meta"]["requestId"] == f"rid-{i}"
                assert answer.status_code == (201, 404, 422)[i % 3], answer.text
                if i % 3:
                    continue
                lead = answer.json()["data"]
                assert lead["company"] == f"c-{i}"
                other = http.get(f"/v1/leads/{lead['id']}", headers=owners[(i + 1) % 2])
                assert other.status_code == 404
                history = assert_ok(http.get(f"/v1/leads/{lead['id']}/history", headers=owners[i % 2]))
                assert [e["requestId"] for e in history] == [f"rid-{i}"]
    assert server.errors() == ""


def _api_router(app: Any) -> Any:
    """The IndexedRouter behind /v1 (as tests/handlers/http/test_connexion_pinned.py finds it)."""
    from tests.handlers.http.test_connexion_pinned import _api_router as found

    return found(app)


def test_unknown_methods_do_not_grow_the_router_index(client: TestClient) -> None:
    """Was a finding (low; fixed: unauthenticated memory growth).
    `IndexedRouter._candidates` caches a list per
    request method, any method string a client sends, forever. Under uvicorn's h11 parser (any
    token is a method) every distinct method of up to the header-size limit stays in memory; the
    httptools parser uses a fixed method list. Starlette's Router keeps nothing per request."""
    router = _api_router(client.app)
    before = len(router._index or {})
    for i in range(300):
        response = client.request(f"X{i:04d}" + "A" * 1000, "/v1/leads")
        assert response.status_code == 405
    grown = len(router._index or {}) - before
    assert grown <= 16, f"{grown} method keys (about {grown} kB) kept by the router"


def test_a_failed_thread_start_gives_its_pool_place_back() -> None:
    """Was a finding (low; fixed: availability under resource exhaustion).
    `HandlerThreads.run` appends the new
    thread to ``_threads`` before ``start()``; when ``start()`` raises (RuntimeError: can't start
    new thread, ulimit/memory), the dead thread keeps its place, so every failure permanently
    lowers the bound; once all places are dead, every call waits in the backlog forever (no live
    thread drains it): the process hangs instead of recovering. anyio's limiter returns its token."""
    import asyncio
    import threading
    from unittest import mock

    from handlers.http.handler_threads import HandlerThreads

    pool = HandlerThreads(max_threads=2)

    async def scenario() -> None:
        with mock.patch.object(threading.Thread, "start", side_effect=RuntimeError("can't start new thread")):
            for _ in range(2):
                with pytest.raises(RuntimeError):
                    await pool.run(lambda: 1)
        assert await asyncio.wait_for(pool.run(lambda: 42), timeout=5) == 42  # resources are back

    asyncio.run(scenario())
