"""Opening the store for a process: bind the database and hand the store its settings.

The one open-and-bind every entry point calls (the app factory, each CLI command, the worker),
so none of them can forget half of it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress

from handlers.settings import Settings
from store import db
from store.webhooks import config as webhook_config


def configure_store(settings: Settings) -> None:
    """Hand the settings the background jobs need down to the store (webhook delivery and event
    retention run in worker threads, outside any request)."""
    webhook_config.configure(
        webhook_config.WebhookConfig(
            secret_keys=settings.secret_keys,
            production=settings.production,
            retry_delays=settings.webhook_retry_delays,
            allow_networks=tuple(ipaddress.ip_network(n) for n in settings.webhook_allow_networks),
            max_in_flight=settings.webhook_max_in_flight,
            event_retention=dt.timedelta(days=settings.event_retention_days),
        )
    )


def open_store(settings: Settings, *, migrate: bool = False) -> list[str]:
    """Bind the database (idempotent per process: `store.db.connect`) and configure the store;
    with ``migrate``, apply pending migrations too and return their names."""
    db.connect(settings.database_url, pool_size=settings.db_pool_size)
    configure_store(settings)
    return db.migrate() if migrate else []
