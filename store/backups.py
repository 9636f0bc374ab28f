"""Backups and restores of the application database, consistent while the server writes.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page in one step
under a read transaction, so the copy is one committed state even while other connections
write (WAL readers never block the writer); it goes to a temporary file that is checked and
then renamed, so a half-written backup never takes the place of a good one.

PostgreSQL: ``pg_dump`` in its custom format (one snapshot, restorable with ``pg_restore``,
table by table if need be). The password travels in ``PGPASSWORD``, never on the command line
(other users can read a process's arguments).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from store.errors import FieldError, ValidationFailed

# A file is a Leadpipe database when it has these tables (a restore refuses anything else).
REQUIRED_TABLES = ("tenants", "api_keys", "leads")


@dataclass(frozen=True)
class Command:
    """An external command with the environment it needs; ``shown`` is safe to print."""

    argv: list[str]
    env: dict[str, str]

    @property
    def shown(self) -> str:
        visible = " ".join(f"{k}={v}" for k, v in sorted(self.env.items()) if k != "PGPASSWORD")
        secret = " PGPASSWORD=..." if "PGPASSWORD" in self.env else ""
        return f"{visible}{secret} {' '.join(self.argv)}".strip()


def sqlite_path(url: str) -> Path:
    """``sqlite:///relative.db`` or ``sqlite:////absolute.db`` -> the file."""
    return Path(url.removeprefix("sqlite:///"))


def _check_sqlite(path: Path) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (verdict,) = connection.execute("PRAGMA integrity_check").fetchone()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise ValidationFailed([FieldError("path", f"Not an SQLite database: {exc}")]) from exc
    finally:
        connection.close()
    if verdict != "ok":
        raise ValidationFailed([FieldError("path", f"The database fails its integrity check: {verdict}")])
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise ValidationFailed(
            [FieldError("path", f"Not a Leadpipe database (no {', '.join(missing)} table)")]
        )


def backup_sqlite(url: str, destination: Path) -> int:
    """Copy the live database to ``destination``; returns its size in bytes."""
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise ValidationFailed([FieldError("database", f"{source_path} does not exist")])
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)  # all pages in one step: one consistent snapshot
    finally:
        target.close()
        source.close()
    _check_sqlite(partial)
    os.replace(partial, destination)
    return destination.stat().st_size


def restore_sqlite(backup: Path, url: str) -> None:
    """Replace the database's contents with the backup's (stop the server first)."""
    if not backup.exists():
        raise ValidationFailed([FieldError("path", f"{backup} does not exist")])
    _check_sqlite(backup)
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(sqlite_path(url), timeout=30)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _libpq_env(url: str) -> dict[str, str]:
    parts = urlparse(url)
    env = {
        "PGHOST": parts.hostname or "localhost",
        "PGPORT": str(parts.port or 5432),
        "PGDATABASE": unquote(parts.path.lstrip("/")),
    }
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


def pg_dump_command(url: str, destination: Path) -> Command:
    """Custom format, without ownership or grants (restorable as another role)."""
    argv = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={destination}"]
    return Command(argv, _libpq_env(url))


def pg_restore_command(url: str, backup: Path) -> Command:
    """Into the database of ``url``: drops what the dump recreates, all in one transaction."""
    argv = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction"]
    env = _libpq_env(url)
    return Command([*argv, f"--dbname={env['PGDATABASE']}", str(backup)], env)


def run(command: Command) -> None:
    """Run a pg_dump/pg_restore command; a missing tool or a failure is a clear error."""
    if shutil.which(command.argv[0]) is None:
        raise ValidationFailed(
            [FieldError(command.argv[0], f"{command.argv[0]} is not on PATH; run: {command.shown}")]
        )
    done = subprocess.run(
        command.argv, env={**os.environ, **command.env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ValidationFailed([FieldError(command.argv[0], done.stderr.strip()[-500:] or "failed")])
