"""The ``leadpipe`` command: argparse sub-commands, each with its function (``set_defaults``).

serve, worker, migrate: `handlers.cli.serve`; tenant create: `handlers.cli.tenants`;
tenant set-plan, idempotency purge: `handlers.cli.limits`; tenant list, key, backup, restore:
`handlers.cli.ops`. ``python -m handlers.cli`` runs it too (`handlers.cli.__main__`).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from handlers.cli import limits, ops, serve, tenants
from handlers.settings import ConfigError, Settings
from store.errors import StoreError


def _version() -> str:
    try:
        return importlib.metadata.version("leadpipe")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="leadpipe", description="Self-hosted leads pipeline API")
    root.add_argument("--version", action="version", version=f"leadpipe {_version()}")
    commands = root.add_subparsers(dest="command", required=True)
    serve.add_commands(commands)
    tenant_cmd = commands.add_parser("tenant", help="manage tenants").add_subparsers(
        dest="action", required=True
    )
    tenants.add_commands(tenant_cmd)
    limits.add_commands(tenant_cmd, commands)
    ops.add_commands(tenant_cmd, commands)
    ops.show_defaults(root)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(Settings.from_env(), args)
        return code
    except ConfigError as exc:
        print(f"leadpipe: configuration error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        print(f"leadpipe: {exc.message}{' (' + details + ')' if details else ''}", file=sys.stderr)
        return 1
