"""The prepared IN-list reads (`store.duplicates.lookups`) send exactly the SQL and parameters
peewee builds for the same (padded) values and return the rows peewee's ``.tuples()`` returns,
on the database under test; padding never changes what a list matches."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.duplicates import lookups
from store.leads import lifecycle as leads
from tests.support import SeededTenant, principal

TEXT = st.text(alphabet="abcXYZ.+@-_% 0123", min_size=1, max_size=12)
REASON = st.sampled_from((lookups.EMAIL, lookups.PHONE, lookups.NAME_COMPANY))


def _adapted(params: list[Any]) -> list[Any]:
    return [getattr(value, "adapted", value) for value in params]


def _same_sql(ours: tuple[str, list[Any]], query: Any) -> None:
    theirs = query.sql()
    assert ours[0] == theirs[0]
    assert _adapted(ours[1]) == _adapted(theirs[1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tenant=TEXT,
    environment=TEXT,
    reason=REASON,
    values=st.lists(TEXT, min_size=1, max_size=40),
    more=st.lists(TEXT, min_size=1, max_size=40),
)
def test_prepared_lookups_are_peewees(
    app: Any, tenant: str, environment: str, reason: str, values: list[str], more: list[str]
) -> None:
    v, w = lookups.padded(values), lookups.padded(more)
    named = {"tenant_id": tenant, "environment": environment}
    named.update({f"v{i}": x for i, x in enumerate(v)} | {f"w{i}": x for i, x in enumerate(w)})
    _same_sql(lookups.KEYS.sql(len(v), named), lookups.keys_query(tenant, v))
    _same_sql(lookups.STORED.sql(len(v), named), lookups.stored_query(tenant, environment, v))
    _same_sql(lookups.SAME_EMAIL.sql(len(v), named), lookups.same_email_query(tenant, environment, v))
    w = w if reason == lookups.NAME_COMPANY else []
    _same_sql(
        lookups.CANDIDATES.sql((reason, len(v), len(w)), named),
        lookups.candidates_query(tenant, environment, reason, v, w),
    )


@given(n=st.integers(1, lookups.MAX_VALUES))
def test_padding_keeps_the_values_and_few_shapes(n: int) -> None:
    values = [str(i) for i in range(n)]
    padded = lookups.padded(values)
    assert padded[:n] == values and set(padded) == set(values)
    assert len(padded) in {1 << k for k in range(9)} | {lookups.MAX_VALUES} and len(padded) >= n


def test_an_empty_or_too_long_list_is_refused() -> None:
    for n in (0, lookups.MAX_VALUES + 1):
        with pytest.raises(ValueError):
            lookups.bucket(n)


def test_the_rows_are_peewees(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    made = [
        leads.create_lead(
            caller,
            {
                "email": f"p{i % 3}@example.com",
                "first_name": "Pat",
                "last_name": f"Lee{i % 2}",
                "company": "Acme",
                "phone": "+44 20 7946 0958" if i % 2 else None,
            },
        )
        for i in range(7)
    ]
    ids = [lead.id for lead in made] + ["missing"]
    env = caller.environment
    emails = sorted({lead.email_normalized for lead in made})
    phones = sorted({lead.phone_e164 for lead in made if lead.phone_e164})
    lasts, firsts = ["lee0", "lee1", "nope"], ["pat"]

    def peewees(query: Any) -> list[tuple[Any, ...]]:
        return list(query.tuples())

    assert sorted(lookups.keys(tenant.id, ids)) == sorted(peewees(lookups.keys_query(tenant.id, ids)))
    assert sorted(lookups.stored(tenant.id, env, ids)) == sorted(
        peewees(lookups.stored_query(tenant.id, env, ids))
    )
    assert lookups.same_email(tenant.id, env, emails) == peewees(
        lookups.same_email_query(tenant.id, env, emails)
    )
    for reason, values, more in (
        (lookups.EMAIL, emails, []),
        (lookups.PHONE, phones, []),
        (lookups.NAME_COMPANY, lasts, firsts),
    ):
        ours = lookups.candidates(tenant.id, env, reason, values, more)
        theirs = peewees(lookups.candidates_query(tenant.id, env, reason, values, more))
        assert sorted(ours) == sorted(theirs) and ours
