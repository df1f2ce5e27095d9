"""Benchmark: the whole organisation's heatmap, as HR, at 200 and at 100,000 employees.

Run from the project root:  .venv/bin/python bench/heatmap.py [--sizes small,large] [--repeat 25]

For each size it builds a fresh SQLite file under /tmp with bulk inserts: the team tree, people
and managers, 26 closed pulses of the core question set, invitations for everyone, and tallies
(responses, per-value counts, per-dimension sums) computed from simulated answers with numpy
(each respondent leaves about 2% of items blank, so dimensions differ in their counts). No answer
or response rows are written: results pages read tallies only, and the tallies here are exactly
what those answers would have produced.

Then it signs in as HR through the real login form and times GET /results/heatmap (the page as
it opens) and GET /results/heatmap?depth=all (every team rendered) through the Flask test
client: the median of --repeat requests after a warm-up, once with every tally read from SQLite
on each request and once with the per-process store of settled pulses (queries._settled) on, as
in production. It also times the steps of the page one by one inside a request context:
load_context, pulses_with_results, load_pulse_tallies for the current and the previous pulse,
gate.prepare plus report.view twice, report.heatmap, and the page layout plus template render
of every row; "pure Python" is the gate, the two views and report.heatmap.

Not part of the test suite: no timing is ever asserted.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from flask import Flask, render_template
from flask_login import login_user

from pulse import create_app
from pulse.auth.passwords import hash_password
from pulse.extensions import db
from pulse.org.models import Person
from pulse.results import gate, heatmap_routes, queries, report
from pulse.results.routes import load_context, pulses_with_results
from pulse.surveys.library import QUESTION_SETS, QUESTIONS, SCALES, ScaleKind

T = TypeVar("T")

HR_EMAIL = "hr@bench.example"
PASSWORD = "benchmark password 1"  # noqa: S105 (a throwaway account in a throwaway file)
DT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
SKIP_RATE = 0.02  # share of items a respondent leaves blank


@dataclass(frozen=True)
class Size:
    name: str
    people: int
    teams: int
    max_depth: int
    fanout: tuple[int, int]
    pulses: int


SIZES = {
    "small": Size("small", 200, 15, 2, (3, 4), 26),
    "large": Size("large", 100_000, 2_000, 6, (2, 6), 26),
}


# --- building the database ------------------------------------------------------------------------


def make_tree(size: Size, rng: np.random.Generator) -> tuple[list[int | None], list[int]]:
    """Parents and depths (index = team id - 1), breadth first with a random fan-out."""
    parents: list[int | None] = [None]
    depths = [0]
    frontier = [0]
    while len(parents) < size.teams and frontier:
        parent = frontier.pop(0)
        for _ in range(int(rng.integers(size.fanout[0], size.fanout[1] + 1))):
            if len(parents) >= size.teams:
                break
            parents.append(parent)
            depths.append(depths[parent] + 1)
            if depths[-1] < size.max_depth:
                frontier.append(len(parents) - 1)
    return parents, depths


def team_sizes(size: Size, parents: list[int | None], rng: np.random.Generator) -> list[int]:
    """People per team besides its manager: leaves hold most; about 1 in 12 leaves is tiny
    (2-4 people) so the gate has something to suppress."""
    has_children = {p for p in parents if p is not None}
    raw: list[float] = []
    tiny: set[int] = set()
    for team in range(len(parents)):
        if team in has_children:
            raw.append(float(rng.integers(0, 4)))
        elif rng.random() < 1 / 12:
            tiny.add(team)
            raw.append(float(rng.integers(2, 5)))
        else:
            raw.append(float(rng.integers(20, 90)))
    budget = size.people - len(parents) - 1  # one manager per team, one HR person
    fixed = sum(raw[t] for t in tiny)
    scale = (budget - fixed) / (sum(raw) - fixed)
    sizes = [int(raw[t]) if t in tiny else round(raw[t] * scale) for t in range(len(raw))]
    biggest = max(range(len(sizes)), key=sizes.__getitem__)
    sizes[biggest] += budget - sum(sizes)
    return sizes


@dataclass
class Built:
    seconds: float
    teams: int
    depth: int
    people: int
    pulses: int
    invitations: int
    value_rows: int
    dimension_rows: int
    megabytes: float


def build(path: Path, size: Size, seed: int) -> Built:
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = bench_app(path)
    with app.app_context():
        db.create_all()
        password_hash = hash_password(PASSWORD, app.config["PASSWORD_HASH_METHOD"])
        db.session.remove()
        db.engine.dispose()

    rng = np.random.default_rng(seed)
    parents, depths = make_tree(size, rng)
    sizes = team_sizes(size, parents, rng)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")  # loading only; the app reads with its own settings
    created = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    stamp = created.strftime(DT_FORMAT)

    # Teams: ids 1..n, materialised paths.
    paths: list[str] = []
    team_rows = []
    for index, parent in enumerate(parents):
        team_id = index + 1
        prefix = "/" if parent is None else paths[parent]
        paths.append(f"{prefix}{team_id}/")
        name = "Acme" if parent is None else f"Team {team_id}"
        team_rows.append(
            (team_id, name, None if parent is None else parent + 1, paths[-1], depths[index], stamp)
        )
    con.executemany(
        "INSERT INTO team (id, name, parent_id, path, depth, created_at) VALUES (?,?,?,?,?,?)",
        team_rows,
    )

    # People: HR first, then each team's manager, then everyone else. team_of[i] is person i+1's.
    person_rows = [(1, HR_EMAIL, "HR Person", 1, "hr", 1, password_hash, 1, stamp)]
    team_of = [1]
    for index in range(len(parents)):
        team_of.append(index + 1)
    for index, count in enumerate(sizes):
        team_of.extend([index + 1] * count)
    for person_id in range(2, len(team_of) + 1):
        role = "manager" if person_id <= len(parents) + 1 else "employee"
        email = f"p{person_id:06d}@bench.example"
        team = team_of[person_id - 1]
        person_rows.append((person_id, email, f"Person {person_id}", team, role, 1, None, 1, stamp))
    con.executemany(
        "INSERT INTO person (id, email, name, team_id, role, active, password_hash,"
        " session_version, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        person_rows,
    )
    con.executemany(
        "INSERT INTO team_manager (team_id, person_id) VALUES (?, ?)",
        [(index + 1, index + 2) for index in range(len(parents))],
    )
    con.commit()

    # Pulses: every two weeks, the last one closed three days before "now".
    questions = [QUESTIONS[item.key] for item in QUESTION_SETS["core"].items]
    scored = [q for q in questions if q.scale is not ScaleKind.TEXT]
    dims = sorted({q.dimension for q in scored})
    people = np.array(team_of, dtype=np.int64) - 1  # team index of each person
    n_people = len(team_of)
    n_teams = len(parents)
    mood = rng.uniform(0.3, 0.8, size=(n_teams, len(dims)))
    invitations = value_rows = dimension_rows = 0
    first_close = datetime.now(UTC) - timedelta(days=3 + 14 * (size.pulses - 1))
    question_id = 0
    for number in range(size.pulses):
        pulse_id = number + 1
        closes = first_close + timedelta(days=14 * number)
        opens = closes - timedelta(days=7)
        con.execute(
            "INSERT INTO pulse (id, title, set_name, created_at, opens_at, closes_at, frozen_at,"
            " min_group, min_comment_group, release) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                pulse_id,
                f"Pulse {pulse_id}",
                "Core pulse",
                opens.strftime(DT_FORMAT),
                opens.strftime(DT_FORMAT),
                closes.strftime(DT_FORMAT),
                opens.strftime(DT_FORMAT),
                5,
                10,
                "after_close",
            ),
        )
        con.execute("INSERT INTO pulse_team (pulse_id, team_id) VALUES (?, 1)", (pulse_id,))
        qids = []
        for position, q in enumerate(questions, start=1):
            question_id += 1
            qids.append(question_id)
            con.execute(
                "INSERT INTO pulse_question (id, pulse_id, position, question_key, builtin,"
                " dimension, scale, text, reverse, required) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    question_id,
                    pulse_id,
                    position,
                    q.key,
                    1,
                    q.dimension,
                    q.scale.value,
                    q.text,
                    int(q.reverse),
                    0,
                ),
            )

        # Who answered: a response rate per team, the first r members of each team.
        mood = np.clip(mood + rng.normal(0, 0.03, size=mood.shape), 0.05, 0.95)
        rate = rng.uniform(0.55, 0.9, size=n_teams)
        counts = np.bincount(people, minlength=n_teams)
        answered_per_team = rng.binomial(counts, rate)
        rank = np.empty(n_people, dtype=np.int64)
        order = np.argsort(people, kind="stable")
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        rank[order] = np.arange(n_people) - np.repeat(starts, counts)
        answered = rank < answered_per_team[people]

        # Sequential token hashes and nonces: appending to the unique index is quick, and
        # nothing that reads results looks at them.
        con.executemany(
            "INSERT INTO invitation (pulse_id, person_id, team_id, token_hash, nonce, answered,"
            " delivery, reminders_sent) VALUES (?,?,?,?,?,?,?,?)",
            (
                (
                    pulse_id,
                    i + 1,
                    int(people[i]) + 1,
                    f"{pulse_id:016x}{i:048x}",
                    f"{i:032x}",
                    bool(answered[i]),
                    "sent",
                    0,
                )
                for i in range(n_people)
            ),
        )
        invitations += n_people

        # Answers of the respondents (each skips an item now and then: none is required),
        # then tallies from them.
        who = people[answered]
        m = len(who)
        person_noise = rng.normal(0, 0.15, size=m)
        score_sum = {d: np.zeros(m) for d in dims}
        items = {d: np.zeros(m) for d in dims}
        value_batch = []
        for q, qid in zip(scored, qids, strict=False):
            latent = mood[who, dims.index(q.dimension)] + person_noise + rng.normal(0, 0.12, m)
            latent = np.clip(latent, 0.0, 1.0)
            scale = SCALES[q.scale]
            took = rng.random(m) >= SKIP_RATE
            if q.scale is ScaleKind.SCORE11:
                values = np.clip(np.rint(10 * latent + rng.normal(0, 1, m)), 0, 10).astype(int)
                points = np.where(values >= 9, 100.0, np.where(values <= 6, -100.0, 0.0))
            else:
                agree_is_bad = (q.dimension == "burnout") != q.reverse
                goodness = 1 - latent if agree_is_bad else latent
                values = np.clip(np.rint(1 + 4 * goodness), 1, 5).astype(int)
                keyed = 6 - values if q.reverse else values
                points = (keyed - 1) / 4 * 100.0
            score_sum[q.dimension] += np.where(took, points, 0.0)
            items[q.dimension] += took
            span = scale.maximum - scale.minimum + 1
            tally = np.bincount(
                who[took] * span + (values[took] - scale.minimum), minlength=n_teams * span
            )
            for key in np.flatnonzero(tally):
                team, value = divmod(int(key), span)
                value_batch.append(
                    (pulse_id, team + 1, qid, value + scale.minimum, int(tally[key]))
                )
        con.executemany(
            "INSERT INTO tally_value (pulse_id, team_id, question_id, value, count)"
            " VALUES (?,?,?,?,?)",
            value_batch,
        )
        value_rows += len(value_batch)

        dimension_batch = []
        for dim in dims:
            scored_here = items[dim] > 0  # answered at least one item of the dimension
            person_score = np.where(scored_here, score_sum[dim] / np.maximum(items[dim], 1), 0.0)
            if dim == "burnout":
                risk = scored_here & (person_score >= 50)
            elif dim == "wellbeing":
                risk = scored_here & (person_score <= 50)
            else:
                risk = np.zeros(m, dtype=bool)
            n = np.bincount(who, weights=scored_here.astype(float), minlength=n_teams)
            n = np.rint(n).astype(int)
            total = np.bincount(who, weights=person_score, minlength=n_teams)
            total_sq = np.bincount(who, weights=person_score**2, minlength=n_teams)
            at_risk = np.bincount(who, weights=risk.astype(float), minlength=n_teams)
            for team in np.flatnonzero(n):
                dimension_batch.append(
                    (
                        pulse_id,
                        int(team) + 1,
                        dim,
                        int(n[team]),
                        float(total[team]),
                        float(total_sq[team]),
                        int(at_risk[team]),
                    )
                )
        con.executemany(
            "INSERT INTO tally_dimension (pulse_id, team_id, dimension, n, total, total_sq,"
            " at_risk) VALUES (?,?,?,?,?,?,?)",
            dimension_batch,
        )
        dimension_rows += len(dimension_batch)
        con.executemany(
            "INSERT INTO tally_response (pulse_id, team_id, count) VALUES (?,?,?)",
            [(pulse_id, int(t) + 1, int(c)) for t, c in enumerate(answered_per_team) if c],
        )
        con.commit()
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return Built(
        seconds=time.perf_counter() - started,
        teams=len(parents),
        depth=max(depths),
        people=len(team_of),
        pulses=size.pulses,
        invitations=invitations,
        value_rows=value_rows,
        dimension_rows=dimension_rows,
        megabytes=path.stat().st_size / 1e6,
    )


# --- timing ---------------------------------------------------------------------------------------


def bench_app(path: Path, cache: bool = True) -> Flask:
    """The app on the benchmark file; the testing config (cheap password hashing, no rate
    limits) with the per-process cache of settled pulses on or off."""
    instance = Path(tempfile.gettempdir()) / "pulse-bench-instance"
    return create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "RESULTS_CACHE_SETTLED": cache,
        },
        environ={"PULSE_INSTANCE_PATH": str(instance)},
    )


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn: Callable[[], T], repeat: int, warmup: int) -> tuple[list[float], T]:
    result = fn()
    for _ in range(warmup - 1):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return samples, result


def time_requests(app: Flask, repeat: int, warmup: int) -> dict[str, list[float]]:
    client = app.test_client()
    response = client.post("/login", data={"email": HR_EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    results = {}
    for url in ("/results/heatmap", "/results/heatmap?depth=all"):

        def get(url: str = url) -> Any:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        samples, response = timed(get, repeat, warmup)
        results[url] = samples
        results[url + " bytes"] = [float(len(response.data))]
    return results


def time_steps(app: Flask, repeat: int, warmup: int) -> dict[str, list[float]]:
    """The page's steps one by one, as the view runs them (depth=all for the render)."""
    steps: dict[str, list[float]] = {}
    with app.test_request_context("/results/heatmap?depth=all"):
        hr = db.session.scalars(db.select(Person).where(Person.email == HR_EMAIL)).one()
        login_user(hr)

        def add(name: str, fn: Callable[[], T]) -> T:
            samples, result = timed(fn, repeat, warmup)
            steps[name] = samples
            return result

        context = add("load_context", lambda: load_context(hr))
        pulses = add("pulses_with_results", pulses_with_results)
        current, previous = pulses[-1], pulses[-2]
        now = datetime.now(UTC)
        tallies = add(
            "load_pulse_tallies x2",
            lambda: (
                queries.load_pulse_tallies(current, now, with_values=False),
                queries.load_pulse_tallies(previous, now, with_values=False, with_invited=False),
            ),
        )
        views = add(
            "gate.prepare + report.view x2",
            lambda: tuple(
                report.view(context.tree, t, context.groups, forest)
                for forest in [gate.prepare(context.tree, context.groups)]
                for t in tallies
            ),
        )
        order = context.team_order()
        add(
            "report.heatmap (arrays only)",
            lambda: report.heatmap(
                context.tree, context.names, context.groups, order, views[0], views[1]
            ),
        )

        def page(query: heatmap_routes.Query) -> str:
            # A fresh heatmap each time: its rows are made (and kept) when the page reads them.
            fresh = report.heatmap(
                context.tree, context.names, context.groups, order, views[0], views[1]
            )
            page = heatmap_routes.heatmap_page(fresh, context, pulses, current, query)
            return render_template("results/heatmap.html", page=page)

        opened = heatmap_routes.Query(None, False, None, False)
        every = heatmap_routes.Query(None, False, None, True)
        add("heatmap + page + render, as opened", lambda: page(opened))
        add("heatmap + page + render, all rows", lambda: page(every))
        steps["pure Python (gate + views + heatmap)"] = [
            a + b
            for a, b in zip(
                steps["gate.prepare + report.view x2"],
                steps["report.heatmap (arrays only)"],
                strict=True,
            )
        ]
        db.session.remove()
    return steps


def machine() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        keep = ("Model name", "CPU(s):", "Thread(s) per core", "CPU MHz", "L2 cache", "L3 cache")
        cpu = "; ".join(" ".join(x.split()) for x in lines.splitlines() if x.startswith(keep))
    except (OSError, subprocess.CalledProcessError):
        cpu = platform.processor()
    return f"{cpu}; Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument(
        "--reuse", action="store_true", help="time an existing file instead of building it again"
    )
    args = parser.parse_args()
    print(machine())
    medians: dict[tuple[str, bool], float] = {}
    for name in args.sizes.split(","):
        size = SIZES[name]
        path = Path(args.dir) / f"pulse-bench-heatmap-{name}.db"
        if args.reuse and path.exists():
            print(f"\n{name}: reusing {path}")
        else:
            built = build(path, size, args.seed)
            print(
                f"\n{name}: built {path} in {built.seconds:.1f} s: {built.people:,} people, "
                f"{built.teams:,} teams (deepest level {built.depth}), {built.pulses} pulses, "
                f"{built.invitations:,} invitations, {built.value_rows:,} value tallies, "
                f"{built.dimension_rows:,} dimension tallies, {built.megabytes:.0f} MB"
            )
        for cache in (False, True):
            app = bench_app(path, cache)
            label = "settled-pulse cache on" if cache else "no cache: tallies read every time"
            print(f"  {label}")
            with app.app_context():
                requests = time_requests(app, args.repeat, args.warmup)
            for url in ("/results/heatmap", "/results/heatmap?depth=all"):
                samples = requests[url]
                kb = requests[url + " bytes"][0] / 1000
                print(
                    f"    GET {url:<28} median {median_ms(samples):7.1f} ms"
                    f"  (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f};"
                    f" {kb:.0f} kB)"
                )
            medians[(name, cache)] = median_ms(requests["/results/heatmap"])
            with app.app_context():
                steps = time_steps(app, args.repeat, args.warmup)
            for step, samples in steps.items():
                print(f"      {step:<34} median {median_ms(samples):7.1f} ms")
    for cache in (False, True):
        if ("small", cache) in medians and ("large", cache) in medians:
            small, large = medians[("small", cache)], medians[("large", cache)]
            verdict = "met" if large < 100 and large <= 2 * small else "MISSED"
            print(
                f"\n{'cache on ' if cache else 'no cache'}: large {large:.1f} ms, small "
                f"{small:.1f} ms, ratio {large / small:.2f}; target (< 100 ms, <= 2x): {verdict}"
            )


if __name__ == "__main__":
    main()
