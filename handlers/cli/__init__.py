"""The ``leadpipe`` command: serve, migrate, and manage tenants."""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import threading
from collections.abc import Sequence

from handlers import logging_setup, worker
from handlers.cli import limits, ops
from handlers.settings import ConfigError, Settings
from handlers.store_setup import open_store
from store import db
from store.access.principals import PLANS
from store.errors import StoreError
from store.tenants import lifecycle as tenants


def _open(settings: Settings) -> None:
    open_store(settings)


def _bootstrap(plan: str = "enterprise") -> None:
    """On an empty database, make the operator's own tenant (enterprise: no plan limit to trip
    over) and show its admin key once, so a newcomer can call the API within a minute."""
    if tenants.tenant_count():
        return
    provisioned = tenants.create_tenant(
        "default",
        plan=plan,
        owner_email="owner@leadpipe.local",
        owner_password=secrets.token_urlsafe(24),
    )
    # One key, as promised: the sandbox key's secret is never shown (mint sandbox keys with
    # this one: POST /v1/api-keys {"environment": "sandbox", ...}).
    print(
        f"Created tenant 'default' ({plan}). Its admin API key (shown once, store it now):\n"
        f"  {provisioned.live_key}",
        flush=True,
    )


def check_workers(settings: Settings, workers: int) -> None:
    """Several uvicorn workers must share their rate-limit counters, or each worker counts on
    its own and every limit silently becomes N times larger."""
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if workers > 1 and settings.rate_limit_url.startswith("memory://"):
        raise ConfigError(
            f"--workers {workers} needs rate-limit counters shared by all workers: set "
            "LEADPIPE_RATE_LIMIT_URL=redis://host:6379/0 (with memory:// each worker would count "
            f"on its own, multiplying every rate limit by {workers})"
        )


def serve(settings: Settings, host: str, port: int, workers: int, plan: str = "enterprise") -> int:
    import uvicorn

    check_workers(settings, workers)
    uvicorn_options = ops.prepare_serve(settings)  # first: before anything imports metrics
    _open(settings)
    db.migrate()
    _bootstrap(plan)
    # The job worker runs beside the server, in this (parent) process: one set of worker
    # threads however many uvicorn workers serve HTTP.
    stop = threading.Event()
    threads = worker.start_threads(settings.worker_threads, stop)
    try:
        uvicorn.run(
            "handlers.asgi:app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            # Forwarded headers only from the operator's proxies (uvicorn's own default trusts
            # 127.0.0.1 and $FORWARDED_ALLOW_IPS: any local hop could claim any client IP).
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=list(settings.trusted_proxies),
            **uvicorn_options,
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    return 0


def run_worker(settings: Settings, threads: int, once: bool, tenant_id: str | None = None) -> int:
    """``leadpipe worker``: run jobs without serving HTTP (scale it out as separate processes)."""
    logging_setup.configure(settings)
    _open(settings)
    db.migrate()
    if once:
        worker.release_dead_workers_jobs()
        print(f"Ran {worker.Worker().run_until_idle(tenant_id=tenant_id)} job(s)", flush=True)
        return 0
    stop = threading.Event()
    # SIGTERM (docker stop, systemd) finishes the jobs in hand instead of abandoning them to
    # their leases.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = worker.start_threads(threads, stop, tenant_id)
    print(f"leadpipe worker: {threads} thread(s) running; stop with SIGTERM or Ctrl-C", flush=True)
    try:
        while not stop.is_set() and any(thread.is_alive() for thread in started):
            stop.wait(1.0)
    except KeyboardInterrupt:
        pass
    stop.set()
    for thread in started:
        thread.join(timeout=30)
    return 0


def migrate(settings: Settings) -> int:
    _open(settings)
    applied = db.migrate()
    print(f"Applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    return 0


def create_tenant(settings: Settings, args: argparse.Namespace) -> int:
    _open(settings)
    db.migrate()
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="leadpipe", description="Self-hosted leads pipeline API")
    commands = root.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="apply migrations and serve the API")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument("--workers", type=int, default=1)
    serve_cmd.add_argument(
        "--plan", choices=PLANS, default="enterprise", help="plan of the tenant made on an empty database"
    )

    commands.add_parser("migrate", help="apply pending migrations")

    worker_cmd = commands.add_parser("worker", help="run background jobs (dedup, imports), no HTTP")
    worker_cmd.add_argument("--threads", type=int, default=1)
    worker_cmd.add_argument("--once", action="store_true", help="run the jobs due now, then exit")
    worker_cmd.add_argument("--tenant", metavar="TENANT_ID", help="only this tenant's jobs")

    tenant_parser = commands.add_parser("tenant", help="manage tenants")
    tenant_cmd = tenant_parser.add_subparsers(dest="action", required=True)
    create = tenant_cmd.add_parser("create", help="create a tenant with an owner and two admin keys")
    create.add_argument("name")
    create.add_argument("--plan", choices=PLANS, default="free")
    create.add_argument("--owner-email", required=True)
    create.add_argument("--owner-password", required=True)
    create.add_argument("--json", action="store_true", help="print one JSON object")
    limits.add_commands(tenant_cmd, commands)
    ops.add_commands(tenant_cmd, commands)
    ops.show_defaults(root)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "serve":
            return serve(settings, args.host, args.port, args.workers, args.plan)
        if args.command == "migrate":
            return migrate(settings)
        if args.command == "worker":
            return run_worker(settings, args.threads, args.once, args.tenant)
        if limits.handles(args):
            return limits.run(settings, args)
        if ops.handles(args):
            return ops.run(settings, args)
        return create_tenant(settings, args)
    except ConfigError as exc:
        print(f"leadpipe: configuration error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        print(f"leadpipe: {exc.message}{' (' + details + ')' if details else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
