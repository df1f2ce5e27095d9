"""The pilot report built from real tallies: arms, the gate, outcome metrics, effect_for.

The organisation: Acme with five pilot teams (P1-P5) and five comparison teams (C1-C5) of 8
answering people each, and Ops with Tiny (3 people, a pilot team) and Big (6 people, in no arm).
Tiny is below k = 5, so it is hidden everywhere, and so is Big (otherwise Ops minus Big would
give Tiny away). Tiny's burnout is a tell-tale 97 and its pilot-arm respondents would make the
totals 43: neither may appear anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from flask import Flask

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Team
from pulse.pilots import analysis, charts, report
from pulse.pilots.models import Arm, Phase, Pilot, PilotPulse, PilotTeam
from pulse.results.models import OutcomeMetric
from pulse.surveys.models import (
    DimensionTally,
    Pulse,
    ResponseTally,
)
from tests.factories import make_person, make_team
from tests.results import test_heatmap_routes as heatmap_tests

KEYS = ["burnout.drained", "burnout.fatigue", "trust.rely_on_management", "enps.recommend"]
TINY_BURNOUT = 97.0
PEOPLE = 8


@dataclass
class World:
    pilot: Pilot
    teams: dict[str, Team]
    pulses: list[Pulse]  # baseline 1, baseline 2, final
    now: datetime


def make_pulse(title: str, opens: datetime, days: int = 7) -> Pulse:
    return heatmap_tests.make_pulse(title, opens, days, KEYS, "Four-day week pilot")


def tally(pulse: Pulse, team: Team, scores: dict[str, list[float]]) -> None:
    """Respondents of `team`: every dimension's per-person scores (same people for each)."""
    count = max(len(v) for v in scores.values())
    db.session.add(ResponseTally(pulse_id=pulse.id, team_id=team.id, count=count))
    for code, values in scores.items():
        db.session.add(
            DimensionTally(
                pulse_id=pulse.id,
                team_id=team.id,
                dimension=code,
                n=len(values),
                total=sum(values),
                total_sq=sum(v * v for v in values),
                at_risk=sum(1 for v in values if v >= 50) if code == "burnout" else 0,
            )
        )


def scores(burnout: float, trust: float, people: int = PEOPLE) -> dict[str, list[float]]:
    spread = [-3.0, 3.0, -1.0, 1.0, -2.0, 2.0, 0.0, 0.0][:people]
    return {
        "burnout": [burnout + s for s in spread],
        "trust": [trust + s for s in spread],
        "enps": [100.0, 0.0, -100.0, 0.0, 0.0, 100.0, 0.0, 0.0][:people],
    }


def make_pilot(name: str, starts_on: date, ends_on: date) -> Pilot:
    pilot = Pilot(
        name=name,
        hypothesis="A four-day week lowers burnout without hurting trust.",
        starts_on=starts_on,
        ends_on=ends_on,
        timezone="UTC",
        set_ref="builtin:four_day_week",
        cadence_weeks=2,
        baseline_pulses=2,
        open_days=7,
        created_at=utcnow(),
    )
    db.session.add(pilot)
    db.session.flush()
    return pilot


def link(pilot: Pilot, pulse: Pulse, phase: Phase, position: int) -> None:
    db.session.add(PilotPulse(pulse_id=pulse.id, pilot_id=pilot.id, phase=phase, position=position))


def build_world(with_comparison: bool = True) -> World:
    now = utcnow()
    teams = {"Acme": make_team("Acme"), "Ops": make_team("Acme/Ops")}
    for i in range(1, 6):
        teams[f"P{i}"] = make_team(f"Acme/P{i}")
        teams[f"C{i}"] = make_team(f"Acme/C{i}")
    teams["Tiny"] = make_team("Acme/Ops/Tiny")
    teams["Big"] = make_team("Acme/Ops/Big")
    teams["Elsewhere"] = make_team("Acme/Elsewhere")
    for name, team in teams.items():
        size = {"Tiny": 3, "Big": 6, "Acme": 0, "Ops": 0, "Elsewhere": 5}.get(name, PEOPLE)
        for _ in range(size):
            make_person(team=team)
    pilot = make_pilot(
        "Four-day week", (now - timedelta(days=60)).date(), (now - timedelta(days=20)).date()
    )
    units = [f"P{i}" for i in range(1, 6)] + ["Tiny"]
    comparison = [f"C{i}" for i in range(1, 6)] if with_comparison else []
    for name in units:
        db.session.add(PilotTeam(pilot_id=pilot.id, team_id=teams[name].id, arm=Arm.PILOT))
    for name in comparison:
        db.session.add(PilotTeam(pilot_id=pilot.id, team_id=teams[name].id, arm=Arm.COMPARISON))
    b1 = make_pulse("Baseline 1", now - timedelta(days=100))
    b2 = make_pulse("Baseline 2", now - timedelta(days=80))
    final = make_pulse("Final pulse", now - timedelta(days=20), days=5)
    for position, (pulse, phase) in enumerate(
        ((b1, Phase.BASELINE), (b2, Phase.BASELINE), (final, Phase.FINAL)), start=1
    ):
        link(pilot, pulse, phase, position)
    for i in range(1, 6):
        for pulse in (b1, b2):
            tally(pulse, teams[f"P{i}"], scores(60.0 + i, 70.0))
            tally(pulse, teams[f"C{i}"], scores(58.0 + i, 70.0))
        # Pilot burnout falls by 12 (plus a little per team); comparison barely moves.
        tally(final, teams[f"P{i}"], scores(48.0 + i + (i % 2), 70.0))
        tally(final, teams[f"C{i}"], scores(58.0 + i + (i % 2) * 0.5, 70.0))
    for pulse in (b1, b2, final):
        tally(pulse, teams["Tiny"], scores(TINY_BURNOUT, TINY_BURNOUT, people=3))
        tally(pulse, teams["Big"], scores(30.0, 30.0, people=6))
    db.session.commit()
    return World(pilot, teams, [b1, b2, final], now)


@pytest.fixture
def world(app: Flask) -> World:
    return build_world()


def test_arms_pool_visible_units_and_the_effect_is_found(world: World) -> None:
    built = report.build(world.pilot, world.now)
    assert [u.name for u in built.units] == [
        "P1",
        "P2",
        "P3",
        "P4",
        "P5",
        "Tiny",
        "C1",
        "C2",
        "C3",
        "C4",
        "C5",
    ]
    burnout = built.dimension("burnout")
    assert burnout is not None
    effect = burnout.result.effect
    assert effect is not None
    # Pilot: mean of 61..65 = 63 -> mean of 50, 50, 52, 52, 54 = 51.6 (each team 8 people).
    assert effect.pilot_before.mean == pytest.approx(63.0)
    assert effect.pilot_after.mean == pytest.approx(51.6)
    assert effect.comparison_before.mean == pytest.approx(61.0)
    assert effect.comparison_after.mean == pytest.approx(61.3)
    assert effect.estimate == pytest.approx((51.6 - 63.0) - (61.3 - 61.0))
    assert effect.interval.excludes_zero and effect.interval.arrangements == 252
    assert burnout.result.verdict.startswith("Burnout fell about 12 points more in pilot teams")
    assert "Tiny" in effect.left_out
    trust = built.dimension("trust")
    assert trust is not None and trust.result.verdict.startswith("No clear difference")


def test_a_unit_below_k_is_left_out_of_every_figure(world: World) -> None:
    built = report.build(world.pilot, world.now)
    for line in built.pulses:
        assert line.pilot.teams == 5 and line.pilot.respondents == 40  # never 43
        assert "Tiny" in line.missing
    burnout = built.dimension("burnout")
    assert burnout is not None
    for count in burnout.result.counts:
        assert count.pilot.respondents == 40


def test_enps_is_left_out_with_a_reason(world: World) -> None:
    built = report.build(world.pilot, world.now)
    assert built.dimension("enps") is None
    assert any("eNPS" in why for _name, why in built.left_out)


def test_the_pre_trend_and_event_study_are_reported(world: World) -> None:
    built = report.build(world.pilot, world.now)
    burnout = built.dimension("burnout")
    assert burnout is not None
    pre = burnout.result.pre_trend
    assert pre is not None and pre.did.estimate == pytest.approx(0.0)
    assert [p.pulse.title for p in burnout.result.events] == [
        "Baseline 1",
        "Baseline 2",
        "Final pulse",
    ]
    assert [line.weeks_from_start for line in built.pulses][-1] >= 5


def test_unit_rows_only_for_the_viewers_teams(world: World) -> None:
    from pulse.results.report import Viewer

    p1 = world.teams["P1"].id
    viewer = Viewer((p1,), whole_org=False)
    built = report.build(world.pilot, world.now, viewer=viewer, visible={p1})
    burnout = built.dimension("burnout")
    assert burnout is not None
    assert [row.name for row in burnout.units] == ["P1"]
    assert burnout.units[0].baseline == pytest.approx(61.0)
    assert burnout.units[0].after == pytest.approx(50.0)
    tiny = world.teams["Tiny"].id
    hidden = report.build(
        world.pilot, world.now, viewer=Viewer((tiny,), whole_org=False), visible={tiny}
    )
    dimension = hidden.dimension("burnout")
    assert dimension is not None and dimension.units == ()


def test_outcome_metrics_before_and_during_per_person(world: World) -> None:
    start = world.pilot.starts_on
    before = start - timedelta(days=40)
    during = start + timedelta(days=5)
    for name in [f"P{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]:
        for period, value in ((before, 16.0), (during, 8.0 if name.startswith("P") else 16.0)):
            db.session.add(
                OutcomeMetric(
                    team_id=world.teams[name].id,
                    metric="absence_days",
                    period_start=period,
                    period_end=period + timedelta(days=27),
                    value=value,
                    imported_at=world.now,
                )
            )
    db.session.add(
        OutcomeMetric(
            team_id=world.teams["Tiny"].id,
            metric="absence_days",
            period_start=during,
            period_end=during + timedelta(days=27),
            value=999.0,
            imported_at=world.now,
        )
    )
    db.session.commit()
    built = report.build(world.pilot, world.now)
    [row] = built.metrics
    assert row.key == "absence_days" and row.per_person
    # 5 teams x 16 days over 40 people; Tiny's 3 people and 999 days are not counted.
    assert row.pilot_before.value == pytest.approx(2.0)
    assert row.pilot_during.value == pytest.approx(1.0)
    assert row.comparison_during.value == pytest.approx(2.0)


def test_no_metric_rows_means_no_metrics(world: World) -> None:
    assert report.build(world.pilot, world.now).metrics == []


def test_effect_for_gives_the_org_wide_effect(world: World) -> None:
    effect = report.effect_for(world.pilot, "burnout", world.now)
    assert effect is not None and effect.comparison
    assert effect.estimate == pytest.approx(-11.7)
    assert effect.high is not None and effect.high < 0
    assert effect.after_pulse_id == world.pulses[2].id
    assert report.effect_for(world.pilot, "enps", world.now) is None
    assert report.effect_for(world.pilot, "psych_safety", world.now) is None
    assert report.effect_for(world.pilot, "nonsense", world.now) is None


def test_without_comparison_teams_effect_for_gives_before_after(app: Flask) -> None:
    world = build_world(with_comparison=False)
    effect = report.effect_for(world.pilot, "burnout", world.now)
    assert effect is not None and not effect.comparison
    assert effect.low is None and effect.high is None
    assert "cannot separate the pilot" in effect.verdict


def test_pulses_not_yet_open_are_left_out_and_the_next_opening_is_known(app: Flask) -> None:
    now = utcnow()
    team = make_team("Acme/Solo")
    pilot = make_pilot(
        "Later", (now + timedelta(days=30)).date(), (now + timedelta(days=90)).date()
    )
    db.session.add(PilotTeam(pilot_id=pilot.id, team_id=team.id, arm=Arm.PILOT))
    pulse = make_pulse("Baseline 1", now + timedelta(days=3))
    pulse.frozen_at = None
    link(pilot, pulse, Phase.BASELINE, 1)
    db.session.commit()
    built = report.build(pilot, now)
    assert built.pulses == [] and not built.has_results
    assert built.next_opening == pulse.opens_at
    assert report.effect_for(pilot, "burnout", now) is None


def test_an_open_pulse_hides_its_results_until_it_closes(world: World) -> None:
    final = world.pulses[2]
    final.closes_at = world.now + timedelta(days=2)
    db.session.commit()
    built = report.build(world.pilot, world.now)
    assert built.pulses[-1].hidden_while_open and not built.pulses[-1].has_results
    burnout = built.dimension("burnout")
    assert burnout is not None and burnout.result.effect is None
    assert burnout.result.verdict.startswith("Not yet")


@pytest.mark.postgres
def test_the_report_on_postgres(pg_app: Flask) -> None:
    world = build_world()
    built = report.build(world.pilot, world.now)
    burnout = built.dimension("burnout")
    assert burnout is not None and burnout.result.effect is not None
    assert burnout.result.effect.estimate == pytest.approx(-11.7)
    assert all(line.pilot.respondents == 40 for line in built.pulses)


def _dimension(units: list[analysis.Unit]) -> report.DimensionReport:
    pulses = (
        analysis.PulseInfo(1, "Baseline 1", "baseline"),
        analysis.PulseInfo(2, "During", "during"),
        analysis.PulseInfo(3, "Final", "final"),
    )
    result = analysis.analyse("burnout", "Burnout", False, pulses, units)
    return report.DimensionReport("burnout", "Burnout", False, result)


def _unit(key: int, pilot: bool, means: tuple[float, float, float]) -> analysis.Unit:
    return analysis.Unit(
        key, f"T{key}", pilot, {p: analysis.Cell(8, m) for p, m in enumerate(means, start=1)}
    )


def test_the_event_chart_marks_the_start_zero_and_open_intervals() -> None:
    units = [_unit(i, i < 3, (50.0 + i, 45.0 + i, 40.0 + 2 * i)) for i in range(6)]
    chart = charts.event_chart(_dimension(units), [])
    assert chart is not None
    first, during, final = chart.marks
    assert chart.start_x is not None and first.x < chart.start_x < during.x
    assert chart.plot_top < chart.zero_y < chart.plot_bottom
    # 3 + 3 teams: no interval has limits, so every whisker runs off the chart.
    assert during.open_low and during.open_high and final.open_low
    assert [row[0] for row in chart.table.rows] == ["Baseline 1", "During", "Final"]
    assert "no lower limit" in chart.table.rows[2][3]
    assert "start of the pilot" in chart.desc


def test_no_event_chart_without_comparison_teams() -> None:
    units = [_unit(i, True, (50.0, 45.0, 40.0)) for i in range(4)]
    assert charts.event_chart(_dimension(units), []) is None


def test_a_managers_report_uses_their_own_family_and_only_their_teams(world: World) -> None:
    """Manager of P1 (8 answers) and of Solo (2 answers, another branch): their dashboard shows
    "all my teams" (10) and so must hide P1, or Solo's 2 would follow by subtraction. Their
    report is gated with that same family and holds only the pilot teams it contains, so it
    shows nothing of P1, and nothing of teams outside theirs (which HR's gate decides on)."""
    from pulse.results.report import Viewer

    solo = make_team("Acme/Solo")
    for _ in range(2):
        make_person(team=solo)
    for pulse in world.pulses:
        tally(pulse, solo, scores(40.0, 40.0, people=2))
    db.session.commit()
    p1 = world.teams["P1"].id
    viewer = Viewer((p1, solo.id), whole_org=False)
    theirs = report.build(world.pilot, world.now, viewer=viewer, visible={p1, solo.id})
    assert [u.name for u in theirs.units] == ["P1"] and theirs.outside == 10
    for line in theirs.pulses:
        assert line.pilot.respondents == 0 and line.missing == ("P1",)
    burnout = theirs.dimension("burnout")
    assert burnout is not None and burnout.units == () and burnout.result.effect is None
    assert all(line.pilot.respondents == 40 for line in report.build(world.pilot, world.now).pulses)


def test_a_manager_whose_teams_hold_both_arms_gets_the_effect(world: World) -> None:
    from pulse.results.report import Viewer

    acme = world.teams["Acme"].id
    visible = {team.id for team in world.teams.values()}
    theirs = report.build(
        world.pilot, world.now, viewer=Viewer((acme,), whole_org=False), visible=visible
    )
    assert theirs.outside == 0
    burnout = theirs.dimension("burnout")
    assert burnout is not None and burnout.result.effect is not None
    assert burnout.result.verdict.startswith("Burnout fell about 12 points more")
