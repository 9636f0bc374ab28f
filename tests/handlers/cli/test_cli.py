"""The ``leadpipe`` command, run as a user runs it: a subprocess on a database of its own."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from handlers import cli
from handlers.cli import serve as cli_serve
from store.access.principals import SCOPES
from store.models import Tenant
from tests.server_support import run_cli, serving
from tests.support import assert_error, assert_ok

KEY = re.compile(r"lp_(live|sandbox)_sk_[A-Za-z0-9]{32}")


def run(database_url: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, LEADPIPE_DATABASE_URL=database_url, LEADPIPE_WORKER_THREADS="0", **extra)


def create_tenant(
    database_url: str, name: str = "Acme", plan: str = "pro"
) -> subprocess.CompletedProcess[str]:
    return run(
        database_url,
        "tenant",
        "create",
        name,
        "--plan",
        plan,
        "--owner-email",
        f"owner@{name.lower()}.example",
        "--owner-password",
        "correct horse battery",
        "--json",
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_migrate_applies_once(sqlite_url: str, tmp_path: Path) -> None:
    first = run(sqlite_url, "migrate")
    assert first.returncode == 0, first.stderr
    assert re.match(r"Applied [1-9]\d* migration\(s\): 0001_initial", first.stdout)

    second = run(sqlite_url, "migrate")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "Applied 0 migration(s): none pending"
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"tenants", "users", "api_keys", "leads", "lead_tags", "lead_events"} <= tables


def test_tenant_create_prints_exactly_one_json_object(sqlite_url: str, tmp_path: Path) -> None:
    result = create_tenant(sqlite_url)

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    payload = json.loads(result.stdout)
    assert set(payload) == {"tenantId", "ownerId", "apiKey", "sandboxApiKey"}
    assert re.fullmatch(r"lp_live_sk_[A-Za-z0-9]{32}", payload["apiKey"])
    assert re.fullmatch(r"lp_sandbox_sk_[A-Za-z0-9]{32}", payload["sandboxApiKey"])
    assert re.fullmatch(r"[A-Za-z0-9]{16,17}", payload["tenantId"])
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        rows = conn.execute("SELECT * FROM api_keys WHERE tenant_id = ?", (payload["tenantId"],)).fetchall()
        plan = conn.execute("SELECT plan FROM tenants WHERE id = ?", (payload["tenantId"],)).fetchone()[0]
    assert plan == "pro" and len(rows) == 2
    for row in rows:  # only hashes stored
        assert not any(key[11:] in str(value) for value in row for key in (payload["apiKey"],))
        assert not any(payload["sandboxApiKey"][14:] in str(value) for value in row)


def test_tenant_create_keys_carry_every_scope(client: TestClient, database_url: str) -> None:
    result = create_tenant(database_url, name="Scoped")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)

    for key, environment in ((payload["apiKey"], "live"), (payload["sandboxApiKey"], "sandbox")):
        headers = {"X-API-Key": key}
        keys = assert_ok(client.get("/v1/api-keys?limit=100", headers=headers))
        own = [k for k in keys if key.startswith(k["prefix"]) and k["environment"] == environment]
        assert len(own) == 1 and sorted(own[0]["scopes"]) == sorted(SCOPES)
        lead = assert_ok(
            client.post(
                "/v1/leads",
                json={"email": "a@example.com", "firstName": "A", "lastName": "B"},
                headers=headers,
            ),
            201,
        )
        assert (lead["tenantId"], lead["environment"]) == (payload["tenantId"], environment)
        assert assert_ok(client.get("/v1/leads", headers=headers))[0]["id"] == lead["id"]
        child = assert_ok(
            client.post(
                "/v1/api-keys", json={"name": f"child-{environment}", "scopes": list(SCOPES)}, headers=headers
            ),
            201,
        )
        assert sorted(child["scopes"]) == sorted(SCOPES)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plan", "platinum"], "invalid choice: 'platinum'"),
        (["--plan", "pro", "--owner-email", "not-an-email"], "ownerEmail"),
        (["--plan", "pro", "--owner-password", "short"], "ownerPassword"),
    ],
)
def test_bad_tenant_input_fails_clearly_and_writes_nothing(
    sqlite_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    assert run(sqlite_url, "migrate").returncode == 0
    base = {"--owner-email": "o@example.com", "--owner-password": "long enough pw", "--plan": "pro"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [item for pair in base.items() for item in pair]

    result = run(sqlite_url, "tenant", "create", "Acme", *flat, "--json")

    assert result.returncode != 0
    assert message in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stderr
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM tenants").fetchone()[0] == 0


def test_production_without_secret_is_a_clear_startup_error(sqlite_url: str) -> None:
    result = run(sqlite_url, "migrate", LEADPIPE_ENV="production")
    assert result.returncode == 2
    assert "LEADPIPE_SECRET_KEY is required" in result.stderr and "Traceback" not in result.stderr


def test_bootstrap_does_nothing_on_a_database_with_tenants(
    app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Tenant.get_or_create(id="BootstrapProbe01", defaults={"name": "x", "plan": "free"})
    before = Tenant.select().count()
    cli_serve.bootstrap()
    assert capsys.readouterr().out == ""
    assert Tenant.select().count() == before


def test_serve_bootstraps_an_empty_database_with_one_working_key(sqlite_url: str, tmp_path: Path) -> None:
    env = {
        "LEADPIPE_DATABASE_URL": sqlite_url,
        "LEADPIPE_WORKER_THREADS": "0",
        "LEADPIPE_LOG_LEVEL": "WARNING",
    }
    with serving(tmp_path, **env) as server:
        lines = server.stdout.read_text().splitlines()[:2]
        keys = KEY.findall("\n".join(lines))
        printed = KEY.search("\n".join(lines))
        assert len(keys) == 1 and printed is not None, lines
        assert "shown once" in lines[0]
        key = printed.group(0)
        assert key.startswith("lp_live_sk_")
        response = httpx.get(f"{server.base}/v1/leads", headers={"X-API-Key": key}, timeout=5)
        assert response.status_code == 200, response.text
        assert response.json()["data"] == []
        bad = httpx.get(
            f"{server.base}/v1/leads",
            headers={"X-API-Key": key[:-1] + ("0" if key[-1] != "0" else "1")},
            timeout=5,
        )
        assert_error(bad, 401, "invalid_key")


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib

    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    expected = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text())
    assert capsys.readouterr().out.strip() == f"leadpipe {expected['project']['version']}"


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _parsers(sub)
    return found


def test_every_option_has_help_and_shows_its_default() -> None:
    for sub in _parsers(cli.parser()):
        for action in sub._actions:
            if isinstance(
                action, argparse._SubParsersAction | argparse._HelpAction | argparse._VersionAction
            ):
                continue
            assert action.help, f"{sub.prog}: {action.dest} has no help"
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
                assert "%(default)" in action.help or (
                    isinstance(sub.formatter_class, type)
                    and issubclass(sub.formatter_class, argparse.ArgumentDefaultsHelpFormatter)
                ), f"{sub.prog}: {action.dest} does not show its default"
