"""The demo's four-day-week pilot: its design, its simulated effect, and its outcome metrics."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pulse.demo import pilot as demo_pilot
from pulse.demo.services import build_demo
from pulse.extensions import db
from pulse.org.links import team_from_token
from pulse.org.models import Person, Team
from pulse.pilots import analysis
from pulse.pilots.models import Arm, Phase, Pilot
from pulse.results.integrity import verify_pulse_tallies
from pulse.results.metrics import METRICS
from pulse.results.models import OutcomeMetric
from pulse.surveys.models import DimensionTally, Invitation, PulseState, ResponseTally
from tests.conftest import build_app
from tests.factories import NOW


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One demo, built once for the module's read-only checks."""
    path: Path = tmp_path_factory.mktemp("demo_pilot")
    app = build_app(f"sqlite:///{path / 'pulse.db'}", path / "instance")
    with app.app_context():
        db.create_all()
        build_demo(
            now=NOW,
            password_method=app.config["PASSWORD_HASH_METHOD"],
            secret_key=app.config["SECRET_KEY"],
        )
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


def the_pilot() -> Pilot:
    return db.session.scalars(select(Pilot)).one()


def check_design() -> Pilot:
    """One pilot with 6 + 6 disjoint units, 2 baselines, 5 closed pulses during, a final ahead."""
    pilot = the_pilot()
    assert pilot.name == "Four-day week 2026"
    assert pilot.set_ref == "builtin:four_day_week"
    assert (pilot.cadence_weeks, pilot.baseline_pulses, pilot.open_days) == (2, 2, 7)
    pilots, comparisons = pilot.arm_teams(Arm.PILOT), pilot.arm_teams(Arm.COMPARISON)
    assert len(pilots) == 6 and len(comparisons) == 6
    units = pilots + comparisons
    for unit in units:
        others = [u.id for u in units if u.id != unit.id]
        assert not set(unit.ancestor_ids()) & set(others), f"{unit.name} is inside another unit"
    phases = [pp.phase for pp in pilot.pulses]
    assert phases == [Phase.BASELINE] * 2 + [Phase.DURING] * 5 + [Phase.FINAL]
    assert [pp.position for pp in pilot.pulses] == list(range(8))
    closed = [pp.pulse for pp in pilot.pulses[:7]]
    assert all(p.state(NOW) is PulseState.CLOSED for p in closed)
    assert all("workload.hours_last_week" in {q.question_key for q in p.questions} for p in closed)
    starts = [p.opens_at for p in closed]
    assert starts == sorted(starts)
    assert all(p.opens_at.date() < pilot.starts_on for p in closed[:2])
    assert all(p.opens_at.date() >= pilot.starts_on for p in closed[2:])
    # The pulses during the pilot come every two weeks, stay open 7 days, the last ended lately.
    during = closed[2:]
    assert {(b.opens_at - a.opens_at).days for a, b in itertools.pairwise(during)} == {14}
    assert all((p.closes_at - p.opens_at).days == 7 for p in closed)
    assert 0 < (NOW - during[-1].closes_at).days <= 7
    final = pilot.pulses[-1].pulse
    assert final.state(NOW) is PulseState.SCHEDULED and final.opens_at > NOW
    assert final.opens_at.date() <= pilot.ends_on
    return pilot


def test_the_pilot_has_two_arms_of_six_units_and_its_schedule(demo: Flask) -> None:
    check_design()


def test_every_unit_passes_k_at_every_closed_pilot_pulse(demo: Flask) -> None:
    pilot = the_pilot()
    units = [pt.team_id for pt in pilot.teams]
    for pp in pilot.pulses[:7]:
        answered = dict(
            db.session.execute(
                select(ResponseTally.team_id, ResponseTally.count).where(
                    ResponseTally.pulse_id == pp.pulse_id
                )
            ).all()
        )
        invited = dict(
            db.session.execute(
                select(Invitation.team_id, func.count())
                .where(Invitation.pulse_id == pp.pulse_id)
                .group_by(Invitation.team_id)
            ).all()
        )
        assert set(answered) == set(units) == set(invited)
        for unit in units:
            assert answered[unit] >= pp.pulse.min_group == 5
            assert 0.55 <= answered[unit] / invited[unit] <= 0.9


def arm_change(code: str, arm: Arm) -> float:
    """The arm's change from the baselines to the pulses during the pilot: each unit's change
    in its mean, weighted by the unit's respondents (team means weighted by n, SCIENCE.md)."""
    pilot = the_pilot()
    phase_of = {pp.pulse_id: pp.phase for pp in pilot.pulses}
    sums: dict[tuple[int, Phase], list[float]] = defaultdict(lambda: [0, 0.0])
    for row in db.session.scalars(
        select(DimensionTally).where(
            DimensionTally.pulse_id.in_(phase_of), DimensionTally.dimension == code
        )
    ):
        cell = sums[(row.team_id, phase_of[row.pulse_id])]
        cell[0] += row.n
        cell[1] += row.total
    weighted = weights = 0.0
    for team in pilot.arm_teams(arm):
        (n_before, before), (n_during, during) = (
            sums[(team.id, Phase.BASELINE)],
            sums[(team.id, Phase.DURING)],
        )
        weight = n_before + n_during
        weighted += weight * (during / n_during - before / n_before)
        weights += weight
    return weighted / weights


def did(code: str) -> float:
    return arm_change(code, Arm.PILOT) - arm_change(code, Arm.COMPARISON)


def test_burnout_and_workload_improve_in_pilot_teams_and_trust_does_not_move(
    demo: Flask,
) -> None:
    assert did("burnout") <= -8  # burnout: lower is better
    assert did("workload") >= 6
    assert abs(did("trust")) <= 4


def test_the_effect_grows_over_the_first_pulses(demo: Flask) -> None:
    pilot = the_pilot()
    arms = {pt.team_id: pt.arm for pt in pilot.teams}

    def gap(pulse_id: int) -> float:
        n: dict[Arm, int] = defaultdict(int)
        total: dict[Arm, float] = defaultdict(float)
        for row in db.session.scalars(
            select(DimensionTally).where(
                DimensionTally.pulse_id == pulse_id, DimensionTally.dimension == "burnout"
            )
        ):
            n[arms[row.team_id]] += row.n
            total[arms[row.team_id]] += row.total
        return total[Arm.PILOT] / n[Arm.PILOT] - total[Arm.COMPARISON] / n[Arm.COMPARISON]

    gaps = [gap(pp.pulse_id) for pp in pilot.pulses[:7]]
    baseline = (gaps[0] + gaps[1]) / 2
    first, later = gaps[2] - baseline, sum(gaps[4:7]) / 3 - baseline
    assert later < first < 0


def test_pilot_tallies_match_the_raw_answers(demo: Flask) -> None:
    for pp in the_pilot().pulses[:7]:
        assert verify_pulse_tallies(pp.pulse_id) == []


def test_outcome_metrics_fall_in_pilot_teams_for_absence_and_overtime(demo: Flask) -> None:
    pilot = the_pilot()
    arms = {pt.team_id: pt.arm for pt in pilot.teams}
    rows = db.session.scalars(select(OutcomeMetric)).all()
    assert {r.team_id for r in rows} == set(arms)
    assert {r.metric for r in rows} == set(METRICS)
    before = {r.period_start for r in rows if r.period_end < pilot.starts_on}
    during = {r.period_start for r in rows if r.period_start >= pilot.starts_on}
    assert len(before) == 6 and len(during) >= 2
    assert all(r.period_end < NOW.date() for r in rows)
    assert all(r.period_start >= pilot.starts_on or r.period_end < pilot.starts_on for r in rows)

    def ratio(metric: str, arm: Arm) -> float:
        """Mean monthly value during the pilot over mean monthly value before, for the arm."""
        chosen = [r for r in rows if r.metric == metric and arms[r.team_id] is arm]
        after = [r.value for r in chosen if r.period_start >= pilot.starts_on]
        prior = [r.value for r in chosen if r.period_end < pilot.starts_on]
        return (sum(after) / len(after)) / (sum(prior) / len(prior))

    for metric in ("absence_days", "overtime_hours"):
        assert ratio(metric, Arm.PILOT) < ratio(metric, Arm.COMPARISON) - 0.2, metric
    for metric in ("output", "customer_satisfaction"):
        assert 0.93 <= ratio(metric, Arm.PILOT) <= 1.07, metric
        assert 0.93 <= ratio(metric, Arm.COMPARISON) <= 1.07, metric


def test_every_unit_has_enough_people_and_metrics_are_whole_numbers_where_counted(
    demo: Flask,
) -> None:
    pilot = the_pilot()
    for pt in pilot.teams:
        people = db.session.scalar(
            select(func.count()).select_from(Person).where(Person.team_id == pt.team_id)
        )
        assert people is not None and people >= 9, pt.team.name
    leavers = db.session.scalars(
        select(OutcomeMetric.value).where(OutcomeMetric.metric == "leavers")
    ).all()
    assert all(value == int(value) >= 0 for value in leavers)


def test_the_pilot_analysis_finds_burnout_improved_and_no_clear_difference_in_trust(
    demo: Flask,
) -> None:
    pilot = the_pilot()
    infos = [analysis.PulseInfo(pp.pulse_id, pp.pulse.title, pp.phase) for pp in pilot.pulses]

    def analyse(code: str, higher_is_better: bool) -> analysis.Analysis:
        units = []
        for pt in pilot.teams:
            cells = {
                row.pulse_id: analysis.Cell(row.n, row.total / row.n)
                for row in db.session.scalars(
                    select(DimensionTally).where(
                        DimensionTally.team_id == pt.team_id, DimensionTally.dimension == code
                    )
                )
            }
            units.append(analysis.Unit(pt.team_id, pt.team.name, pt.arm is Arm.PILOT, cells))
        return analysis.analyse(code, code.title(), higher_is_better, infos, units)

    burnout = analyse("burnout", False)
    assert burnout.effect is not None and not burnout.weak
    assert burnout.effect.estimate < -8 and burnout.effect.interval.excludes_zero
    assert "That is an improvement." in burnout.verdict
    trust = analyse("trust", True)
    assert trust.effect is not None and not trust.weak
    assert not trust.effect.interval.excludes_zero
    assert trust.verdict.startswith("No clear difference")


def test_demo_summary_points_to_the_pilot_report_actions_and_a_team_page(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["pulse", "demo"])
    assert result.exit_code == 0, result.output
    pilot = the_pilot()
    assert (
        f'Pilot "Four-day week 2026": its report is at http://localhost/pilots/{pilot.id}/report'
        in (result.output)
    )
    assert "10 follow-up actions are logged." in result.output
    token = result.output.split("http://localhost/you-said-we-did/", 1)[1].split()[0]
    team = db.session.get(Team, team_from_token(token, app.config["SECRET_KEY"]))
    assert team is not None and team.name == "Customer Support"
    again = runner.invoke(args=["pulse", "demo", "--if-empty"])
    assert f"/pilots/{pilot.id}/report" in again.output and token in again.output


@pytest.mark.postgres
def test_the_demo_pilot_builds_on_postgresql(pg_app: Flask) -> None:
    build_demo(
        now=NOW,
        password_method=pg_app.config["PASSWORD_HASH_METHOD"],
        secret_key=pg_app.config["SECRET_KEY"],
    )
    db.session.commit()
    pilot = check_design()
    for pp in pilot.pulses[:7]:
        assert verify_pulse_tallies(pp.pulse_id) == []
    assert did("burnout") <= -8 and abs(did("trust")) <= 4
    assert db.session.scalar(select(func.count()).select_from(OutcomeMetric)) == len(
        demo_pilot.METRIC_LEVELS
    ) * 12 * len(set(db.session.scalars(select(OutcomeMetric.period_start))))
