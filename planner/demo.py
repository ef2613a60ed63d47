"""`make demo`: a sandbox with demo data, then plan, apply, and plan again, as a user would.

Each step runs the real `planner` command in a subprocess and shows it, so what you see is
exactly what you would type. The sandbox is stopped at the end, whatever happens.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from planner.sandbox.command import spawn

ROOT = Path(__file__).resolve().parent.parent
PLANNER = [sys.executable, "-m", "planner"]


def step(title: str, args: list[str], env: dict, allowed: tuple[int, ...] = (0,)) -> int:
    heading = f"## {title}"
    if sys.stdout.isatty():
        heading = f"\033[1m{heading}\033[0m"
    print(f"\n{heading}\n$ planner {shlex.join(args)}", flush=True)
    code = subprocess.call(PLANNER + args, env=env, cwd=ROOT)
    if code not in allowed:
        raise SystemExit(f"demo step failed with exit code {code}")
    return code


def main() -> None:
    semantics = os.environ.get("DEMO_PUT_SEMANTICS", "replace")
    process, url, token = spawn("--port", "0", "--put-semantics", semantics, cwd=str(ROOT))
    env = dict(os.environ, VIRTUOUS_API_URL=url, VIRTUOUS_TOKEN=token, PYTHONUNBUFFERED="1")
    print(f"Started the sandbox CRM+ at {url} with demo contacts "
          f"(PUT semantics: {semantics}, the dangerous one).")
    work = Path(tempfile.mkdtemp(prefix="planner-demo-"))
    plan_file, audit = str(work / "plan.json"), str(work / "audit")
    try:
        step("Check the desired-state files (offline)", ["validate", "plans/"], env)
        step("What would change?", ["plan", "plans/", "-o", plan_file, "--detailed-exitcode"],
             env, allowed=(2,))
        step("Apply exactly the reviewed plan", ["apply", plan_file, "--audit-dir", audit], env)
        step("Plan again: everything converged", ["plan", "plans/", "--detailed-exitcode"], env)
        step("Who changed what, from the audit trail", ["history", "--audit-dir", audit], env)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    print("\nDemo complete: planned, applied, verified, and converged. The sandbox is stopped.")


if __name__ == "__main__":
    main()
