"""The database's plan for Leadpipe's own list query (built by `store.leads.queries`, not retyped),
recorded with each run so a slow list at 1M leads can be traced to its plan."""

from __future__ import annotations

from typing import Any

from bench.seed import LIST_Q, LIST_STATUS, BenchDatabase


def explain_list(db: BenchDatabase, tenant_id: str) -> list[str]:
    from store import db as store_db
    from store.access.principals import Principal
    from store.leads import queries as lead_queries
    from store.models import Lead

    store_db.connect(db.url)
    caller = Principal(
        tenant_id=tenant_id, plan="enterprise", environment="live", scopes=frozenset(),
        actor_type="api_key", actor_id="bench", api_key_id="bench", user_id=None,
    )  # fmt: skip
    filters = lead_queries.LeadFilters(status=LIST_STATUS, q=LIST_Q)
    query = (
        Lead.select()
        .where(lead_queries.matching(caller, filters))
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(21)
    )
    sql, params = query.sql()
    prefix = "EXPLAIN QUERY PLAN " if db.kind == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    try:
        with store_db.database.connection_context():
            rows: list[Any] = store_db.database.execute_sql(prefix + sql, params).fetchall()
    finally:
        store_db.database.obj.close_all() if hasattr(store_db.database.obj, "close_all") else None
    return [" | ".join(str(col) for col in row) for row in rows]


def explain_dedup(db: BenchDatabase, tenant_id: str) -> dict[str, list[str]]:
    """The plans of the dedup job's three match queries (`store.duplicates.detection`), as the
    store builds them, for one seeded lead: each must be an index lookup, not a partition scan."""
    from store import db as store_db
    from store.duplicates import detection
    from store.models import Lead

    store_db.connect(db.url)
    prefix = "EXPLAIN QUERY PLAN " if db.kind == "sqlite" else "EXPLAIN "
    out: dict[str, list[str]] = {}
    try:
        with store_db.database.connection_context():
            lead = Lead.select().where(Lead.tenant_id == tenant_id).first()
            lead.phone_e164 = lead.phone_e164 or "+442079460958"
            for name, query in detection.match_queries(lead).items():
                sql, params = query.sql()
                rows: list[Any] = store_db.database.execute_sql(prefix + sql, params).fetchall()
                out[name] = [" | ".join(str(col) for col in row) for row in rows]
    finally:
        store_db.database.obj.close_all() if hasattr(store_db.database.obj, "close_all") else None
    return out
