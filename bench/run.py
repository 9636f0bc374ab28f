"""One bench run: for each database and size, each target (Leadpipe, ceiling, floor) under the
same load, then ratios in the same run. Results go to ``bench/results/<stamp>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import export, imports, plans, queue, report, seed, servers
from bench.driver import Job, percentile

RESULTS_DIR = Path(__file__).parent / "results"
OPERATIONS = ("get", "list_first", "list_deep", "create")  # creates last: they grow the table
POSTGRES_URL = os.environ.get("LEADPIPE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Plan:
    databases: tuple[str, ...]
    sizes: tuple[int, ...]
    targets: tuple[str, ...]
    concurrency: int
    warmup_s: float
    duration_s: float
    max_requests: int
    rounds: int
    deep_pages: dict[int, int]
    export: bool
    import_rows: int


def parse(argv: list[str]) -> tuple[Plan, argparse.Namespace]:
    cli = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    cli.add_argument("--quick", action="store_true", help="10k leads only, short runs (~5 minutes)")
    cli.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    cli.add_argument("--sizes", help="comma-separated lead counts, e.g. 10000,1000000")
    cli.add_argument("--targets", default=",".join(servers.TARGETS), help="subset of leadpipe,ceiling,floor")
    cli.add_argument(
        "--compare-fast",
        action="store_true",
        help="also run Leadpipe without and the floor with handlers.http.connexion_pinned (before/after)",
    )
    cli.add_argument("--no-export", action="store_true", help="skip the streamed CSV export measurement")
    cli.add_argument("--concurrency", type=int, default=16)
    cli.add_argument("--duration", type=float, help="measured seconds per operation")
    cli.add_argument("--label", default="", help="free text stored with the results (e.g. 'before')")
    cli.add_argument(
        "--before",
        metavar="GIT_REF",
        help="also serve Leadpipe as of GIT_REF (worker on, its own database) as `leadpipe_before`",
    )
    cli.add_argument(
        "--import-rows", type=int, default=20_000, help="CSV import size per worker-on Leadpipe (0: skip)"
    )
    args = cli.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else (
        (10_000,) if args.quick else (10_000, 1_000_000)
    )  # fmt: skip
    targets = tuple(t for t in args.targets.split(",") if t)
    if args.compare_fast:
        targets += ("leadpipe_stock", "floor_fast")
    if args.before:
        targets += ("leadpipe_before",)
    plan = Plan(
        databases=("sqlite", "postgres") if args.db == "both" else (args.db,),
        sizes=sizes,
        targets=targets,
        concurrency=args.concurrency,
        warmup_s=1.0 if args.quick else 2.0,
        duration_s=args.duration or (4.0 if args.quick else 8.0),
        max_requests=200_000,
        rounds=3 if args.quick else 4,
        deep_pages={size: 50 if size <= 10_000 else 500 for size in sizes},
        export=not args.no_export,
        import_rows=args.import_rows,
    )
    return plan, args


def _job(
    server: servers.Server, plan: Plan, op: str, paths: list[str], headers: dict[str, str], token: str = "x"
) -> Job:
    body = None
    if op == "create":  # "{pair}": every second lead has the email of the one before (a duplicate)
        body = json.dumps(
            {"email": f"bench-{token}-p{{pair}}@example.com", "firstName": "Bench",
             "lastName": f"Load{token}n{{n}}", "company": "Acme Corp", "source": "web", "score": 10}
        )  # fmt: skip
    return Job(
        host="127.0.0.1",
        port=server.port,
        method="POST" if op == "create" else "GET",
        paths=paths,
        headers=headers,
        body=body,
        concurrency=plan.concurrency,
        warmup_s=plan.warmup_s,
        duration_s=plan.duration_s / plan.rounds,
        max_requests=plan.max_requests,
        keep_latencies=True,
    )


def _drive(job: Job) -> dict[str, Any]:
    """The load generator runs in its own process, so it never shares a GIL with the server."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.driver", json.dumps(asdict(job))],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _deep_cursor(server: servers.Server, headers: dict[str, str], first: str, pages: int) -> tuple[str, int]:
    """Walk ``pages`` pages of the list through the server itself; returns the path of the last."""
    path, walked = first, 0
    for _ in range(pages):
        page = servers.get_json(server.base + path, headers)
        cursor = page["meta"]["pagination"]["nextCursor"]
        if cursor is None:
            break
        path, walked = f"{first}&cursor={quote(cursor)}", walked + 1
    return path, walked


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one target and operation as one result: counts add up, percentiles are re-taken."""
    latencies = sorted(x for part in parts for x in part.pop("latencies_ms"))
    seconds = sum(part["seconds"] for part in parts)
    statuses: dict[str, int] = {}
    for part in parts:
        for code, n in part["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    return {
        "requests": len(latencies),
        "ok": sum(part["ok"] for part in parts),
        "errors": sum(part["errors"] for part in parts),
        "statuses": statuses,
        "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 50), 3),
        "p95_ms": round(percentile(latencies, 95), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "rounds_rps": [part["rps"] for part in parts],
        # Server CPU per request (warm-up included): far less sensitive to a busy box than req/s.
        "cpu_ms_per_req": round(
            1000 * sum(part["cpu_s"] for part in parts) / max(1, sum(part["completed"] for part in parts)), 3
        ),
        "concurrency": parts[0]["concurrency"],
        **_end_to_end(parts),
    }


def _end_to_end(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Creates on a worker-on server: CPU until the queue drained (request + its dedup job)."""
    if not all("cpu_e2e_s" in part for part in parts):
        return {}
    creates = max(1, sum(part["completed"] for part in parts))
    return {
        "cpu_e2e_ms_per_req": round(1000 * sum(part["cpu_e2e_s"] for part in parts) / creates, 3),
        "drain_s": [part["drain_s"] for part in parts],
    }


@dataclass
class Stage:
    """One database of a run: every Leadpipe variant has its own (ceiling and floor use the first)."""

    db: seed.BenchDatabase
    tenant: dict[str, str]
    ids: list[str]


def _worker_on(name: str) -> bool:
    return name in ("leadpipe", "leadpipe_before")


def run_size(
    stages: dict[str, Stage], size: int, plan: Plan, logdir: Path, before_dir: Path | None
) -> list[dict[str, Any]]:
    """All targets up at once, each operation driven in rounds that alternate between targets.

    The box is shared (other work, 2 cores): interleaving spreads any background burst over
    every target instead of landing on one, so the ratios of a run stay comparable.
    """
    primary = next(iter(stages.values()))
    stage = {name: stages.get(name, primary) for name in plan.targets}
    hdrs = {name: {"X-API-Key": stage[name].tenant["apiKey"]} for name in plan.targets}
    first = f"/v1/leads?status={seed.LIST_STATUS}&q={seed.LIST_Q}&limit=20"
    started: dict[str, servers.Server] = {}
    try:
        for name in plan.targets:
            extra = {"LEADPIPE_BENCH_FLOOR_FAST": "1"} if name == "floor_fast" else {}
            if name == "leadpipe_before" and before_dir is not None:
                extra["PYTHONPATH"] = str(before_dir)  # the old tree's packages shadow the worktree's
            kind = "floor" if name == "floor_fast" else name
            s = stage[name]
            started[name] = servers.start(kind, s.db.url, s.tenant["tenantId"], logdir, extra)
        paths: dict[str, dict[str, list[str]]] = {}
        walked: dict[str, int] = {}
        for name, server in started.items():
            deep, walked[name] = _deep_cursor(server, hdrs[name], first, plan.deep_pages[size])
            paths[name] = {
                "get": [f"/v1/leads/{lead_id}" for lead_id in stage[name].ids],
                "list_first": [first],
                "list_deep": [deep],
                "create": ["/v1/leads"],
            }
        ops: dict[str, dict[str, Any]] = {name: {} for name in started}
        names = list(started)
        for op in OPERATIONS:
            parts: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
            for rnd in range(plan.rounds):
                for name in names[rnd % len(names) :] + names[: rnd % len(names)]:
                    job = _job(started[name], plan, op, paths[name][op], hdrs[name], f"{size}-{name}-{rnd}")
                    job.warmup_s = plan.warmup_s if rnd == 0 else min(0.5, plan.warmup_s)
                    cpu = started[name].cpu_seconds()
                    part = _drive(job)
                    part["cpu_s"] = started[name].cpu_seconds() - cpu
                    if op == "create" and _worker_on(name):
                        part["drain_s"] = queue.wait_drained(stage[name].db)
                        part["cpu_e2e_s"] = started[name].cpu_seconds() - cpu
                    parts[name].append(part)
            for name in names:
                o = ops[name][op] = _merge(parts[name])
                print(
                    f"  {primary.db.kind:8} {size:>8} {name:15} {op:10} {o['rps']:>8} req/s "
                    f"p50 {o['p50_ms']} p99 {o['p99_ms']} ms cpu/req {o['cpu_ms_per_req']} ms "
                    f"e2e {o.get('cpu_e2e_ms_per_req', '-')} {o['statuses']} rounds {o['rounds_rps']}",
                    flush=True,
                )
        runs = []
        for name, server in started.items():
            result: dict[str, Any] = {"target": name, "ops": ops[name], "deep_page": walked[name] + 1}
            s = stage[name]
            if _worker_on(name):
                result["dedup"] = queue.dedup_latency(s.db, s.tenant["tenantId"], f"bench-{size}-{name}-%")
                print(f"  {s.db.kind:8} {size:>8} {name:15} dedup      {result['dedup']}", flush=True)
                if plan.import_rows:
                    result["import"] = imports.measure(server, s.db, hdrs[name], plan.import_rows, f"{size}")
                    print(f"  {s.db.kind:8} {size:>8} {name:15} import     {result['import']}", flush=True)
            if name == "leadpipe" and plan.export:
                result["export"] = export.measure(server, hdrs[name])
                print(f"  {s.db.kind:8} {size:>8} {name:15} export     {result['export']}", flush=True)
            result["peak_rss_mb"] = server.peak_rss_mb()
            runs.append(result)
        return runs
    finally:
        for server in started.values():
            server.stop()


def _checkout(ref: str, workdir: Path) -> Path:
    """The tree at ``ref`` (``git archive``), importable ahead of the worktree via PYTHONPATH."""
    target = workdir / "before"
    target.mkdir()
    archive = subprocess.run(["git", "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def versions() -> dict[str, str]:
    names = (
        "connexion",
        "starlette",
        "uvicorn",
        "peewee",
        "psycopg2-binary",
        "uvloop",
        "httptools",
        "jsonschema",
    )
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform()}


def main(argv: list[str]) -> int:
    plan, args = parse(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "label": args.label, "started": started.isoformat(timespec="seconds"), "machine": machine(),
        "load_average": os.getloadavg(),
        "versions": versions(), "plan": asdict(plan), "runs": [],
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="leadpipe-bench-") as tmp:
        workdir = Path(tmp)
        before_dir = _checkout(args.before, workdir) if args.before else None
        if args.before:
            results["before"] = args.before
        own = [name for name in plan.targets if name in servers.LEADPIPES] or ["leadpipe"]
        for kind in plan.databases:
            stages: dict[str, Stage] = {}
            try:
                for name in own:
                    db = seed.create_database(kind, workdir, POSTGRES_URL)
                    stages[name] = Stage(db, seed.provision(db), [])
                for size in plan.sizes:
                    for name, st in stages.items():
                        seeded = seed.seed_leads(st.db, st.tenant["tenantId"], size)
                        print(f"{kind}: {name}: {size} leads ({seeded} seeded)", flush=True)
                        st.ids = seed.sample_ids(st.db, st.tenant["tenantId"])
                    st = next(iter(stages.values()))
                    results.setdefault("list_plans", {})[f"{kind}-{size}"] = plans.explain_list(
                        st.db, st.tenant["tenantId"]
                    )
                    results.setdefault("dedup_plans", {})[f"{kind}-{size}"] = plans.explain_dedup(
                        st.db, st.tenant["tenantId"]
                    )
                    for run in run_size(stages, size, plan, workdir, before_dir):
                        results["runs"].append({"database": kind, "size": size, **run})
            finally:
                for st in stages.values():
                    seed.drop_database(st.db)
    results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    stamp = started.strftime("%Y%m%dT%H%M%SZ") + (f"-{args.label}" if args.label else "")
    (RESULTS_DIR / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    table = report.markdown(results)
    (RESULTS_DIR / f"{stamp}.md").write_text(table)
    print(table)
    print(f"results: {RESULTS_DIR / stamp}.json")
    return 0
