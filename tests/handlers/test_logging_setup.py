"""Logs as an operator reads them: a real server's stdout, one JSON object per line.

The first test runs a realistic session (sign-in, a key minted, leads with personal data,
failing requests) against ``leadpipe serve`` at DEBUG, then greps the whole output for every
secret and personal value it used. The others check, in process, what only a fault can show:
an unhandled error's line with its stack trace and request id, and the text format.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from handlers import logging_setup
from handlers.settings import Settings
from store.leads import queries as lead_queries
from tests.server_support import run_cli, serving
from tests.support import SeededTenant

ACCESS_FIELDS = {
    "requestId",
    "method",
    "path",
    "operation",
    "status",
    "durationMs",
    "tenantId",
    "keyId",
    "clientIp",
}


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.slow
def test_a_full_session_logs_every_request_once_and_no_secret(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    owner_email, owner_password = f"owner.{tag}@acme-ops.example", f"Owner-Pass-{tag}-xyz"
    wrong_password = f"Wrong-Pass-{tag}-abc"
    url = f"sqlite:///{tmp_path / 'logged.db'}"
    created = run_cli(
        "tenant", "create", "Acme Ops", "--plan", "pro", "--owner-email", owner_email,
        "--owner-password", owner_password, "--json", LEADPIPE_DATABASE_URL=url,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    tenant = json.loads(created.stdout)
    pii = {
        "email": f"maria.{tag}@example.org",
        "firstName": f"Mariabella{tag}",
        "lastName": f"Quintanilla{tag}",
        "phone": "+14155550142",
        "company": f"Zyxwv Holdings {tag}",
        "message": f"Call me about order {tag}-77",
        "customFields": {"favouriteColour": f"ultramarine-{tag}"},
    }
    bad_email = f"not-an-email-{tag}"
    bad_key = "lp_live_sk_" + uuid.uuid4().hex
    env = {"LEADPIPE_DATABASE_URL": url, "LEADPIPE_LOG_FORMAT": "json", "LEADPIPE_LOG_LEVEL": "DEBUG"}
    expected: list[tuple[httpx.Response, str, str | None]] = []  # response, operation, key id

    with serving(tmp_path, **env) as server, httpx.Client(base_url=server.base, timeout=30) as http:
        owner = {"X-API-Key": tenant["apiKey"]}
        signed_in = http.post("/v1/auth/login", json={"email": owner_email, "password": owner_password})
        token = signed_in.json()["data"]["token"]
        expected.append((signed_in, "login", None))
        refused = http.post("/v1/auth/login", json={"email": owner_email, "password": wrong_password})
        expected.append((refused, "login", None))
        minted = http.post(
            "/v1/api-keys",
            json={"name": f"ops-{tag}", "scopes": ["read:leads", "write:leads"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        expected.append((minted, "createApiKey", None))
        key = minted.json()["data"]
        writer = {"X-API-Key": key["key"], "X-Request-ID": f"ops-trace-{tag}"}
        lead = http.post("/v1/leads", json=pii, headers=writer)
        expected.append((lead, "createLead", key["id"]))
        invalid = http.post("/v1/leads", json={**pii, "email": bad_email}, headers={"X-API-Key": key["key"]})
        expected.append((invalid, "createLead", key["id"]))
        searched = http.get("/v1/leads", params={"q": pii["lastName"]}, headers=owner)
        expected.append((searched, "listLeads", None))
        unknown = http.get("/v1/leads", headers={"X-API-Key": bad_key})
        expected.append((unknown, "listLeads", None))
        expected.append((http.get(f"/v1/leads/{lead.json()['data']['id']}", headers=owner), "getLead", None))

    assert [r.status_code for r, _, _ in expected] == [200, 401, 201, 201, 422, 200, 401, 200], [
        r.text for r, _, _ in expected
    ]
    assert lead.headers["x-request-id"] == f"ops-trace-{tag}"
    stdout, stderr = server.stdout.read_text(), server.stderr.read_text()
    assert stderr == ""  # no warning at start, nothing outside the JSON stream
    lines = _lines(stdout)  # every line is one JSON object
    access = [line for line in lines if line["logger"] == "leadpipe.access"]
    for response, operation, key_id in expected:
        rid = response.headers["x-request-id"]
        (line,) = [a for a in access if a["requestId"] == rid]
        assert set(line) >= ACCESS_FIELDS
        assert (line["status"], line["operation"], line["method"]) == (
            response.status_code,
            operation,
            response.request.method,
        )
        assert line["path"] == response.request.url.path and "?" not in line["path"]
        assert line["clientIp"] == "127.0.0.1" and line["durationMs"] >= 0
        if response.status_code != 401 and operation != "login":
            assert line["tenantId"] == tenant["tenantId"]
        if key_id:
            assert line["keyId"] == key_id
    loggers = {line["logger"] for line in lines}
    assert "leadpipe.worker" in loggers  # the app's own loggers reach the handler
    assert any("started" in line["message"] for line in lines if line["logger"] == "leadpipe.worker")
    assert any("stopped" in line["message"] for line in lines if line["logger"] == "leadpipe.worker")

    whole = stdout + stderr
    secrets = [tenant["apiKey"], tenant["sandboxApiKey"], key["key"], token, owner_password, wrong_password]
    personal = [owner_email, bad_email, bad_key, *(v for v in pii.values() if isinstance(v, str))]
    personal += [pii["customFields"]["favouriteColour"], "4155550142", tag + "-77"]
    for value in [*secrets, *personal]:
        assert value not in whole, f"{value!r} leaked into the log"


@contextlib.contextmanager
def our_handler(log_format: str) -> Iterator[None]:
    """Our stdout handler, bound to the stdout of the test's body (pytest's capture), then removed."""
    logging_setup.configure(Settings(log_format=log_format, log_level="INFO"))
    try:
        yield
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, logging_setup._MARK, False)]:
            root.removeHandler(handler)


def test_an_unhandled_error_logs_its_stack_trace_with_the_request_id(
    client: TestClient, tenant: SeededTenant, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    email = f"victim.{uuid.uuid4().hex[:8]}@example.com"

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError(f"row for {email} is corrupt")

    monkeypatch.setattr(lead_queries, "list_leads", broken)
    with our_handler("json"):
        response = client.get("/v1/leads", headers={**tenant.headers, "X-Request-ID": "boom-1"})

    assert response.status_code == 500 and email not in response.text
    lines = _lines(capsys.readouterr().out)
    (error,) = [line for line in lines if line["level"] == "ERROR" and line.get("requestId") == "boom-1"]
    assert error["logger"] == "leadpipe.errors"
    assert "Traceback" in error["exc_info"] and "RuntimeError" in error["exc_info"]
    assert email not in json.dumps(error) and "[email]" in error["exc_info"]
    (line,) = [a for a in lines if a["logger"] == "leadpipe.access" and a["requestId"] == "boom-1"]
    assert (line["status"], line["operation"], line["tenantId"]) == (500, "listLeads", tenant.id)


def test_text_format_carries_the_request_id(
    client: TestClient, tenant: SeededTenant, capsys: pytest.CaptureFixture[str]
) -> None:
    with our_handler("text"):
        client.get("/v1/leads", headers={**tenant.headers, "X-Request-ID": "text-1"})
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "[text-1]" in line]
    assert "INFO leadpipe.access" in line and "GET /v1/leads -> 200 (listLeads" in line


def test_scrub_masks_key_and_email_shapes() -> None:
    line = "lp_live_sk_abcDEF123_-x and lp_sandbox_pk_zz for jane.doe+tag@sub.example.co.uk"
    assert logging_setup.scrub(line) == "[api-key] and [api-key] for [email]"


def test_log_format_defaults_to_json_in_production() -> None:
    prod = {"LEADPIPE_ENV": "production", "LEADPIPE_SECRET_KEY": "k" * 40}
    assert Settings.from_env(prod).log_format == "json"
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"LEADPIPE_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ValueError, match="LEADPIPE_LOG_FORMAT"):
        Settings.from_env({"LEADPIPE_LOG_FORMAT": "xml"})
