"""Benchmark: a pilot's report (pilot versus comparison teams), as HR, at 200 and 100,000 people.

Run from the project root:  .venv/bin/python bench/pilot_report.py [--sizes small,large]

For each size it builds a fresh SQLite file under /tmp. The organisation (team tree, people,
managers, the HR account) comes from bench/heatmap.py's builder with no pulses of its own; on
top of it this script adds, with bulk inserts, one four-day-week pilot (pulse/pilots/models.py):
40 pilot units (6 in the small case) and as many comparison units, each a leaf team of at least
MIN_UNIT people, and nine pulses of the four_day_week set that have all closed (two baselines,
six during the pilot, one final; a fortnight apart, the last closed three days ago), with the
units' invitations and their tallies: responses per team (ResponseTally) and per-dimension n /
sum / sum of squares / at risk (DimensionTally). The tallies come from simulated respondents:
each unit has its own level per dimension, every pulse moves all units a little together and
each unit a little on its own, and in pilot units burnout falls by 10 points once the pilot runs
(5 at the first pulse during it), wellbeing rises by 5 and workload by 4. Person scores sit on
the grid the set's items allow. No answers, per-value tallies or outcome metrics are written:
the report reads no answers or per-value tallies, and its outcome section is simply empty.

Then it signs in as HR through the real login form and times, through the Flask test client,
GET /pilots/<id>/report and GET /pilots/<id>/report.csv (median of --repeat after --warmup
requests), once with every tally read from SQLite on each request and once with the
per-process store of settled pulses on, as in production. Then, in a request context, the steps
one by one: `load_context`, the whole `pulse.pilots.report.build(...)`, the organisation-wide
family of groups, the units' subtrees, loading the nine pulses' tallies and running the gate
over them, the per-unit figures of one dimension, and `pulse.pilots.analysis.analyse`
for burnout alone (with and without the event study). With 40 + 40 units there are
C(80, 40) ~ 1e23 arrangements of teams, so each difference-in-differences uses 4,999 random
arrangements plus the real one; one analysis runs 11 of them (pre-trend, effect, and one per
pulse for the event study). The arrangements themselves are kept per process
(`analysis._weights`), so the time to draw them is shown on its own.

The defaults are the sizes of issue 5: 100,000 people in about 2,000 teams with 40 + 40 units,
and a small case of 200 people with 6 + 6 units. Not part of the test suite: no timing is ever
asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import heatmap  # bench/heatmap.py: the organisation builder, app factory and timing helpers
import numpy as np
from flask import Flask
from flask_login import login_user

from pulse.extensions import db
from pulse.org.models import Person
from pulse.pilots import analysis, report
from pulse.pilots.models import Pilot
from pulse.results.routes import load_context
from pulse.surveys.library import QUESTION_SETS, QUESTIONS, ScaleKind
from pulse.surveys.scoring import is_at_risk

T = TypeVar("T")

DT_FORMAT = heatmap.DT_FORMAT
MIN_UNIT = 8  # people in a leaf team chosen as a unit (tiny teams would be hidden by the gate)
PHASES = ["baseline", "baseline"] + ["during"] * 6 + ["final"]
LABELS = ["Baseline 1", "Baseline 2"] + [f"Week {2 * i}" for i in range(1, 7)] + ["Final"]
PERSON_SD = 18.0  # spread of person scores around their unit's level, in points
# The simulated pilot effect at full strength (points on 0-100); burnout: lower is better.
EFFECT = {"burnout": -10.0, "wellbeing": 5.0, "workload": 4.0}


@dataclass(frozen=True)
class Case:
    size: heatmap.Size
    units: int  # per arm


CASES = {
    # 20 teams two levels deep: about 15 leaves of about 12 people, enough for 6 + 6 units.
    "small": Case(heatmap.Size("small", 200, 20, 2, (4, 5), 0), 6),
    "large": Case(replace(heatmap.SIZES["large"], pulses=0), 40),
}


# --- building the database ------------------------------------------------------------------------


@dataclass
class PilotBuilt:
    units: int
    unit_people: int
    pulses: int
    invitations: int
    dimension_rows: int


def build_org(path: Path, size: heatmap.Size, seed: int) -> heatmap.Built:
    return heatmap.build(path, size, seed)


def scored_items() -> dict[str, int]:
    """Dimension -> how many items of the four_day_week set score it (eNPS: its one item)."""
    found: dict[str, int] = {}
    for item in QUESTION_SETS["four_day_week"].items:
        q = QUESTIONS[item.key]
        if q.scale in {ScaleKind.AGREE5, ScaleKind.FREQ5} or q.dimension == "enps":
            found[q.dimension] = found.get(q.dimension, 0) + 1
    return found


def person_scores(code: str, items: int, level: float, m: int, rng: np.random.Generator) -> Any:
    """m respondents' scores for one dimension around a unit's level, as the items allow."""
    if code == "enps":  # one 0-10 item: promoters +100, passives 0, detractors -100
        values = np.clip(np.rint(level / 10 + rng.normal(0, 2, m)), 0, 10)
        return np.where(values >= 9, 100.0, np.where(values <= 6, -100.0, 0.0))
    step = 25 / items  # the mean of `items` five-point answers moves in steps of 25 / items
    raw = np.clip(rng.normal(level, PERSON_SD, m), 0, 100)
    return np.rint(raw / step) * step


def add_pilot(path: Path, units_per_arm: int, seed: int) -> PilotBuilt:
    rng = np.random.default_rng(seed + 1)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")  # loading only
    parents = dict(con.execute("SELECT id, parent_id FROM team").fetchall())
    has_children = {p for p in parents.values() if p is not None}
    members: dict[int, list[int]] = {}
    for person_id, team_id in con.execute(
        "SELECT id, team_id FROM person WHERE active AND team_id IS NOT NULL ORDER BY id"
    ):
        members.setdefault(team_id, []).append(person_id)
    leaves = [t for t in parents if t not in has_children and t in members]
    eligible = [t for t in leaves if len(members[t]) >= MIN_UNIT]
    if len(eligible) < 2 * units_per_arm:
        raise SystemExit(f"only {len(eligible)} leaf teams of {MIN_UNIT}+ people")
    chosen = [int(t) for t in rng.choice(eligible, 2 * units_per_arm, replace=False)]
    pilot_units = set(chosen[:units_per_arm])

    last_close = datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0) - timedelta(
        days=3
    )
    closes = [last_close - timedelta(days=14 * (len(PHASES) - 1 - i)) for i in range(len(PHASES))]
    opens = [c - timedelta(days=7) for c in closes]
    starts_on: date = opens[PHASES.index("during")].date()
    ends_on: date = opens[-1].date()
    con.execute(
        "INSERT INTO pilot (id, name, hypothesis, starts_on, ends_on, timezone, set_ref,"
        " cadence_weeks, baseline_pulses, open_days, created_at, created_by_id)"
        " VALUES (1,?,?,?,?,?,?,?,?,?,?,1)",
        (
            "Four-day week",
            "A four-day week lowers burnout without losing output.",
            starts_on.isoformat(),
            ends_on.isoformat(),
            "UTC",
            "builtin:four_day_week",
            2,
            2,
            7,
            (opens[0] - timedelta(days=7)).strftime(DT_FORMAT),
        ),
    )
    con.executemany(
        "INSERT INTO pilot_team (pilot_id, team_id, arm) VALUES (1, ?, ?)",
        [(t, "pilot" if t in pilot_units else "comparison") for t in chosen],
    )

    questions = [QUESTIONS[item.key] for item in QUESTION_SETS["four_day_week"].items]
    items = scored_items()
    dims = sorted(items)
    unit_level = rng.uniform(40, 70, size=(len(chosen), len(dims)))
    unit_rate = rng.uniform(0.55, 0.9, size=len(chosen))
    during_seen = 0
    invitations = dimension_rows = 0
    for index, phase in enumerate(PHASES):
        pulse_id = index + 1
        con.execute(
            "INSERT INTO pulse (id, title, set_name, created_at, opens_at, closes_at, frozen_at,"
            " min_group, min_comment_group, release) VALUES (?,?,?,?,?,?,?,5,10,'after_close')",
            (
                pulse_id,
                f"Four-day week \u00b7 {LABELS[index]}",
                QUESTION_SETS["four_day_week"].name,
                (opens[0] - timedelta(days=7)).strftime(DT_FORMAT),
                opens[index].strftime(DT_FORMAT),
                closes[index].strftime(DT_FORMAT),
                opens[index].strftime(DT_FORMAT),
            ),
        )
        con.execute(
            "INSERT INTO pilot_pulse (pulse_id, pilot_id, phase, position) VALUES (?, 1, ?, ?)",
            (pulse_id, phase, pulse_id),
        )
        con.executemany(
            "INSERT INTO pulse_team (pulse_id, team_id) VALUES (?, ?)",
            [(pulse_id, t) for t in chosen],
        )
        con.executemany(
            "INSERT INTO pulse_question (pulse_id, position, question_key, builtin, dimension,"
            " scale, text, reverse, required) VALUES (?,?,?,1,?,?,?,?,0)",
            [
                (pulse_id, pos, q.key, q.dimension, q.scale.value, q.text, int(q.reverse))
                for pos, q in enumerate(questions, start=1)
            ],
        )
        if phase != "baseline":
            during_seen += 1
        strength = min(1.0, during_seen / 2)  # half the effect at the first pulse during it
        shock = rng.normal(0, 1.5, size=len(dims))  # what moves every team (season, news ...)
        invitation_rows = []
        response_rows = []
        dimension_batch = []
        for u, team in enumerate(chosen):
            people = members[team]
            m = int(rng.binomial(len(people), unit_rate[u]))
            invitation_rows.extend(
                (
                    pulse_id,
                    person_id,
                    team,
                    f"{pulse_id:016x}{person_id:048x}",
                    f"{person_id:032x}",
                    rank < m,
                    "sent",
                    0,
                )
                for rank, person_id in enumerate(people)
            )
            if not m:
                continue
            response_rows.append((pulse_id, team, m))
            for d, code in enumerate(dims):
                level = unit_level[u, d] + shock[d] + rng.normal(0, 3)
                if team in pilot_units:
                    level += EFFECT.get(code, 0.0) * strength
                scores = person_scores(code, items[code], level, m, rng)
                scores = scores[rng.random(m) >= 0.01]  # a few leave a dimension blank
                if not len(scores):
                    continue
                at_risk = sum(is_at_risk(code, float(s)) for s in scores)
                dimension_batch.append(
                    (
                        pulse_id,
                        team,
                        code,
                        len(scores),
                        float(scores.sum()),
                        float((scores**2).sum()),
                        at_risk,
                    )
                )
        con.executemany(
            "INSERT INTO invitation (pulse_id, person_id, team_id, token_hash, nonce, answered,"
            " delivery, reminders_sent) VALUES (?,?,?,?,?,?,?,?)",
            invitation_rows,
        )
        con.executemany(
            "INSERT INTO tally_response (pulse_id, team_id, count) VALUES (?,?,?)", response_rows
        )
        con.executemany(
            "INSERT INTO tally_dimension (pulse_id, team_id, dimension, n, total, total_sq,"
            " at_risk) VALUES (?,?,?,?,?,?,?)",
            dimension_batch,
        )
        invitations += len(invitation_rows)
        dimension_rows += len(dimension_batch)
        con.commit()
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return PilotBuilt(
        len(chosen), sum(len(members[t]) for t in chosen), len(PHASES), invitations, dimension_rows
    )


# --- timing ---------------------------------------------------------------------------------------


def machine() -> str:
    """CPU model (from /proc/cpuinfo), cores, Python and SQLite versions, and the load average
    (other jobs on a 2-core machine change every figure)."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    # numpy's BLAS starts a thread per core unless told otherwise; on a busy 2-core machine
    # that makes the permutation interval's matrix products several times slower.
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return (
        f"{model}; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}; OPENBLAS_NUM_THREADS={blas}; load average {load}"
    )


def time_requests(app: Flask, repeat: int, warmup: int) -> dict[str, tuple[list[float], int]]:
    client = app.test_client()
    response = client.post("/login", data={"email": heatmap.HR_EMAIL, "password": heatmap.PASSWORD})
    assert response.status_code == 302, response.status_code
    results = {}
    for url in ("/pilots/1/report", "/pilots/1/report.csv"):

        def get(url: str = url) -> Any:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        samples, response = heatmap.timed(get, repeat, warmup)
        results[url] = (samples, len(response.data))
    return results


def time_steps(app: Flask, repeat: int, warmup: int) -> tuple[dict[str, list[float]], str]:
    """The report's parts one by one. Uses report.py's private loaders on purpose, to split
    the gated tallies from the analysis; the page itself only calls report.build."""
    steps: dict[str, list[float]] = {}
    with app.test_request_context("/pilots/1/report"):
        hr = db.session.scalars(db.select(Person).where(Person.email == heatmap.HR_EMAIL)).one()
        login_user(hr)
        pilot = db.session.get(Pilot, 1)
        assert pilot is not None
        now = datetime.now(UTC)

        def add(name: str, fn: Callable[[], T]) -> T:
            samples, result = heatmap.timed(fn, repeat, warmup)
            steps[name] = samples
            return result

        context = add("load_context", lambda: load_context(hr))
        built = add(
            "report.build (whole report, as HR)",
            lambda: report.build(pilot, now, viewer=context.viewer, visible=context.visible),
        )
        tree, names = context.tree, context.names
        groups = add("org_family (2,000+ groups)", lambda: report.org_family(tree))
        add("units_of (each unit's subtree)", lambda: report.units_of(pilot, tree, names))
        loaded = add(
            "tallies of 9 pulses + org-wide gate",
            lambda: report._load(pilot, now, tree, groups),
        )
        units = report.units_of(pilot, tree, names)
        infos = [report._info(item.link) for item in loaded]
        per_unit = add(
            "burnout figures per unit and pulse (reused gate)",
            lambda: report._units_for("burnout", loaded, units),
        )
        # Gate decisions become objects when first read; a fresh load shows their cost.
        add(
            "tallies + gate + burnout figures, fresh",
            lambda: report._units_for("burnout", report._load(pilot, now, tree, groups), units),
        )

        def analyse(events: bool) -> analysis.Analysis:
            return analysis.analyse(
                "burnout", "Burnout", False, infos, per_unit, with_events=events
            )

        result = add("analysis.analyse(burnout), event study", lambda: analyse(True))
        add("analysis.analyse(burnout), no event study", lambda: analyse(False))
        pilots = sum(u.pilot for u in per_unit)
        add(
            f"drawing the arrangements ({len(per_unit)} units)",
            lambda: analysis.arrangements(
                len(per_unit), pilots, analysis.SEED, analysis.PERMUTATIONS
            ),
        )
        db.session.remove()
    effect = result.effect
    summary = f"burnout: {result.verdict}"
    if effect is not None:
        interval = effect.interval
        summary += (
            f" [estimate {effect.estimate:.1f}, {interval.arrangements:,} arrangements, "
            f"{'enumerated' if interval.enumerated else 'random'}; "
            f"{len(built.dimensions)} dimensions in the report]"
        )
    return steps, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument(
        "--reuse", action="store_true", help="time an existing file instead of building it again"
    )
    args = parser.parse_args()
    print(machine())
    for name in args.sizes.split(","):
        case = CASES[name]
        path = Path(args.dir) / f"pulse-bench-pilot-{name}.db"
        if args.reuse and path.exists():
            print(f"\n{name}: reusing {path}")
        else:
            started = time.perf_counter()
            org = build_org(path, case.size, args.seed)
            pilot = add_pilot(path, case.units, args.seed)
            print(
                f"\n{name}: built {path} in {time.perf_counter() - started:.1f} s: "
                f"{org.people:,} people, {org.teams:,} teams; pilot with {pilot.units} units "
                f"({case.units} + {case.units}, {pilot.unit_people:,} people), {pilot.pulses} "
                f"closed pulses, {pilot.invitations:,} invitations, {pilot.dimension_rows:,} "
                f"dimension tallies, {path.stat().st_size / 1e6:.0f} MB"
            )
        for cache in (False, True):
            app = heatmap.bench_app(path, cache)
            label = "settled-pulse store on (production)" if cache else "nothing kept"
            print(f"  {label}")
            with app.app_context():
                requests = time_requests(app, args.repeat, args.warmup)
            for url, (samples, size) in requests.items():
                print(
                    f"    GET {url:<22} median {heatmap.median_ms(samples):8.1f} ms"
                    f"  (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f};"
                    f" {size / 1000:.0f} kB)"
                )
            if cache:
                continue  # the steps are timed once, with nothing kept: the first request's cost
            with app.app_context():
                steps, summary = time_steps(app, args.repeat, args.warmup)
            for step, samples in steps.items():
                print(f"      {step:<46} median {heatmap.median_ms(samples):8.1f} ms")
            print(f"      {summary}")
    print(f"\nC(80, 40) = {math.comb(80, 40):.2e}; C(12, 6) = {math.comb(12, 6)}")
    print(f"done; median of {args.repeat} after {args.warmup} warm-up runs")


if __name__ == "__main__":
    main()
