"""CLI commands for running Leadpipe: ``tenant list``, ``key create|list|revoke``, ``backup``,
``restore``, and what ``serve`` sets up before it starts workers (metrics directory, logging).

Kept apart from `handlers.cli` so that file stays a small dispatcher.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from handlers import logging_setup
from handlers.http.metrics import MULTIPROC_ENV
from handlers.settings import Settings
from handlers.store_setup import open_store
from store import backups
from store.access.principals import ENVIRONMENTS, LIVE, SCOPES
from store.keys import api_keys
from store.tenants import operator


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default; required ones say nothing, unset ones "none"."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.required or not action.option_strings or action.default is argparse.SUPPRESS:
            return action.help or ""
        if "(default:" in (action.help or ""):
            return str(action.help)
        if action.default is None:
            return f"{action.help or ''} (default: none)".strip()
        return str(super()._get_help_string(action)).strip()


def show_defaults(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and every sub-command's parser the `DefaultsFormatter`."""
    parser.formatter_class = DefaultsFormatter
    for action in parser._actions:
        if action.help is None:  # argparse prints no line at all for an option without help
            action.help = action.dest.replace("_", " ")
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                show_defaults(child)


def prepare_serve(settings: Settings) -> dict[str, Any]:
    """Before ``serve`` starts anything: logging, and the directory where every worker process
    keeps its metrics (prometheus-client's multiprocess mode reads it at import, so it is set
    here, before the first import and before uvicorn spawns workers that inherit it).

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is emptied of stale files from an earlier
    run; otherwise a fresh temporary directory is made and removed at exit. Returns the options
    `uvicorn.run` needs to leave logging to us.
    """
    logging_setup.configure(settings)
    # uvicorn re-raises SIGTERM on the process after its graceful shutdown; with the default
    # action that kills serve before its `finally` stops the job threads. As SystemExit it
    # unwinds through it instead (the threads finish their job in hand, "worker stopped").
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):
            stale.unlink()
    else:
        directory = tempfile.mkdtemp(prefix="leadpipe-metrics-")
        os.environ[MULTIPROC_ENV] = directory
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return logging_setup.uvicorn_options()


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def add_commands(tenant_cmd: Any, commands: Any) -> None:
    tenants = tenant_cmd.add_parser("list", help="list the tenants (id, plan, name)")
    tenants.add_argument("--json", action="store_true", help="print one JSON object per tenant")
    tenants.set_defaults(func=list_tenants)
    key = commands.add_parser("key", help="manage a tenant's API keys (for an operator who lost the key)")
    actions = key.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="mint a secret key; its plaintext is printed once")
    create.add_argument("tenant_id")
    create.add_argument("--name", default="Operator key", help="unique among the tenant's active keys")
    create.add_argument("--environment", choices=ENVIRONMENTS, default=LIVE)
    create.add_argument(
        "--scope", action="append", choices=SCOPES, dest="scopes", help="repeat for several (default: all)"
    )
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(func=create_key)
    listing = actions.add_parser("list", help="list a tenant's keys (prefixes only, never secrets)")
    listing.add_argument("tenant_id")
    listing.add_argument("--json", action="store_true", help="print one JSON object per key")
    listing.set_defaults(func=list_keys)
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("tenant_id")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=revoke_key)
    backup = commands.add_parser("backup", help="write a consistent backup while the server runs")
    backup.add_argument("path", type=Path, help="SQLite: a database file; PostgreSQL: a pg_dump archive")
    backup.set_defaults(func=lambda settings, args: _backup(settings, args.path))
    restore = commands.add_parser("restore", help="replace the database's contents with a backup")
    restore.add_argument("path", type=Path)
    restore.add_argument("--yes", action="store_true", help="confirm: every current row is replaced")
    restore.set_defaults(func=lambda settings, args: _restore(settings, args.path, args.yes))


def list_tenants(settings: Settings, args: argparse.Namespace) -> int:
    open_store(settings, migrate=True)
    for tenant in operator.list_tenants():
        row = {"tenantId": tenant.id, "plan": tenant.plan, "name": tenant.name}
        print(json.dumps(row) if args.json else f"{tenant.id}  {tenant.plan:<10}  {tenant.name}")
    return 0


def list_keys(settings: Settings, args: argparse.Namespace) -> int:
    open_store(settings, migrate=True)
    for record in operator.tenant_keys(args.tenant_id):
        row = {
            "keyId": record.id,
            "prefix": record.prefix,
            "environment": record.environment,
            "status": api_keys.key_status(record),
            "name": record.name,
        }
        print(json.dumps(row) if args.json else "  ".join(str(v) for v in row.values()))
    return 0


def revoke_key(settings: Settings, args: argparse.Namespace) -> int:
    open_store(settings, migrate=True)
    revoked = api_keys.revoke_key(operator.acting_owner(args.tenant_id, LIVE), args.key_id)
    print(f"Revoked key {revoked.id} ({revoked.prefix}...)")
    return 0


def create_key(settings: Settings, args: argparse.Namespace) -> int:
    open_store(settings, migrate=True)
    caller = operator.acting_owner(args.tenant_id, args.environment)
    issued = api_keys.create_key(caller, name=args.name, scopes=args.scopes or list(SCOPES))
    result = {"keyId": issued.record.id, "apiKey": issued.plaintext}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"Created key {issued.record.id}. Its secret (shown once, store it now):\n  {issued.plaintext}")
    return 0


def _backup(settings: Settings, path: Path) -> int:
    if settings.database_url.startswith("sqlite:"):
        size = backups.backup_sqlite(settings.database_url, path)
        print(f"Backed up to {path} ({size} bytes)")
        return 0
    command = backups.pg_dump_command(settings.database_url, path)
    backups.run(command)
    print(f"Backed up to {path} with: {command.shown}")
    return 0


def _restore(settings: Settings, path: Path, confirmed: bool) -> int:
    if not confirmed:
        print("leadpipe: restore replaces every row of the database; stop the server, then pass --yes")
        return 2
    if settings.database_url.startswith("sqlite:"):
        backups.restore_sqlite(path, settings.database_url)
    else:
        backups.run(backups.pg_restore_command(settings.database_url, path))
    print(f"Restored {path}; run `leadpipe migrate` if the backup is older than this version")
    return 0
