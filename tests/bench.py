"""`make bench`: what planner costs, in requests (the scarce resource) and in time.

The sandbox runs in its own process so that the CPU figures are planner's alone. Nothing
here is asserted by the test suite: speed is measured, never gated by a timed test.
Usage: python -m tests.bench [--contacts N] [--latency SECONDS]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import requests

from planner.client import Client
from planner.desired import load_paths
from planner.fetch import fetch_live
from planner.importer import DEFAULT_FIELDS, desired_document, to_yaml
from planner.plan import make_plan
from planner.sandbox.command import spawn
from planner.sandbox.demodata import generate


def measure(label: str, func):
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    n = args.contacts
    work = Path(tempfile.mkdtemp(prefix="planner-bench-"))
    contacts = generate(n, 1)
    seed = work / "seed.json"
    seed.write_text(json.dumps({"contacts": contacts}))
    process, url, token = spawn("--port", "0", "--seed", str(seed), "--latency", str(args.latency),
                                "--rate-limit", "1000000", "--put-semantics", "replace")
    rows = []
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        _, wall, _ = measure("loop", lambda: [session.get(f"{url}/api/Contact/1001").raise_for_status()
                                              for _ in range(500)])
        rows.append(("sandbox GET loop (Nagle trap check)", f"{wall / 500 * 1000:.2f} ms/request"))

        client = Client(url, token)
        plans = work / "plans"
        plans.mkdir()
        for contact in contacts:  # desired files that match: the steady state of a repo
            raw = client.get_contact(contact["id"])
            (plans / f"{contact['id']}.yaml").write_text(to_yaml(desired_document(raw, DEFAULT_FIELDS), "bench"))
        desired, wall, cpu = measure("load", lambda: load_paths([str(plans)]))
        rows.append(("load + validate desired files", f"{cpu / n * 1000:.3f} ms CPU/contact"))

        client = Client(url, token)
        pairs, wall, cpu = measure("fetch", lambda: fetch_live(client, desired))
        rows.append(("fetch live records (8 in flight)",
                     f"{wall:.2f} s wall, {len(client.exchanges) / n:.2f} requests/contact"))
        plan, wall, cpu = measure("plan", lambda: make_plan(pairs))
        rows.append(("plan unchanged contacts (normalise + compare)", f"{cpu / n * 1000:.3f} ms CPU/contact"))
        assert plan.is_empty, "bench fixture drifted: the imported files should plan no change"

        bulk = Client(url, token)
        _, wall, _ = measure("bulk", lambda: bulk.contacts_by_id([c["id"] for c in contacts]))
        rows.append(("bulk read of the same contacts (FullContact)",
                     f"{len(bulk.exchanges)} requests, {wall:.2f} s wall"))
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(f"planner bench: {n} demo contacts, latency {args.latency * 1000:.0f} ms, "
          f"{os.cpu_count()} CPUs")
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
