"""A job's states, and the condition that finds the unfinished ones by the partial index
``jobs_due`` (migration 0004): shared by the claim (`store.jobs.claims`) and the pending count
(`store.jobs.upkeep`), which must both read the queue's few pending rows, not every job ever run.

States: ``queued`` -> ``running`` -> ``done`` | back to ``queued`` (retry) | ``failed``.
"""

from __future__ import annotations

import peewee

from store.models import Job

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

# Written as ``jobs_due`` writes its WHERE, with literal values: SQLite uses a partial index
# only when the query's WHERE contains its condition, and a bound parameter never counts as
# one; without it the claim scanned every job ever run (all the done ones too), twice per
# worker round. Implied by the conditions of the queries that use it, so it changes no result.
IN_DUE_INDEX = Job.state.in_([peewee.SQL(f"'{QUEUED}'"), peewee.SQL(f"'{RUNNING}'")])
