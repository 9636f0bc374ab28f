"""Profile Leadpipe's server under the bench load with py-spy (all threads, including the handler
thread pool), and print where the time goes: the share of samples in which each function is on
the stack (inclusive) and at the top (self).

``python -m bench.profile --op get`` (ops: create, get, list_first, list_deep). Needs py-spy
(the ``bench`` extra) and ptrace rights over a child process (root or ptrace_scope 0).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench import run, seed, servers

# With --gil only threads holding the GIL are sampled; these tops are still waiting, not working.
IDLE = ("Runner.run (", "Condition.wait (", "Queue.get (")


def _frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    frames = [
        f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0] + ")" for f in stack.split(";") if " (" in f
    ]
    return frames, int(count)


def summarize(raw: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        frames, count = _frames(line)
        if not frames or frames[-1].startswith(IDLE):
            continue  # the event loop waiting in uvloop, idle pool threads
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [f"{total} busy samples", "", "inclusive %  function"]
    lines += [f"{100 * n / total:10.1f}  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "self %  function"]
    lines += [f"{100 * n / total:6.1f}  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    cli = argparse.ArgumentParser(prog="python -m bench.profile")
    cli.add_argument("--op", choices=run.OPERATIONS, default="get")
    cli.add_argument("--target", choices=("leadpipe", "floor"), default="leadpipe")
    cli.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    cli.add_argument("--seconds", type=float, default=10.0)
    cli.add_argument("--top", type=int, default=45)
    cli.add_argument("--out", type=Path, help="keep the collapsed stacks here")
    args = cli.parse_args(argv)
    plan, _ = run.parse(["--quick", "--duration", str(args.seconds)])
    # The interpreter's own bin (a venv), else PATH, else the shared venv's (worktree venvs read it).
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    spy = spy or str(Path(sys.executable).resolve().parent / "py-spy")
    with tempfile.TemporaryDirectory(prefix="leadpipe-profile-") as tmp:
        workdir = Path(tmp)
        db = seed.create_database(args.db, workdir, run.POSTGRES_URL)
        try:
            tenant = seed.provision(db)
            seed.seed_leads(db, tenant["tenantId"], 10_000)
            ids = seed.sample_ids(db, tenant["tenantId"])
            server = servers.start(args.target, db.url, tenant["tenantId"], workdir, {})
            try:
                headers = {"X-API-Key": tenant["apiKey"]}
                first = f"/v1/leads?status={seed.LIST_STATUS}&q={seed.LIST_Q}&limit=20"
                deep, _ = run._deep_cursor(server, headers, first, 50)
                paths = {"get": [f"/v1/leads/{i}" for i in ids], "list_first": [first], "list_deep": [deep]}
                job = run._job(server, plan, args.op, paths.get(args.op, ["/v1/leads"]), headers)
                raw = args.out or workdir / "stacks.txt"
                load = threading.Thread(target=run._drive, args=(job,))
                load.start()
                subprocess.run(
                    [spy, "record", "--pid", str(server.process.pid), "--duration", str(int(args.seconds)),
                     "--rate", "250", "--format", "raw", "--threads", "--gil", "-o", str(raw)],
                    check=True, capture_output=True,
                )  # fmt: skip
                load.join()
                print(summarize(raw, args.top))
            finally:
                server.stop()
        finally:
            seed.drop_database(db)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
