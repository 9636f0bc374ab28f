"""``st run`` as a CI user would run it: the served spec, a live server, the shipped config.

``tox -e contract`` runs ``python -m tests.st_cli_run [st options]``: it starts ``leadpipe
serve`` on a fresh database (tests/live_server.py) and runs the Schemathesis CLI against it
from the repository root, so schemathesis.toml and its hooks (tests/schemathesis_hooks.py) apply
exactly as they would for anyone. Every check, every phase (examples, coverage, fuzzing and
stateful over the spec's links); it fails on any failure and unless every operation was reached.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import yaml

from tests.live_server import live_server

ROOT = Path(__file__).resolve().parent.parent
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def operations() -> set[str]:
    spec = yaml.safe_load((ROOT / "openapi" / "leadpipe.yaml").read_text())
    return {f"{m.upper()} {path}" for path, item in spec["paths"].items() for m in item if m in METHODS}


def _st() -> str:
    found = shutil.which("st", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        raise SystemExit("the Schemathesis CLI (st) is not installed")
    return found


def main(argv: list[str]) -> int:
    with live_server() as server, tempfile.TemporaryDirectory(prefix="leadpipe-st-") as reports:
        command = [
            _st(), "run", server.spec_url, "--url", server.base_url,
            "-H", f"X-API-Key: {server.api_key}", "--checks", "all", "--max-examples", "25",
            "--report", "junit", "--report-dir", reports, "--no-color", *argv,
        ]  # fmt: skip
        print("$", " ".join(command).replace(server.api_key, "[key]"), flush=True)
        result = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, text=True)
        print(result.stdout[-20000:], result.stderr[-5000:], sep="\n")
        reached = set()
        for report in Path(reports).glob("*.xml"):
            for case in ElementTree.parse(report).getroot().iter("testcase"):
                reached.add(re.sub(r"\s+", " ", case.get("name", "")).strip())
    missing = sorted(operations() - reached)
    total = len(operations())
    print(f"st run: exit {result.returncode}; {len(operations() & reached)} of {total} operations reached")
    if missing:
        print("never reached:", *missing, sep="\n  ")
    return 1 if result.returncode or missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
