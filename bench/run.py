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

from bench import export, plans, report, seed, servers
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
    args = cli.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else (
        (10_000,) if args.quick else (10_000, 1_000_000)
    )  # fmt: skip
    targets = tuple(t for t in args.targets.split(",") if t)
    if args.compare_fast:
        targets += ("leadpipe_stock", "floor_fast")
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
    )
    return plan, args


def _job(
    server: servers.Server, plan: Plan, op: str, paths: list[str], headers: dict[str, str], token: str = "x"
) -> Job:
    body = None
    if op == "create":  # "{n}" is the driver's per-request counter: every lead is a new one
        body = json.dumps(
            {"email": f"bench-{token}-{{n}}@example.com", "firstName": "Bench", "lastName": "Load{n}",
             "company": "Acme Corp", "source": "web", "score": 10}
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
    }


def run_size(
    db: seed.BenchDatabase, tenant: dict[str, str], ids: list[str], size: int, plan: Plan, logdir: Path
) -> list[dict[str, Any]]:
    """All targets up at once, each operation driven in rounds that alternate between targets.

    The box is shared (other work, 2 cores): interleaving spreads any background burst over
    every target instead of landing on one, so the ratios of a run stay comparable.
    """
    headers = {"X-API-Key": tenant["apiKey"]}
    first = f"/v1/leads?status={seed.LIST_STATUS}&q={seed.LIST_Q}&limit=20"
    started: dict[str, servers.Server] = {}
    try:
        for name in plan.targets:
            extra = {"LEADPIPE_BENCH_FLOOR_FAST": "1"} if name == "floor_fast" else {}
            kind = "floor" if name == "floor_fast" else name
            started[name] = servers.start(kind, db.url, tenant["tenantId"], logdir, extra)
        paths: dict[str, dict[str, list[str]]] = {}
        walked: dict[str, int] = {}
        for name, server in started.items():
            deep, walked[name] = _deep_cursor(server, headers, first, plan.deep_pages[size])
            paths[name] = {
                "get": [f"/v1/leads/{lead_id}" for lead_id in ids],
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
                    job = _job(started[name], plan, op, paths[name][op], headers, f"{size}-{name}-{rnd}")
                    job.warmup_s = plan.warmup_s if rnd == 0 else min(0.5, plan.warmup_s)
                    cpu = started[name].cpu_seconds()
                    part = _drive(job)
                    part["cpu_s"] = started[name].cpu_seconds() - cpu
                    parts[name].append(part)
            for name in names:
                o = ops[name][op] = _merge(parts[name])
                print(
                    f"  {db.kind:8} {size:>8} {name:10} {op:10} {o['rps']:>8} req/s "
                    f"p50 {o['p50_ms']} p99 {o['p99_ms']} ms cpu/req {o['cpu_ms_per_req']} ms "
                    f"{o['statuses']} rounds {o['rounds_rps']}",
                    flush=True,
                )
        runs = []
        for name, server in started.items():
            result: dict[str, Any] = {"target": name, "ops": ops[name], "deep_page": walked[name] + 1}
            if name == "leadpipe" and plan.export:
                result["export"] = export.measure(server, headers)
                print(f"  {db.kind:8} {size:>8} {name:10} export     {result['export']}", flush=True)
            result["peak_rss_mb"] = server.peak_rss_mb()
            runs.append(result)
        return runs
    finally:
        for server in started.values():
            server.stop()


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
        "versions": versions(), "plan": asdict(plan), "runs": [],
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="leadpipe-bench-") as tmp:
        workdir = Path(tmp)
        for kind in plan.databases:
            db = seed.create_database(kind, workdir, POSTGRES_URL)
            try:
                tenant = seed.provision(db)
                for size in plan.sizes:
                    seeded = seed.seed_leads(db, tenant["tenantId"], size)
                    print(f"{kind}: {size} leads ({seeded} seeded)", flush=True)
                    ids = seed.sample_ids(db, tenant["tenantId"])
                    results.setdefault("list_plans", {})[f"{kind}-{size}"] = plans.explain_list(
                        db, tenant["tenantId"]
                    )
                    for run in run_size(db, tenant, ids, size, plan, workdir):
                        results["runs"].append({"database": kind, "size": size, **run})
            finally:
                seed.drop_database(db)
    results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    stamp = started.strftime("%Y%m%dT%H%M%SZ") + (f"-{args.label}" if args.label else "")
    (RESULTS_DIR / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    table = report.markdown(results)
    (RESULTS_DIR / f"{stamp}.md").write_text(table)
    print(table)
    print(f"results: {RESULTS_DIR / stamp}.json")
    return 0
