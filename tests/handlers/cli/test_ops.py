"""The operator's commands, run as an operator runs them (a subprocess on the suite's own
database, so the in-process client can use what they print): ``tenant list``, ``key ...``,
the bootstrap plan, and every command's help."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from handlers import cli
from store.access.principals import SCOPES
from tests.server_support import run_cli, serving
from tests.support import SeededTenant, assert_error, assert_ok

KEY = re.compile(r"lp_(live|sandbox)_sk_[A-Za-z0-9]{32}")


def test_tenant_list_shows_every_tenant_with_its_plan(database_url: str, tenant: SeededTenant) -> None:
    listed = run_cli("tenant", "list", "--json", LEADPIPE_DATABASE_URL=database_url)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {"tenantId": tenant.id, "plan": "pro", "name": rows[-1]["name"]} in rows
    assert rows[-1]["tenantId"] == tenant.id  # oldest first: the newest tenant comes last
    text = run_cli("tenant", "list", LEADPIPE_DATABASE_URL=database_url).stdout
    assert any(line.startswith(f"{tenant.id}  pro") for line in text.splitlines())


def test_key_create_list_revoke_for_an_operator_who_lost_the_key(
    database_url: str, client: TestClient, tenant: SeededTenant
) -> None:
    created = run_cli("key", "create", tenant.id, "--name", "ops laptop", LEADPIPE_DATABASE_URL=database_url)
    assert created.returncode == 0, created.stderr
    assert len(KEY.findall(created.stdout)) == 1 and "shown once" in created.stdout
    found = KEY.search(created.stdout)
    assert found is not None
    plaintext = found.group(0)
    headers = {"X-API-Key": plaintext}
    keys = assert_ok(client.get("/v1/api-keys", headers=headers))  # admin:api_keys: every scope
    (mine,) = [k for k in keys if k["name"] == "ops laptop"]
    assert sorted(mine["scopes"]) == sorted(SCOPES)

    listed = run_cli("key", "list", tenant.id, "--json", LEADPIPE_DATABASE_URL=database_url)
    rows = {row["keyId"]: row for row in map(json.loads, listed.stdout.splitlines())}
    assert rows[mine["id"]]["status"] == "active" and plaintext.startswith(rows[mine["id"]]["prefix"])
    assert plaintext not in listed.stdout and len(rows) == 3  # the tenant's two own keys + this one

    events = assert_ok(client.get("/v1/audit-events", headers=tenant.headers))
    (event,) = [e for e in events if e["action"] == "api_key.created" and e["resourceId"] == mine["id"]]
    assert event["actor"] == {"type": "user", "id": tenant.owner_id}  # on the owner's behalf

    revoked = run_cli("key", "revoke", tenant.id, mine["id"], LEADPIPE_DATABASE_URL=database_url)
    assert revoked.returncode == 0 and mine["id"] in revoked.stdout
    assert_error(client.get("/v1/leads", headers=headers), 401, "invalid_key")
    listed = run_cli("key", "list", tenant.id, LEADPIPE_DATABASE_URL=database_url).stdout
    assert f"{mine['id']}  {mine['prefix']}  live  revoked" in listed


def test_a_sandbox_key_with_chosen_scopes(
    database_url: str, client: TestClient, tenant: SeededTenant
) -> None:
    created = run_cli(
        "key", "create", tenant.id, "--environment", "sandbox", "--scope", "read:leads", "--json",
        LEADPIPE_DATABASE_URL=database_url,
    )  # fmt: skip
    issued = json.loads(created.stdout)
    assert issued["apiKey"].startswith("lp_sandbox_sk_")
    headers = {"X-API-Key": issued["apiKey"]}
    assert assert_ok(client.get("/v1/leads", headers=headers)) == []
    assert_error(
        client.post("/v1/leads", json={"email": "a@b.co"}, headers=headers), 403, "insufficient_permissions"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["key", "create", "NoSuchTenant0001"], "No tenant 'NoSuchTenant0001'"),
        (["key", "revoke", "NoSuchTenant0001", "NoSuchKey0000001"], "No tenant 'NoSuchTenant0001'"),
        (["key", "list", "NoSuchTenant0001"], "No tenant 'NoSuchTenant0001'"),
    ],
)
def test_unknown_tenants_fail_clearly(database_url: str, args: list[str], message: str) -> None:
    result = run_cli(*args, LEADPIPE_DATABASE_URL=database_url)
    assert result.returncode == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_duplicate_key_name_fails_clearly(database_url: str, tenant: SeededTenant) -> None:
    args = ["key", "create", tenant.id, "--name", "twice"]
    assert run_cli(*args, LEADPIPE_DATABASE_URL=database_url).returncode == 0
    again = run_cli(*args, LEADPIPE_DATABASE_URL=database_url)
    assert again.returncode == 1 and "already exists" in again.stderr and not KEY.search(again.stdout)


def _parsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _parsers(child, (*prefix, name))
    return found


@pytest.mark.parametrize("command", _parsers(cli.parser()), ids=lambda c: " ".join(c) or "leadpipe")
def test_every_help_shows_every_option_with_its_default(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # unwrap the columns
    parser = cli.parser()
    for name in command:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    for action in parser._actions:
        if not action.option_strings or action.default == argparse.SUPPRESS:
            continue
        assert action.option_strings[-1] in text
        if not action.required:
            shown = "none" if action.default is None else str(action.default)
            assert f"(default: {shown})" in text or "(default: all)" in text, (action.dest, text)


@pytest.mark.slow
@pytest.mark.parametrize(("args", "plan"), [((), "enterprise"), (("--plan", "team"), "team")])
def test_serve_bootstraps_the_operators_tenant_on_enterprise(
    tmp_path: Path, args: tuple[str, ...], plan: str
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    with serving(tmp_path, *args, LEADPIPE_DATABASE_URL=url, LEADPIPE_WORKER_THREADS="0") as server:
        found = KEY.search(server.stdout.read_text())
        assert found is not None
        headers = {"X-API-Key": found.group(0)}
        # Past the free plan's burst of 10: the newcomer's first script is not refused.
        statuses = {
            httpx.get(f"{server.base}/v1/leads", headers=headers, timeout=30).status_code for _ in range(15)
        }
        tenant: Any = assert_ok(httpx.get(f"{server.base}/v1/tenant", headers=headers, timeout=30))
    assert statuses == {200}
    assert tenant["plan"] == plan
    listed = run_cli("tenant", "list", "--json", LEADPIPE_DATABASE_URL=url)
    assert [json.loads(line)["plan"] for line in listed.stdout.splitlines()] == [plan]
