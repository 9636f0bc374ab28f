"""Bulk inserts: the fast path stores exactly what Peewee's insert_many would, or defers to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import bulk
from store.db import database
from store.ids import new_id
from store.models import Job, Lead


def lead_row(tenant_id: str, **values: Any) -> dict[str, Any]:
    now = dt.datetime(2026, 1, 2, 3, 4, 5, 678901)
    row = {field.name: None for field in Lead._meta.sorted_fields}
    row.update(
        tenant_id=tenant_id, id=new_id(), environment="live", email="a@example.com",
        email_normalized="a@example.com", first_name="A", last_name="B", source="import", status="new",
        score=7, custom_fields={"k": [1, "ü"]}, tags=["x"], created_at=now, updated_at=now, version=1,
    )  # fmt: skip
    row.update(values)
    return row


def test_fast_rows_read_back_like_peewee_rows(app: Any) -> None:
    fast, slow = new_id(), new_id()
    variants = [
        {},
        {"phone": "+1-555-0199", "custom_fields": {}, "tags": []},
        {"score": 0, "company": "Ü Co"},
    ]
    with database.connection_context(), database.atomic():
        bulk.insert_rows(Lead, [lead_row(fast, **v) for _ in range(70) for v in variants])  # 3 chunks
        Lead.insert_many([lead_row(slow, **v) for _ in range(70) for v in variants]).execute()

    names = [f.name for f in Lead._meta.sorted_fields if f.name not in ("id", "tenant_id")]

    def stored(tenant_id: str) -> list[tuple[Any, ...]]:
        rows = Lead.select().where(Lead.tenant_id == tenant_id).order_by(Lead.score, Lead.phone, Lead.company)
        return [tuple(getattr(row, name) for name in names) for row in rows]

    assert len(stored(fast)) == 210
    assert stored(fast) == stored(slow)


def test_the_fast_path_is_taken_for_complete_rows(app: Any) -> None:
    with database.connection_context():
        fields = list(Lead._meta.sorted_fields)
        assert bulk._template(Lead, fields, lead_row(new_id())) is not None
        partial = lead_row(new_id())
        del partial["duplicate_of"]
        assert bulk._template(Lead, fields, partial) is None  # missing fields: Peewee's way


def test_jobs_rows_with_json_payloads(app: Any) -> None:
    tenant_id = new_id()
    now = dt.datetime(2026, 1, 1)
    rows = [
        {field.name: None for field in Job._meta.sorted_fields}
        | {
            "tenant_id": tenant_id,
            "id": new_id(),
            "kind": "k",
            "payload": {"n": n},
            "state": "queued",
            "attempts": 0,
            "max_attempts": 5,
            "run_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(3)
    ]
    with database.connection_context(), database.atomic():
        bulk.insert_rows(Job, rows)
    stored = Job.select().where(Job.tenant_id == tenant_id).order_by(Job.created_at)
    assert sorted(job.payload["n"] for job in stored) == [0, 1, 2]
    assert all(job.result is None and job.locked_until is None for job in stored)


AWKWARD = ["a", "N", "Ü", "\\", "\t", "\n", "\r", " ", '"', "'", ",", "é", "😀"]
awkward_text = st.just("\\N") | st.text(alphabet=st.sampled_from(AWKWARD), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(
        st.fixed_dictionaries(
            {
                "first_name": awkward_text,
                "phone": st.none() | awkward_text,
                "message": st.none() | awkward_text,
                "score": st.integers(min_value=-(2**31), max_value=2**31 - 1),
                "custom_fields": st.dictionaries(
                    awkward_text, st.none() | awkward_text | st.integers(), max_size=3
                ),
                "tags": st.lists(awkward_text, max_size=3),
                "created_at": st.datetimes(
                    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)
                ),
            }
        ),
        min_size=bulk.COPY_MIN_ROWS,  # on PostgreSQL: through COPY
        max_size=bulk.COPY_MIN_ROWS + 5,
    )
)
def test_many_rows_of_any_text_read_back_like_peewee_rows(app: Any, values: list[dict[str, Any]]) -> None:
    """Many rows (``COPY`` on PostgreSQL, one INSERT on SQLite) store exactly what Peewee stores,
    whatever their text holds: backslashes, tabs, newlines, ``\\N``, quotes, non-ASCII."""
    fast, slow = new_id(), new_id()
    with database.connection_context(), database.atomic():
        bulk.insert_rows(Lead, [lead_row(fast, **v) for v in values])
        Lead.insert_many([lead_row(slow, **v) for v in values]).execute()

    names = [f.name for f in Lead._meta.sorted_fields if f.name not in ("id", "tenant_id")]

    def stored(tenant_id: str) -> list[tuple[Any, ...]]:
        rows = Lead.select().where(Lead.tenant_id == tenant_id)
        return sorted((tuple(getattr(row, name) for name in names) for row in rows), key=repr)

    assert len(stored(fast)) == len(values)
    assert stored(fast) == stored(slow)


ANY_VALUE = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.integers(-(2**40), 2**40),
    st.booleans(),
    st.floats(allow_nan=False),
    st.binary(max_size=4),
    st.datetimes(),
    st.dates(),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=ANY_VALUE)
def test_values_left_unconverted_are_what_db_value_gives(app: Any, value: Any) -> None:
    """A value skips ``db_value`` only where ``db_value`` would hand back that very value."""
    for model in (Lead, Job):
        for name, _convert, same in bulk._converters(model, list(model._meta.sorted_fields)):
            if type(value) in same:
                converted = model._meta.fields[name].db_value(value)
                assert converted is value or (type(converted) is type(value) and converted == value)
