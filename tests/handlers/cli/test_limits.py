"""``leadpipe tenant set-plan`` and ``leadpipe idempotency purge`` against the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from handlers import cli
from store import db
from store.models import Tenant
from tests.support import SeededTenant


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    """The CLI binds its own database handle; the suite's binding comes back afterwards."""
    monkeypatch.setenv("LEADPIPE_DATABASE_URL", database_url)
    original = db.database.obj
    yield
    opened = db.database.obj
    db.bind(original)
    if opened is not original:
        close_all = getattr(opened, "close_all", None)
        close_all() if close_all else opened.close()


def test_set_plan_gives_an_enterprise_tenant_its_own_limits(
    cli_env: None, tenant: SeededTenant, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["tenant", "set-plan", tenant.id, "--plan", "enterprise", "--limit", "900", "--json"])

    assert code == 0
    assert json.loads(capsys.readouterr().out) == {
        "tenantId": tenant.id,
        "plan": "enterprise",
        "rateLimit": 900,
        "burst": 90,
    }
    row = Tenant.get_by_id(tenant.id)
    assert (row.plan, row.rate_limit, row.rate_burst) == ("enterprise", 900, 90)


def test_custom_limits_are_refused_below_enterprise(
    cli_env: None, tenant: SeededTenant, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["tenant", "set-plan", tenant.id, "--plan", "team", "--limit", "900"])

    assert code == 1
    assert "enterprise plan only" in capsys.readouterr().err
    assert Tenant.get_by_id(tenant.id).plan == tenant.plan


def test_idempotency_purge_reports_what_it_removed(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["idempotency", "purge"]) == 0
    assert capsys.readouterr().out.startswith("Purged ")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--plan", "pro"], (2_000, 200)),  # the operator's LEADPIPE_RATE_LIMITS row, not the table's
        (["--plan", "starter"], (300, 30)),  # no override: the plan table
        (["--plan", "enterprise", "--limit", "900"], (900, 90)),  # the tenant's own beats both
    ],
)
def test_set_plan_prints_the_limits_the_middleware_enforces(
    cli_env: None,
    tenant: SeededTenant,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: tuple[int, int],
) -> None:
    from handlers.http.rate_limit import tenant_policy
    from handlers.settings import Settings
    from tests.support import principal

    monkeypatch.setenv("LEADPIPE_RATE_LIMITS", "pro=2000/200,enterprise=20000/2000")
    assert cli.main(["tenant", "set-plan", tenant.id, *argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)

    enforced = tenant_policy(principal(tenant.live_key), Settings.from_env().rate_limit_overrides)
    assert enforced is not None
    assert (printed["rateLimit"], printed["burst"]) == (enforced.limit, enforced.burst) == expected
