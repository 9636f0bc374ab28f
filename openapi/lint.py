"""Lint openapi/leadpipe.yaml with Spectral (``spectral:oas``) and Redocly (``recommended``).

``tox -e spec`` runs ``python -m openapi.lint``. Both linters are Node tools, pinned in
openapi/package.json + package-lock.json and installed with ``npm ci`` on first use
(node_modules/ is not committed). Any error *or warning* fails. Without Node the lint is
skipped with a message, except under ``CI=true``, where a skipped lint would hide problems.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = "leadpipe.yaml"


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=HERE, capture_output=True, text=True, check=False)


def _spectral() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "spectral.json"
        result = _run(
            "npx", "--no-install", "spectral", "lint", "--ruleset", ".spectral.yaml",
            "--format", "json", "--output", str(report), SPEC,
        )  # fmt: skip
        if not report.exists():
            print(result.stdout, result.stderr, sep="\n")
            return 1
        problems = json.loads(report.read_text() or "[]")
    for problem in problems:
        where = ".".join(map(str, problem.get("path", [])))
        print(f"spectral: {problem['code']}: {problem['message']} at {where}")
    print(f"spectral (spectral:oas): {len(problems)} problem(s)")
    return len(problems)


def _redocly() -> int:
    result = _run(
        "npx", "--no-install", "redocly", "lint", "--config", "redocly.yaml", "--format", "json", SPEC
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout, result.stderr, sep="\n")
        return 1
    for problem in report.get("problems", []):
        where = problem.get("location", [{}])[0].get("pointer", "")
        print(f"redocly: {problem['ruleId']}: {problem['message']} at {where}")
    totals = report.get("totals", {})
    count = int(totals.get("errors", 0)) + int(totals.get("warnings", 0))
    print(
        f"redocly (recommended): {totals.get('errors', 0)} error(s), {totals.get('warnings', 0)} warning(s)"
    )
    return count


def main() -> int:
    if shutil.which("npx") is None:
        message = "openapi lint: Node.js (npx) not found; Spectral and Redocly lint skipped"
        if os.environ.get("CI") == "true":
            print(message + " - failing because CI=true", file=sys.stderr)
            return 1
        print(message + " (install Node 20+ to run them; under CI=true this fails)")
        return 0
    if not (HERE / "node_modules" / ".bin" / "spectral").exists():
        installed = _run("npm", "ci", "--no-audit", "--no-fund")
        if installed.returncode != 0:
            print(installed.stdout, installed.stderr, sep="\n", file=sys.stderr)
            return 1
    return 1 if _spectral() + _redocly() else 0


if __name__ == "__main__":
    raise SystemExit(main())
