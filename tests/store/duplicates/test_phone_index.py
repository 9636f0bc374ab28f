"""The phone rule's lookups are served by the partial index ``leads_phone_match`` (migration
0010), also after ``ANALYZE`` saw a tenant whose leads have no phone: with the full index of
0001, SQLite then planned them as a scan of the whole leads table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import peewee
import pytest

from store import db
from store.duplicates import matching
from store.models import Lead
from tests.support import BACKEND, analyzed_sqlite, query_plan

PHONE = "+442079460958"
INSERT_LEADS = (
    "INSERT INTO leads (tenant_id, id, environment, email, email_normalized, first_name, last_name,"
    " phone, phone_e164, source, status, score, custom_fields, tags, version, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'api', 'new', 0, '{}', '[]', 1, '2026-01-01', '2026-01-01')"
)


def _queries(tenant_id: str) -> list[peewee.ModelSelect[Lead]]:
    """The per-lead lookup (`matching.match_queries`) and the set-based one's (an IN list)."""
    lead = Lead(
        tenant_id=tenant_id, id="x" * 16, environment="live", email_normalized="a@b.c", phone_e164=PHONE
    )
    scope = (Lead.tenant_id == tenant_id) & (Lead.environment == "live")
    return [
        matching.match_queries(lead)[matching.PHONE],
        Lead.select(Lead.phone_e164, Lead.id).where(scope & Lead.phone_e164.in_([PHONE, "+442079460959"])),
    ]


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's planner after ANALYZE")
def test_sqlite_uses_the_phone_index_after_analyze_of_phoneless_leads(app: Any, tmp_path: Path) -> None:
    rows = [
        ("tnt", f"l{i:015d}", "live", f"p{i}@x.com", f"p{i}@x.com", "P", f"N{i}", None, None)
        for i in range(2_000)
    ]  # fmt: skip
    with analyzed_sqlite(tmp_path / "phones.db", INSERT_LEADS, rows) as fresh:
        for query in _queries("tnt"):  # built for SQLite: the app's database is SQLite too
            plan = query_plan(fresh, query)
            assert "leads_phone_match" in plan and "SCAN" not in plan, plan


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's planner")
def test_postgres_serves_phone_lookups_from_the_partial_index(app: Any) -> None:
    with db.database.connection_context(), db.database.atomic():
        db.database.execute_sql("SET LOCAL enable_seqscan = off")  # the test tables are tiny
        for query in _queries("tnt"):
            plan = query_plan(db.database, query)
            assert "leads_phone_match" in plan, plan
