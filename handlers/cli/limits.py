"""CLI commands for limits: ``tenant set-plan`` and ``idempotency purge``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from handlers.settings import Settings
from handlers.store_setup import open_store
from store.access.principals import PLANS
from store.idempotency import replays as idempotency
from store.limits import plans


def add_commands(tenant_cmd: Any, commands: Any) -> None:
    set_plan = tenant_cmd.add_parser(
        "set-plan", help="change a tenant's plan; enterprise tenants may get their own rate limit"
    )
    set_plan.add_argument("tenant_id", help="the tenant's id")
    set_plan.add_argument("--plan", choices=PLANS, required=True, help="the new plan (required)")
    set_plan.add_argument("--limit", type=int, help="requests per minute (enterprise only)")
    set_plan.add_argument("--burst", type=int, help="burst (enterprise only; default limit/10)")
    set_plan.add_argument("--json", action="store_true", help="print one JSON object")
    set_plan.set_defaults(func=set_plan_command)

    purge = commands.add_parser("idempotency", help="idempotency records").add_subparsers(
        dest="action", required=True
    )
    purge.add_parser("purge", help="delete the expired (older than 24 h) idempotency records").set_defaults(
        func=purge_command
    )


def purge_command(settings: Settings, _args: argparse.Namespace) -> int:
    open_store(settings, migrate=True)
    print(f"Purged {idempotency.purge_all_expired()} expired idempotency record(s)")
    return 0


def set_plan_command(settings: Settings, args: argparse.Namespace) -> int:
    open_store(settings, migrate=True)
    tenant = plans.set_plan(args.tenant_id, args.plan, limit=args.limit, burst=args.burst)
    # What the middleware enforces: the tenant's own limits, the operator's overrides, the table.
    limit, burst = plans.plan_rate(
        tenant.plan, tenant.rate_limit, tenant.rate_burst, settings.rate_limit_overrides
    )
    result = {"tenantId": tenant.id, "plan": tenant.plan, "rateLimit": limit, "burst": burst}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"Tenant {tenant.id} is on {tenant.plan}: {limit} requests/minute, burst {burst}")
    return 0
