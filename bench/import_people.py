"""Benchmark: import a 100,000-person directory into a fresh SQLite file through the real service.

Run from the project root:  .venv/bin/python bench/import_people.py [--rows 100000] [--teams 2000]

It writes a generated CSV (a deep team tree, line managers, team managers, a few leaders and HR
people) to a temporary folder, then times each step of the import: parse and check the file, read
the directory, plan, apply and commit. Then it imports the same file again (which must change
nothing) and a changed copy (renames, team moves, leavers deactivated). Peak memory is the
process's maximum resident set size; `--tracemalloc` also reports the Python heap peak (slower).
Not part of the test suite: no timing is ever asserted.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from pulse import create_app
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org import importer, queries, services
from pulse.org.models import Person, Team

# Words for team and person names (team names get a number, so none repeats along a branch).
WORDS = [
    "Platform",
    "Payments",
    "Search",
    "Growth",
    "Risk",
    "Data",
    "Mobile",
    "Web",
    "Identity",
    "Billing",
    "Support",
    "Sales",
    "Ops",
    "Legal",
    "Finance",
    "Design",
    "Research",
    "Security",
    "Infra",
    "Quality",
    "Brand",
    "Partners",
    "Logistics",
    "Retail",
    "Cloud",
    "Insight",
    "Care",
    "Field",
    "Studio",
    "Labs",
    "Core",
    "Edge",
    "Atlas",
    "Orion",
    "Delta",
    "Nova",
    "Pixel",
    "Harbor",
    "Summit",
]


def generate_csv(rows: int, teams: int, rng: random.Random) -> bytes:
    """A directory with a tree about eight levels deep (one branch much deeper)."""
    paths = ["Acme"]
    frontier = ["Acme"]
    while len(paths) < teams and frontier:
        parent = frontier.pop(0)
        for _ in range(rng.randint(2, 6)):
            if len(paths) >= teams:
                break
            # Numbered so no name repeats along a branch (that would be a team inside itself).
            child = f"{parent}/{rng.choice(WORDS)} {len(paths)}"
            paths.append(child)
            frontier.append(child)
    deep = "Acme/Research"
    for level in range(1, 25):  # a long, narrow branch: depth is not a problem
        deep = f"{deep}/Lab {level}"
        paths.append(deep)

    managers: dict[str, str] = {}
    people: list[list[str]] = []
    for n in range(rows):
        team = paths[n] if n < len(paths) else rng.choice(paths)
        email = f"person{n:06d}@example.com"
        role, manages = "", ""
        if team not in managers:  # the first person placed in a team manages it
            managers[team] = email
            role, manages = "manager", team
        elif n % 20_000 == 7:
            role = "leader"
        elif n % 25_000 == 11:
            role = "hr"
        people.append([email, f"Person {n:06d} {rng.choice(WORDS)}", team, role, manages])

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "name", "team", "role", "manages", "manager_email"])
    for email, name, team, role, manages in people:
        if manages:  # a team's manager reports to the manager of the team above
            parent = team.rsplit("/", 1)[0] if "/" in team else None
            boss = managers.get(parent) if parent else None
        else:
            boss = managers[team]
        writer.writerow([email, name, team, role, manages, boss or ""])
    return out.getvalue().encode("utf-8")


def with_changes(data: bytes) -> bytes:
    """The same directory a month later: 10% renamed, 5% moved team, 5% gone."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    teams = sorted({row[2] for row in body})
    managers = {row[0] for row in body if row[5] == ""} | {row[5] for row in body if row[5]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for n, row in enumerate(body):
        if n % 20 == 17 and row[0] not in managers and not row[4]:
            continue  # left the company (managers stay: their reports still point at them)
        if n % 10 == 3:
            row[1] += " Jr"
        if n % 20 == 5 and not row[4]:
            row[2] = teams[n % len(teams)]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


@contextmanager
def step(name: str, times: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    times[name] = time.perf_counter() - start


def run_import(data: bytes, label: str) -> None:
    """One import, timed step by step: the same calls preview_import and apply_import make."""
    rows = data.count(b"\n") - 1
    times: dict[str, float] = {}
    with step("parse + check", times):
        checked = importer.read_people_csv(data, max_rows=rows + 1)
    with step("read directory", times):
        snapshot = queries.import_snapshot()
    with step("plan", times):
        plan = importer.plan_import(checked, snapshot, deactivate_missing=True)
    if plan.errors:
        raise SystemExit(f"unexpected errors: {[str(e) for e in plan.errors[:5]]}")
    with step("apply", times):
        counts = services.apply_import(plan, now=utcnow(), actor=None)
    with step("commit", times):
        db.session.commit()
    total = sum(times.values())
    print(f"\n{label} ({rows:,} rows): {counts}")
    for name, seconds in times.items():
        print(f"  {name:<16} {seconds:7.2f} s")
    print(f"  {'total':<16} {total:7.2f} s   ({rows / total:,.0f} rows/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--teams", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pulse-bench-") as folder:
        tmp = Path(folder)
        data = generate_csv(args.rows, args.teams, random.Random(args.seed))
        (tmp / "people.csv").write_bytes(data)
        print(
            f"Python {platform.python_version()} on {platform.machine()}, "
            f"{os.cpu_count()} CPUs; SQLite file in {tmp}"
        )
        print(f"CSV: {args.rows:,} rows, {len(data) / 1e6:.1f} MB")

        app = create_app(
            {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}"},
            environ={"PULSE_INSTANCE_PATH": str(tmp / "instance")},
        )
        with app.app_context():
            db.create_all()
            if args.tracemalloc:
                tracemalloc.start()
            run_import(data, "First import into an empty directory")
            run_import(data, "Same file again")
            changed = with_changes(data)
            run_import(changed, "A month later: renames, moves, leavers deactivated")
            people = db.session.scalar(select(func.count()).select_from(Person))
            teams = db.session.scalar(select(func.count()).select_from(Team))
            depth = db.session.scalar(select(func.max(Team.depth)))
            print(f"\nDatabase: {people:,} people, {teams:,} teams, deepest team at depth {depth}")
            if args.tracemalloc:
                _, peak = tracemalloc.get_traced_memory()
                print(f"Python heap peak (tracemalloc): {peak / 1e6:.0f} MB")
            db.session.remove()
            db.engine.dispose()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"Peak resident memory: {peak_rss:.0f} MB")


if __name__ == "__main__":
    main()
