"""`matches_for_many` (one query per rule for a whole set of leads) finds exactly what the
per-lead `find_matches` finds, for random leads drawn from small pools so that they collide by
email, phone and name + company in every combination, live and sandbox mixed."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.db import reading
from store.duplicates import matching
from store.leads import lifecycle as leads
from store.models import Lead
from tests.support import make_tenant, principal

EMAILS = ("pat@example.com", " PAT@example.com", "pat+x@example.com", "p.a.t@gmail.com", "pat@googlemail.com")
PHONES = (None, "+44 20 7946 0958", "+442079460958", "+44 20 7946 0959", "not a phone")
# Case folds as the database's LOWER does (SQLite: ASCII only): "ÉMILE" and "émile" differ there.
FIRST = ("Pat", "pat", "PAT", "Émile", "émile")
LAST = ("Lee", "LEE", "Ode")
COMPANIES = (None, "", "Acme, Inc.", "ACME", "acme corp", "Globex GmbH", "Inc")

lead_specs = st.lists(
    st.fixed_dictionaries(
        {
            "email": st.sampled_from(EMAILS),
            "phone": st.sampled_from(PHONES),
            "first_name": st.sampled_from(FIRST),
            "last_name": st.sampled_from(LAST),
            "company": st.sampled_from(COMPANIES),
            "sandbox": st.booleans(),
        }
    ),
    min_size=1,
    max_size=10,
)


@reading
def _per_lead(lead_ids: list[str], tenant_id: str) -> dict[str, list[matching.Match]]:
    out = {}
    for lead in Lead.select().where((Lead.tenant_id == tenant_id) & Lead.id.in_(lead_ids)):
        created: dict[str, Any] = {}
        found = matching.find_matches(lead, created)
        out[lead.id] = sorted(
            (
                matching.Match(other, created[other][0], tuple(sorted(reasons)))
                for other, reasons in found.items()
            ),
            key=lambda match: match.key,
        )
    return out


@reading
def _many(tenant_id: str, environment: str, given: list[Any]) -> dict[str, list[matching.Match]]:
    return matching.matches_for_many(tenant_id, environment, given)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=lead_specs, as_rows=st.booleans())
def test_matches_for_many_is_find_matches_for_each_lead(
    app: Any, specs: list[dict[str, Any]], as_rows: bool
) -> None:
    tenant = make_tenant()
    made: dict[str, list[Lead]] = {"live": [], "sandbox": []}
    for spec in specs:
        fields = {k: v for k, v in spec.items() if k != "sandbox" and v is not None}
        key = tenant.sandbox_key if spec["sandbox"] else tenant.live_key
        lead = leads.create_lead(principal(key), fields)
        made[lead.environment].append(lead)
    expected = _per_lead([lead.id for group in made.values() for lead in group], tenant.id)

    for environment, group in made.items():
        other = [lead for env, rest in made.items() if env != environment for lead in rest]
        # Leads of the other environment and unknown ids get no entry; rows and ids alike.
        given_leads: list[Any] = [lead if as_rows else lead.id for lead in group + other]
        given_leads.append("ld_nosuchlead0000")
        found = _many(tenant.id, environment, given_leads)
        assert found == {lead.id: expected[lead.id] for lead in group}
