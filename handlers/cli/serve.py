"""``leadpipe serve``, ``leadpipe worker`` and ``leadpipe migrate``: running Leadpipe."""

from __future__ import annotations

import secrets
import signal
import threading
from typing import Any

from handlers import logging_setup, worker
from handlers.cli import ops
from handlers.settings import ConfigError, Settings
from handlers.store_setup import open_store
from store import db
from store.access.principals import PLANS
from store.tenants import lifecycle as tenants


def add_commands(commands: Any) -> None:
    serve_cmd = commands.add_parser("serve", help="apply migrations and serve the API")
    serve_cmd.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve_cmd.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve_cmd.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve_cmd.add_argument(
        "--plan", choices=PLANS, default="enterprise", help="plan of the tenant made on an empty database"
    )
    serve_cmd.set_defaults(
        func=lambda settings, args: serve(settings, args.host, args.port, args.workers, args.plan)
    )

    commands.add_parser("migrate", help="apply pending migrations").set_defaults(
        func=lambda settings, _args: migrate(settings)
    )

    worker_cmd = commands.add_parser("worker", help="run background jobs (dedup, imports), no HTTP")
    worker_cmd.add_argument("--threads", type=int, default=1, help="job threads in this process")
    worker_cmd.add_argument("--once", action="store_true", help="run the jobs due now, then exit")
    worker_cmd.add_argument("--tenant", metavar="TENANT_ID", help="only this tenant's jobs")
    worker_cmd.set_defaults(
        func=lambda settings, args: run_worker(settings, args.threads, args.once, args.tenant)
    )


def bootstrap(plan: str = "enterprise") -> None:
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
    open_store(settings)
    db.migrate()
    bootstrap(plan)
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
    open_store(settings)
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
    applied = open_store(settings, migrate=True)
    print(f"Applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    return 0
