"""Migration numbers stay unique.

Migrations run in name order and each is recorded by its name, so a renumbered file would run
again on every existing database. Two branches that each add ``0007_*`` would both apply, in an
order nobody chose. The one clash already shipped (two ``0004_*``) stays, as databases have it
recorded by name; this test lets no new one in.
"""

from __future__ import annotations

import re
from collections import defaultdict

from playhouse.migrations import Runner

from store.db import MIGRATIONS_DIR, database

# Shipped before this test existed; renaming either would re-run it on existing databases.
KNOWN_CLASHES = {"0004": {"0004_jobs_and_duplicates", "0004_public_capture"}}
NAME = re.compile(r"^(\d{4})_[a-z0-9_]+$")


def migration_names() -> list[str]:
    return sorted(p.stem for p in MIGRATIONS_DIR.glob("*.py") if p.stem != "__init__")


def test_every_migration_is_named_nnnn_snake_case() -> None:
    # The runner only loads files starting with a digit: a misnamed one would silently never run.
    names = migration_names()
    assert names, f"no migrations found in {MIGRATIONS_DIR}"
    assert [n for n in names if not NAME.match(n)] == []


def test_no_two_migrations_share_a_number_except_the_shipped_pair() -> None:
    by_number: dict[str, set[str]] = defaultdict(set)
    for name in migration_names():
        by_number[name[:4]].add(name)
    clashes = {number: names for number, names in by_number.items() if len(names) > 1}
    assert clashes == KNOWN_CLASHES


def test_the_history_is_keyed_by_these_names(app: object) -> None:
    # The session database was migrated at startup: every file is recorded under its own name,
    # which is why a clash or a rename matters.
    with database.connection_context():
        applied = set(Runner(database.obj, str(MIGRATIONS_DIR)).applied())
    assert applied == set(migration_names())
