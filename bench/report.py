"""The Markdown summary of one run: per database, size and operation, each target's numbers and the
ratios Leadpipe/ceiling and Leadpipe/floor (req/s), all from the same run."""

from __future__ import annotations

from typing import Any


def _index(results: dict[str, Any]) -> dict[tuple[str, int, str], dict[str, Any]]:
    return {(r["database"], r["size"], r["target"]): r for r in results["runs"]}


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def markdown(results: dict[str, Any]) -> str:
    runs = _index(results)
    plan = results["plan"]
    lines = [
        f"Run {results['started']} ({results.get('label') or 'no label'}); {results['machine']['cpu']}, "
        f"{results['machine']['cores']} cores; concurrency {plan['concurrency']}, "
        f"warm-up {plan['warmup_s']} s, measured {plan['duration_s']} s per operation.",
        "",
        "| db | leads | operation | target | req/s | p50 ms | p95 ms | p99 ms | CPU ms/req | non-2xx "
        "| /ceiling | /floor | /floor_fast |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for db in plan["databases"]:
        for size in plan["sizes"]:
            refs = {name: runs.get((db, size, name)) for name in ("ceiling", "floor", "floor_fast")}
            for op in ("create", "get", "list_first", "list_deep"):
                for target in plan["targets"]:
                    run = runs.get((db, size, target))
                    if run is None:
                        continue
                    o = run["ops"][op]
                    bad = o["requests"] - o["ok"] + o["errors"]
                    ratios = ["", "", ""]
                    if target.startswith("leadpipe"):
                        ratios = [_ratio(o["rps"], r["ops"][op]["rps"] if r else None) for r in refs.values()]
                    lines.append(
                        f"| {db} | {size:,} | {op} | {target} | {o['rps']:.0f} | {o['p50_ms']:.2f} | "
                        f"{o['p95_ms']:.2f} | {o['p99_ms']:.2f} | {o.get('cpu_ms_per_req', '-')} | {bad} | "
                        f"{' | '.join(ratios)} |"
                    )
    lines += ["", "| db | leads | target | peak RSS MB | deep page # |", "|---|---:|---|---:|---:|"]
    for r in results["runs"]:
        lines.append(
            f"| {r['database']} | {r['size']:,} | {r['target']} | {r['peak_rss_mb']} | {r['deep_page']} |"
        )
    exports = [r for r in results["runs"] if r.get("export")]
    if exports:
        lines += [
            "",
            "| db | leads | export rows | seconds | rows/s | RSS before MB | RSS peak MB | growth MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in exports:
            e = r["export"]
            lines.append(
                f"| {r['database']} | {r['size']:,} | {e['rows']:,} | {e['seconds']} | "
                f"{e['rows_per_s']:.0f} | {e['rss_before_mb']} | {e['rss_peak_mb']} | {e['rss_growth_mb']} |"
            )
    lines += _worker_tables(results, runs)
    sizes = plan["sizes"]
    if len(sizes) > 1:
        lines += ["", "List p99 at the largest size / p99 at the smallest (target: <= 2.0):", ""]
        for db in plan["databases"]:
            small, big = runs.get((db, sizes[0], "leadpipe")), runs.get((db, sizes[-1], "leadpipe"))
            if small and big:
                for op in ("list_first", "list_deep"):
                    b, s = big["ops"][op]["p99_ms"], small["ops"][op]["p99_ms"]
                    lines.append(f"- {db} {op}: {b:.2f} / {s:.2f} ms = {_ratio(b, s)}")
    return "\n".join(lines) + "\n"


def _worker_tables(results: dict[str, Any], runs: dict[tuple[str, int, str], dict[str, Any]]) -> list[str]:
    """Worker on vs off, create end to end (request + dedup job), dedup latency, CSV import."""
    plan = results["plan"]
    lines = [
        "",
        f"Load average at start: {results.get('load_average')}.",
        "",
        "| db | leads | target | create CPU ms/req (request) | create CPU ms incl. job | create req/s "
        "| create p99 ms | on/off req/s | on/off p99 | dedup jobs | duplicateOf set | dedup p50 ms "
        "| dedup p99 ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for db in plan["databases"]:
        for size in plan["sizes"]:
            off = runs.get((db, size, "leadpipe_off"))
            for target in plan["targets"]:
                run = runs.get((db, size, target))
                if run is None or not target.startswith("leadpipe"):
                    continue
                c = run["ops"]["create"]
                o = off["ops"]["create"] if off else None
                d = run.get("dedup") or {}
                lines.append(
                    f"| {db} | {size:,} | {target} | {c['cpu_ms_per_req']} | "
                    f"{c.get('cpu_e2e_ms_per_req', '-')} | "
                    f"{c['rps']:.0f} | {c['p99_ms']:.1f} | {_ratio(c['rps'], o['rps'] if o else None)} | "
                    f"{_ratio(c['p99_ms'], o['p99_ms'] if o else None)} | {d.get('jobs', '-')} | "
                    f"{d.get('with_duplicate_of', '-')} | {d.get('p50_ms', '-')} | {d.get('p99_ms', '-')} |"
                )
    imported = [r for r in results["runs"] if r.get("import")]
    if imported:
        lines += [
            "",
            "| db | target | rows | upload s | to `completed` s | rows/s | + dedup drained s "
            "| rows/s incl. dedup | server CPU s | CPU ms/row | RSS MB before / max |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in imported:
            i = r["import"]
            lines.append(
                f"| {r['database']} | {r['target']} | {i['rows']:,} | {i['upload_s']} | {i['completed_s']} | "
                f"{i['rows_per_s_completed']:.0f} | {i['dedup_drained_s']} | {i['rows_per_s_incl_dedup']} | "
                f"{i['cpu_s']} | {i.get('cpu_ms_per_row', '-')} | "
                f"{i.get('rss_mb_before', '-')} / {i.get('rss_mb_max', '-')} |"
            )
    return lines
