"""``leadpipe tenant create``: provisioning a tenant (``set-plan``: `handlers.cli.limits`;
``list``: `handlers.cli.ops`)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from handlers.settings import Settings
from handlers.store_setup import open_store
from store.access.principals import PLANS
from store.tenants import lifecycle as tenants


def add_commands(tenant_cmd: Any) -> None:
    create = tenant_cmd.add_parser("create", help="create a tenant with an owner and two admin keys")
    create.add_argument("name", help="the tenant's display name")
    create.add_argument("--plan", choices=PLANS, default="free", help="the tenant's plan")
    create.add_argument("--owner-email", required=True, help="the owner user's email")
    create.add_argument("--owner-password", required=True, help="the owner user's password")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(func=create_tenant)


def create_tenant(settings: Settings, args: argparse.Namespace) -> int:
    open_store(settings, migrate=True)
    provisioned = tenants.create_tenant(
        args.name, plan=args.plan, owner_email=args.owner_email, owner_password=args.owner_password
    )
    result = {
        "tenantId": provisioned.tenant.id,
        "ownerId": provisioned.owner.id,
        "apiKey": provisioned.live_key,
        "sandboxApiKey": provisioned.sandbox_key,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0
