"""The CSV export over HTTP: filters, columns, streaming in batches, the formula guard."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import urlencode

import anyio
import pytest
from starlette.testclient import TestClient

from handlers.api.exports import COLUMNS
from store.leads import export as lead_export
from tests.support import SeededTenant, assert_error, assert_ok, lead_body


def export(client: TestClient, tenant: SeededTenant, **filters: Any) -> list[dict[str, str]]:
    response = client.get("/v1/leads/export", params=filters, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="leads.csv"'
    assert response.headers["x-request-id"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]


def seed(client: TestClient, tenant: SeededTenant, items: list[dict[str, Any]]) -> list[str]:
    data = assert_ok(client.post("/v1/leads/import?onDuplicate=allow", json=items, headers=tenant.headers))
    assert data["failed"] == 0, data
    return [result["id"] for result in data["results"]]


def test_export_has_the_documented_columns_and_values(client: TestClient, tenant: SeededTenant) -> None:
    [lead_id] = seed(
        client,
        tenant,
        [
            lead_body(
                email="ann@example.com",
                phone="+44 20 7946 0958",
                company="Acme, Inc.",
                source="web",
                score=42,
                tags=["vip", "2026"],
                customFields={"role": "VP", "seats": 12, "trial": True},
                message="Line one\nline two, with a comma",
            )
        ],
    )

    [row] = export(client, tenant)

    lead = assert_ok(client.get(f"/v1/leads/{lead_id}", headers=tenant.headers))
    assert row["id"] == lead_id
    assert (row["email"], row["firstName"], row["lastName"]) == ("ann@example.com", "Jane", "Doe")
    assert row["phone"] == "'+44 20 7946 0958"  # guarded: it starts with "+"
    assert (row["company"], row["source"], row["status"], row["score"]) == ("Acme, Inc.", "web", "new", "42")
    assert row["message"] == "Line one\nline two, with a comma"
    assert row["tags"] == "vip;2026"
    assert json.loads(row["customFields"]) == {"role": "VP", "seats": 12, "trial": True}
    assert (row["assignedTo"], row["duplicateOf"], row["title"]) == ("", "", "")
    assert (row["createdAt"], row["updatedAt"]) == (lead["createdAt"], lead["updatedAt"])


def test_export_takes_the_list_filters(client: TestClient, tenant: SeededTenant) -> None:
    seed(
        client,
        tenant,
        [
            lead_body(email="a@example.com", status="qualified", score=90, tags=["hot"], company="Zeta"),
            lead_body(email="b@example.com", status="qualified", score=20, company="Zeta"),
            lead_body(email="c@example.com", status="new", score=95, tags=["hot"], company="Omega"),
        ],
    )

    def emails(**filters: Any) -> list[str]:
        return [row["email"] for row in export(client, tenant, **filters)]

    assert emails() == ["a@example.com", "b@example.com", "c@example.com"]  # oldest first
    assert emails(status="qualified") == ["a@example.com", "b@example.com"]
    assert emails(tag="hot") == ["a@example.com", "c@example.com"]
    assert emails(scoreMin=50, status="qualified") == ["a@example.com"]
    assert emails(q="OMEGA") == ["c@example.com"]
    assert emails(createdAfter="2999-01-01T00:00:00Z") == []
    # Filters are validated like the list's.
    response = client.get("/v1/leads/export", params={"status": "bogus"}, headers=tenant.headers)
    assert_error(response, 422, "validation_error", "status")
    response = client.get("/v1/leads/export", params={"limit": 5}, headers=tenant.headers)
    assert_error(response, 422, "validation_error", "limit")


def test_export_sees_only_the_callers_tenant_and_environment(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    seed(client, tenant, [lead_body(email="mine@example.com")])
    seed(client, other_tenant, [lead_body(email="theirs@example.com")])
    assert_ok(
        client.post("/v1/leads", json=lead_body(email="sandbox@example.com"), headers=tenant.sandbox_headers),
        201,
    )

    assert [row["email"] for row in export(client, tenant)] == ["mine@example.com"]
    response = client.get("/v1/leads/export", headers=tenant.sandbox_headers)
    assert [row[1] for row in csv.reader(io.StringIO(response.text))][1:] == ["sandbox@example.com"]


def test_export_needs_read_scope_and_a_key(client: TestClient, tenant: SeededTenant) -> None:
    from tests.support import make_key

    writer = make_key(client, tenant.headers, scopes=["write:leads"])["key"]
    assert_error(
        client.get("/v1/leads/export", headers={"X-API-Key": writer}), 403, "insufficient_permissions"
    )
    assert_error(client.get("/v1/leads/export"), 401, "auth_required")


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil")', "+1+2", "-2+3", "@SUM(A1)", "\tTab", "\rCR"])
def test_cells_a_spreadsheet_would_run_are_quoted(
    client: TestClient, tenant: SeededTenant, text: str
) -> None:
    seed(client, tenant, [lead_body(company=text, tags=[text.strip() or "x"], customFields={"note": text})])

    [row] = export(client, tenant)

    assert row["company"] == "'" + text
    assert row["customFields"] == json.dumps({"note": text})  # starts with "{": nothing to guard
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())


def test_an_export_imports_back_without_its_read_only_columns(
    client: TestClient, tenant: SeededTenant
) -> None:
    seed(
        client,
        tenant,
        [lead_body(email="rt@example.com", phone="+1-555-0199", company="=cmd", tags=["a", "b"])],
    )
    response = client.get("/v1/leads/export", headers=tenant.headers)
    rows = list(csv.reader(io.StringIO(response.text)))
    keep = [
        i for i, name in enumerate(rows[0]) if name not in ("id", "duplicateOf", "createdAt", "updatedAt")
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[row[i] for i in keep] for row in rows])

    response = client.post(
        "/v1/leads/import",
        content=buffer.getvalue().encode(),
        headers={**tenant.headers, "Content-Type": "text/csv"},
    )
    import_id = assert_ok(response, 202)["id"]
    from handlers.worker import Worker

    Worker().run_until_idle(tenant_id=tenant.id)
    done = assert_ok(client.get(f"/v1/imports/{import_id}", headers=tenant.headers))
    assert done["counts"] == {"created": 0, "updated": 1, "failed": 0}
    [row] = export(client, tenant)
    assert (row["phone"], row["company"], row["tags"]) == ("'+1-555-0199", "'=cmd", "a;b")


def _asgi_get(app: Any, path: str, query: dict[str, Any], headers: dict[str, str]) -> list[dict[str, Any]]:
    """Call the app as a server would and keep every ASGI message it sends."""
    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await anyio.sleep_forever()  # the client stays connected until the response ends
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": urlencode(query).encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "testserver", **headers}.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    return sent


def test_a_large_export_streams_in_batches(app: Any, client: TestClient, tenant: SeededTenant) -> None:
    total = 2 * lead_export.BATCH_SIZE + 500
    for start in range(0, total, 1000):
        seed(
            client,
            tenant,
            [lead_body(email=f"s{i}@example.com") for i in range(start, min(total, start + 1000))],
        )

    sent = _asgi_get(app, "/v1/leads/export", {}, tenant.headers)

    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    bodies = [m for m in sent[1:] if m["type"] == "http.response.body" and m.get("body")]
    assert len(bodies) == 3  # one chunk per batch of 1,000 rows, each sent as soon as it was read
    assert all(m.get("more_body") for m in bodies)
    rows = list(csv.reader(io.StringIO(b"".join(m["body"] for m in bodies).decode())))
    assert tuple(rows[0]) == COLUMNS and len(rows) == total + 1
    assert len({row[0] for row in rows[1:]}) == total  # every lead once, none repeated at batch edges
    assert [row[1] for row in rows[1:]] == [f"s{i}@example.com" for i in range(total)]
