"""Errors produced by the framework itself: each one an envelope, never problem+json or a trace."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from store.leads import queries as lead_queries
from tests.support import SPEC_PATH, SeededTenant, assert_error, assert_ok, lead_body, row_counts

METHODS = ("get", "post", "put", "patch", "delete")
SAMPLE_ID = "AAAAAAAAAAAAAAAA"


def _spec_paths() -> dict[str, set[str]]:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    return {path: {m.upper() for m in item if m in METHODS} for path, item in spec["paths"].items()}


def _concrete(path: str) -> str:
    return "/v1" + re.sub(r"\{[^}]+\}", SAMPLE_ID, path)


def _missing_methods() -> list[tuple[str, str, str]]:
    """Per path template, each method it lacks (literal paths that a template also matches have
    their own test below)."""
    cases = []
    paths = _spec_paths()
    for path, declared in paths.items():
        overlapping = "{" not in path and any(
            re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", other), path) for other in paths if "{" in other
        )
        if overlapping:
            continue
        for method in sorted({m.upper() for m in METHODS} - declared):
            cases.append((method, _concrete(path), ", ".join(sorted(declared))))
    return cases


@pytest.mark.parametrize(("method", "url", "allow"), _missing_methods())
def test_405_carries_the_complete_allow_header(
    client: TestClient, tenant: SeededTenant, method: str, url: str, allow: str
) -> None:
    counts = row_counts(tenant.id)
    response = client.request(method, url, headers=tenant.headers)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow
    assert row_counts(tenant.id) == counts


def test_allow_header_names_the_literal_paths_own_methods_where_it_meets_a_template(
    client: TestClient, tenant: SeededTenant
) -> None:
    paths = _spec_paths()
    literal = [p for p in paths if p.startswith("/leads/") and "{" not in p]
    assert literal
    for path in literal:
        response = client.request("PUT", "/v1" + path, headers=tenant.headers)
        assert_error(response, 405, "method_not_allowed")
        assert response.headers["allow"] == ", ".join(sorted(paths[path]))


@pytest.mark.parametrize("url", ["/v1/nope", "/v2/leads", "/leads", "/v1/leads/a/b/c", "/v1/api-keys/x/y"])
def test_unknown_path_is_404(client: TestClient, tenant: SeededTenant, url: str) -> None:
    assert_error(client.get(url, headers=tenant.headers), 404, "not_found")
    assert_error(client.get(url), 404, "not_found")


def test_too_large_by_content_length_is_413(client: TestClient, tenant: SeededTenant) -> None:
    counts = row_counts(tenant.id)
    body = json.dumps(lead_body(message="x" * (65 * 1024)))
    response = client.post(
        "/v1/leads", content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")
    assert row_counts(tenant.id) == counts


def _chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_too_large_chunked_body_is_413(client: TestClient, tenant: SeededTenant) -> None:
    counts = row_counts(tenant.id)
    body = json.dumps(lead_body(message="x" * (65 * 1024))).encode()
    request = client.build_request(
        "POST",
        "/v1/leads",
        content=_chunks(body),
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in request.headers and request.headers["transfer-encoding"] == "chunked"
    assert_error(client.send(request), 413, "payload_too_large")
    assert row_counts(tenant.id) == counts


def test_small_chunked_body_is_accepted(client: TestClient, tenant: SeededTenant) -> None:
    body = json.dumps(lead_body(company="Chunked")).encode()
    response = client.post(
        "/v1/leads", content=_chunks(body, 16), headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert assert_ok(response, 201)["company"] == "Chunked"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/csv"])
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/v1/leads"), ("PATCH", "/v1/leads/{lead}"), ("POST", "/v1/api-keys")]
)
def test_wrong_content_type_is_415(
    client: TestClient, tenant: SeededTenant, content_type: str, method: str, path: str
) -> None:
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    counts = row_counts(tenant.id)
    response = client.request(
        method,
        path.format(lead=lead["id"]),
        content=json.dumps({"name": "x", "scopes": ["read:leads"], "score": 5}),
        headers={**tenant.headers, "Content-Type": content_type},
    )
    assert_error(response, 415, "unsupported_media_type")
    assert row_counts(tenant.id) == counts


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{", 400, "bad_request"),
        (b'{"email": "a@example.com",}', 400, "bad_request"),
        (b"not json at all", 400, "bad_request"),
        (b'{"email": "a@example.com", "firstName": "\xff\xfe", "lastName": "D"}', 400, "bad_request"),
        (b"\xff\xfe\x00\x00", 400, "bad_request"),
        (b'{"email": "a@example.com", "firstName": "A", "lastName": "D", "score": NaN}', 400, "bad_request"),
        (
            b'{"email": "a@example.com", "firstName": "A", "lastName": "D", "score": Infinity}',
            400,
            "bad_request",
        ),
        (
            b'{"email": "a@example.com", "firstName": "A", "lastName": "D", "score": -Infinity}',
            400,
            "bad_request",
        ),
        (
            b'{"email": "a@example.com", "firstName": "A", "lastName": "D", "score": ' + b"9" * 5000 + b"}",
            400,
            "bad_request",
        ),
        (b"", 400, "bad_request"),
        (b"   ", None, None),
        (b"null", 422, "validation_error"),
        (b"[]", 422, "validation_error"),
        (b'"a string"', 422, "validation_error"),
        (b"42", 422, "validation_error"),
    ],
)
def test_unparseable_bodies(
    client: TestClient, tenant: SeededTenant, raw: bytes, status: int | None, code: str | None
) -> None:
    counts = row_counts(tenant.id)
    response = client.post(
        "/v1/leads", content=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    if status is None:  # whitespace only: as good as empty, either refusal is fine
        assert response.status_code in (400, 422)
        assert_error(response, response.status_code, response.json()["code"])
    else:
        assert_error(response, status, code or "")
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert row_counts(tenant.id) == counts


def test_patch_with_bad_json_changes_nothing(client: TestClient, tenant: SeededTenant) -> None:
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    counts = row_counts(tenant.id)
    response = client.patch(
        f"/v1/leads/{lead['id']}",
        content=b'{"score": NaN}',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_error(response, 400, "bad_request")
    assert row_counts(tenant.id) == counts
    assert assert_ok(client.get(f"/v1/leads/{lead['id']}", headers=tenant.headers))["score"] == 0


@pytest.mark.parametrize(
    "request_id", ["abc-123", "req_42.x:y", "A" * 128, "0f8fad5b-d9cb-469f-a165-70867728950e"]
)
def test_sane_request_id_is_echoed(client: TestClient, tenant: SeededTenant, request_id: str) -> None:
    for response in (
        client.get("/v1/health", headers={"X-Request-ID": request_id}),
        client.get("/v1/leads", headers={**tenant.headers, "X-Request-ID": request_id}),
        client.get("/v1/leads/NoSuchLead000000", headers={**tenant.headers, "X-Request-ID": request_id}),
        client.get("/v1/leads", headers={"X-Request-ID": request_id}),
    ):
        assert response.headers["x-request-id"] == request_id
        assert response.json()["meta"]["requestId"] == request_id


@pytest.mark.parametrize(
    "request_id", ["has space", "A" * 129, "semi;colon", "<script>", "new\tline", "a%b", ""]
)
def test_insane_request_id_is_replaced(client: TestClient, tenant: SeededTenant, request_id: str) -> None:
    for response in (
        client.get("/v1/health", headers={"X-Request-ID": request_id.encode("utf-8").decode("latin-1")}),
        client.get("/v1/leads", headers={"X-Request-ID": request_id.encode("utf-8").decode("latin-1")}),
    ):
        generated = response.headers["x-request-id"]
        assert generated != request_id and re.match(r"^[A-Za-z0-9._:\-]{1,128}$", generated)
        assert response.json()["meta"]["requestId"] == generated


def test_every_response_has_a_fresh_request_id(client: TestClient) -> None:
    ids = {client.get("/v1/health").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_unexpected_error_is_a_500_envelope_without_details(
    client: TestClient, tenant: SeededTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(lead_queries, "list_leads", explode)
    response = client.get("/v1/leads", headers={**tenant.headers, "X-Request-ID": "trace-me"})

    body = assert_error(response, 500, "internal_error")
    assert body["message"] == "Internal server error" and "errors" not in body
    assert "secret internal detail" not in response.text and "RuntimeError" not in response.text
    assert response.headers["x-request-id"] == "trace-me"


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("GET", "/v1/leads?limit=abc", {}),
        ("PUT", "/v1/leads", {}),
        ("GET", "/v1/nope", {}),
        ("POST", "/v1/leads", {"content": b"{", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/v1/leads", {"content": b"x", "headers": {"Content-Type": "text/plain"}}),
        ("POST", "/v1/leads", {"json": {"email": "bad"}}),
        ("GET", "/v1/leads?limit=0", {}),
    ],
)
@pytest.mark.parametrize("authenticated", [False, True])
def test_never_problem_json(
    client: TestClient,
    tenant: SeededTenant,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    authenticated: bool,
) -> None:
    headers = {**(tenant.headers if authenticated else {}), **kwargs.pop("headers", {})}
    response = client.request(method, url, headers=headers, **kwargs)
    assert response.status_code >= 400
    assert response.headers["content-type"] == "application/json"
    assert "problem" not in response.headers["content-type"]
    body = response.json()
    assert set(body) <= {
        "success",
        "status",
        "code",
        "message",
        "errors",
        "errorCount",
        "meta",
        "retryAfterMs",
    }
    assert {"type", "title", "detail"}.isdisjoint(body)
    assert_error(response, response.status_code, body["code"])


@pytest.mark.parametrize(
    "extra",
    [
        b'"firstName": "a\\u0000b"',
        b'"company": "\\ud800"',
        b'"customFields": {"k\\u0000": "x"}',
        b'"customFields": {"k": "\\udfff"}',
        b'"tags": ["a\\u0000"]',
        b'"customFields": {"k": 1e400}',
        b'"customFields": {"k": -1e400}',
    ],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_values_no_database_can_store_are_400_not_500(
    client: TestClient, tenant: SeededTenant, extra: bytes, method: str
) -> None:
    """NUL and lone surrogates break PostgreSQL (SQLite takes them); 1e400 parses to infinity."""
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    counts = row_counts(tenant.id)
    body = b'{"email": "nul@example.com", "firstName": "A", "lastName": "B", ' + extra + b"}"
    url = "/v1/leads" if method == "POST" else f"/v1/leads/{lead['id']}"
    response = client.request(
        method, url, content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert_error(response, 400, "bad_request")
    assert row_counts(tenant.id) == counts


def test_deeply_nested_json_is_400(client: TestClient, tenant: SeededTenant) -> None:
    body = b'{"customFields": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    response = client.post(
        "/v1/leads", content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code, response.json()["code"])


@pytest.mark.parametrize("name", ["q", "tag", "assignedTo", "cursor"])
def test_nul_in_query_is_400(client: TestClient, tenant: SeededTenant, name: str) -> None:
    assert_error(client.get(f"/v1/leads?{name}=a%00b", headers=tenant.headers), 400, "bad_request", name)


@pytest.mark.parametrize(
    "url", ["/v1/leads/abc%00def", "/v1/leads/abc%00def/history", "/v1/api-keys/abc%00def"]
)
def test_nul_in_path_is_404(client: TestClient, tenant: SeededTenant, url: str) -> None:
    assert_error(client.get(url, headers=tenant.headers), 404, "not_found")


def test_big_but_finite_numbers_in_custom_fields_are_kept(client: TestClient, tenant: SeededTenant) -> None:
    body = b'{"email": "big@example.com", "firstName": "A", "lastName": "B", '
    body += b'"customFields": {"a": 1e308, "b": -2.5}}'
    response = client.post(
        "/v1/leads", content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert assert_ok(response, 201)["customFields"] == {"a": 1e308, "b": -2.5}


def _subclasses(cls: type) -> list[type]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]


def test_the_error_tree_alone_decides_the_status() -> None:
    """Refused -> a 4xx the client can act on; Transient -> 503; StoreError itself -> 500. The
    store branches on the tree, never on a status (it has none)."""
    from handlers.http.errors import status_of
    from store import errors

    for cls in _subclasses(errors.StoreError):
        assert "status" not in vars(cls), cls
        sample = cls.__new__(cls)
        if issubclass(cls, errors.Refused):
            assert 400 <= status_of(sample) < 500, cls
        elif issubclass(cls, errors.Transient):
            assert status_of(sample) == 503, cls
        else:
            assert status_of(sample) == 500, cls
    assert status_of(errors.DuplicateName("x")) == 409
    assert status_of(errors.AuthRequired("x")) == 401
    assert status_of(errors.QuotaExceeded("x")) == 403
