"""GET /metrics in one process: values move as requests, jobs and 429s happen.

Counters are process-wide and other tests add to them, so every assertion is on the change
between two scrapes around the action, never on an absolute value.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from starlette.testclient import TestClient

from handlers import worker
from handlers.settings import ConfigError, Settings
from store.ids import new_id
from store.jobs import queue as jobs
from tests.ratelimit_support import client_for, limited_app
from tests.support import SeededTenant, assert_error, assert_ok, lead_body, samples, value
from tests.webhook_support import create_endpoint, deliver, receiver

TOKEN = "metrics-token-" + "x" * 20


def scrape(client: TestClient, **headers: str) -> dict[Any, float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.headers["x-request-id"]
    return samples(response.text)


def test_requests_are_counted_by_operation_and_status(client: TestClient, tenant: SeededTenant) -> None:
    before = scrape(client)
    for _ in range(3):
        assert_ok(client.get("/v1/leads", headers=tenant.headers))
    created = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    missing = new_id()
    assert_error(client.get(f"/v1/leads/{missing}", headers=tenant.headers), 404, "not_found")
    assert_error(client.get("/v1/leads", headers={"X-API-Key": "lp_live_sk_nope"}), 401, "invalid_key")
    client.get(f"/v1/no-such-path/{missing}")
    after_response = client.get("/metrics")
    after = samples(after_response.text)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("leadpipe_http_requests_total", operation="listLeads", status="200") == 3
    assert delta("leadpipe_http_requests_total", operation="createLead", status="201") == 1
    assert delta("leadpipe_http_requests_total", operation="getLead", status="404") == 1
    assert delta("leadpipe_http_requests_total", operation="listLeads", status="401") == 1
    assert delta("leadpipe_http_requests_total", operation="unmatched", status="404") == 1
    assert delta("leadpipe_http_requests_total", operation="metrics", status="200") == 1  # the first scrape
    assert delta("leadpipe_http_request_duration_seconds_count", operation="listLeads") == 4  # 3 + the 401
    assert delta("leadpipe_http_request_duration_seconds_sum", operation="listLeads") > 0
    # Bounded labels only: no id of a tenant, key, lead or unknown path ever becomes a label.
    for secret in (tenant.id, created["id"], missing, tenant.live_key[:12], "no-such-path"):
        assert secret not in after_response.text
    assert value(after, "leadpipe_db_pool_max_connections") >= 1


def test_queue_depth_and_job_durations_follow_the_jobs(app: Any) -> None:
    client = TestClient(app)
    tenant_id = new_id()
    before = scrape(client)
    for _ in range(2):
        jobs.enqueue(tenant_id, "dedup", {"leadId": new_id()})  # leads that no longer exist: quick jobs
    queued = scrape(client)
    assert worker.Worker().run_until_idle(tenant_id=tenant_id) == 2
    after = scrape(client)

    assert value(queued, "leadpipe_jobs", kind="dedup", state="queued") == (
        value(before, "leadpipe_jobs", kind="dedup", state="queued") + 2
    )
    assert value(after, "leadpipe_jobs", kind="dedup", state="queued") == value(
        before, "leadpipe_jobs", kind="dedup", state="queued"
    )
    assert value(after, "leadpipe_jobs", kind="dedup", state="done") == (
        value(before, "leadpipe_jobs", kind="dedup", state="done") + 2
    )
    count = "leadpipe_job_duration_seconds_count"
    assert value(after, count, kind="dedup") == value(before, count, kind="dedup") + 2
    # Every registered kind shows its queued/running depth, zero included.
    assert ("leadpipe_jobs", frozenset({"kind": "lead_import", "state": "running"}.items())) in after


def test_429s_are_counted_by_scope_and_the_scrape_is_never_limited(
    app: Any, settings: Settings, new_tenant: Any
) -> None:
    free = new_tenant("free")
    with limited_app(settings, "memory://", rate_limit_per_ip=(30, 11)) as limited:
        client = client_for(limited)
        before = scrape(client)
        statuses = [client.get("/v1/leads", headers=free.headers).status_code for _ in range(11)]
        tenant_refusals = statuses.count(429)
        ip_statuses = [client.get("/v1/leads", headers=free.headers).status_code for _ in range(3)]
        scrapes = [client.get("/metrics").status_code for _ in range(20)]
        after = scrape(client)

    assert statuses[:10] == [200] * 10 and tenant_refusals == 1
    assert ip_statuses == [429] * 3  # the IP's burst of 11 is spent: refused before the key is read
    assert scrapes == [200] * 20
    tenant = "leadpipe_rate_limited_total"
    assert value(after, tenant, scope="tenant") - value(before, tenant, scope="tenant") == 1
    assert value(after, tenant, scope="ip") - value(before, tenant, scope="ip") == 3
    requests = "leadpipe_http_requests_total"
    assert (
        value(after, requests, operation="listLeads", status="429")
        - value(before, requests, operation="listLeads", status="429")
        == 4
    )


def test_a_metrics_token_is_required_when_set(app: Any, settings: Settings) -> None:
    with limited_app(settings, "memory://", metrics_token=TOKEN) as guarded:
        client = TestClient(guarded)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = client.get("/metrics", headers=headers)
            body = assert_error(response, 401, "invalid_key")
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "leadpipe_" not in response.text and TOKEN not in body["message"]
        assert value(scrape(client, Authorization=f"Bearer {TOKEN}"), "leadpipe_db_pool_max_connections") >= 1
        assert client.post("/metrics").status_code == 405


def test_metrics_live_outside_the_api_and_its_spec(client: TestClient) -> None:
    spec = client.get("/v1/openapi.json").json()
    assert "/metrics" not in spec["paths"]
    assert client.get("/v1/metrics").status_code == 404


def test_nothing_imports_prometheus_client_before_serve_sets_its_directory() -> None:
    """The multiprocess mode is chosen at import time: `leadpipe serve` must get there first."""
    code = "import sys, handlers.cli, handlers.asgi; print('prometheus_client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_settings_reject_a_short_metrics_token() -> None:
    with pytest.raises(ConfigError, match="LEADPIPE_METRICS_TOKEN"):
        Settings.from_env({"LEADPIPE_METRICS_TOKEN": "short"})
    assert Settings.from_env({"LEADPIPE_METRICS_TOKEN": TOKEN}).metrics_token == TOKEN
    assert Settings.from_env({}).metrics_token is None


def test_webhook_deliveries_are_counted_by_outcome(client: TestClient, tenant: SeededTenant) -> None:
    """A real receiver answers 500 then 204: one retry_scheduled and one succeeded attempt."""
    before = scrape(client)
    with receiver() as hook:
        hook.script = [(500, {}, b"down"), (204, {}, b"")]
        create_endpoint(client, tenant.headers, hook.url, events=["lead.created"])
        assert client.post("/v1/leads", json=lead_body(), headers=tenant.headers).status_code == 201
        deliver(tenant.id)
        assert len(hook.received) == 2
    after = scrape(client)
    name = "leadpipe_webhook_deliveries_total"
    for outcome in ("retry_scheduled", "succeeded"):
        assert value(after, name, outcome=outcome) == value(before, name, outcome=outcome) + 1
