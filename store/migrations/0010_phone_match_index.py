"""The phone rule's index holds only leads that have a phone.

``(tenant_id, environment, phone_e164)`` (0001) indexed every lead, most with no phone. Once
``ANALYZE`` had seen a tenant whose leads mostly lack one, SQLite rated a phone lookup as
returning most of the partition and planned the dedup job's phone query as a full scan of the
leads table (bench/: ``SCAN t1``). A partial index ``WHERE phone_e164 IS NOT NULL`` holds (and
is analyzed over) phones only, so a lookup is rated and run as what it is; a lead created
without a phone no longer writes an entry at all. Both databases use it for ``phone_e164 = ?``
and ``IN (...)``: a comparison implies ``IS NOT NULL``.
"""

OLD = "leads_tenant_id_environment_phone_e164"


def up(migrator, db):  # type: ignore[no-untyped-def]
    db.execute_sql(
        "CREATE INDEX leads_phone_match ON leads (tenant_id, environment, phone_e164) "
        "WHERE phone_e164 IS NOT NULL"
    )
    db.execute_sql(f"DROP INDEX IF EXISTS {OLD}")


def down(migrator, db):  # type: ignore[no-untyped-def]
    db.execute_sql(f"CREATE INDEX {OLD} ON leads (tenant_id, environment, phone_e164)")
    db.execute_sql("DROP INDEX IF EXISTS leads_phone_match")
