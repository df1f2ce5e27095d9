"""Pilot set-up and schedule edits: the computed schedule, time zones, rules and frozen pulses."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.org.models import Role, Team
from pulse.pilots import services
from pulse.pilots.models import Arm, Phase, Pilot, PilotPulse
from pulse.surveys import services as surveys
from pulse.surveys.models import Pulse
from tests.factories import NOW, make_person, make_staff, make_team

BERLIN = ZoneInfo("Europe/Berlin")
START = date(2027, 2, 1)  # NOW is 2026-11-27: 9 weeks ahead
END = date(2027, 5, 3)


# --- Pure schedule ------------------------------------------------------------------------------


def test_waves_space_baselines_by_cadence_and_end_with_a_final() -> None:
    waves = services.plan_waves(START, END, baseline_pulses=2, cadence_weeks=2, open_days=7)
    baselines = [w for w in waves if w.phase is Phase.BASELINE]
    during = [w for w in waves if w.phase is Phase.DURING]
    assert [w.day for w in baselines] == [START - timedelta(weeks=4), START - timedelta(weeks=2)]
    assert [w.label for w in baselines] == ["Baseline 1", "Baseline 2"]
    assert during[0].day == START + timedelta(weeks=2)
    assert all(b.day - a.day == timedelta(weeks=2) for a, b in itertools.pairwise(during))
    # Every pulse during the pilot closes before the final one opens on the end date.
    assert all(w.day + timedelta(days=7) <= END for w in during)
    assert waves[-1] == services.Wave(Phase.FINAL, 1, END)
    assert [w.day for w in waves] == sorted(w.day for w in waves)


def test_weekly_cadence_puts_a_pulse_every_week() -> None:
    waves = services.plan_waves(
        date(2027, 1, 4), date(2027, 2, 1), baseline_pulses=1, cadence_weeks=1, open_days=7
    )
    assert [(w.phase, w.day) for w in waves] == [
        (Phase.BASELINE, date(2026, 12, 28)),
        (Phase.DURING, date(2027, 1, 11)),
        (Phase.DURING, date(2027, 1, 18)),
        (Phase.DURING, date(2027, 1, 25)),
        (Phase.FINAL, date(2027, 2, 1)),
    ]


def test_opening_is_nine_local_across_daylight_saving() -> None:
    # Berlin moves to summer time on 2027-03-28: 09:00 is 08:00 UTC before, 07:00 UTC after.
    opens, closes = services.window(date(2027, 3, 24), 7, BERLIN)
    assert opens == datetime(2027, 3, 24, 8, 0, tzinfo=UTC)
    assert closes == datetime(2027, 3, 31, 7, 0, tzinfo=UTC)
    assert closes.astimezone(BERLIN).hour == 9


def test_earliest_start_leaves_room_for_the_baselines() -> None:
    # NOW is 09:00 UTC = 10:00 in Berlin, past today's opening: the first baseline is tomorrow.
    earliest = services.earliest_start(NOW, BERLIN, baseline_pulses=2, cadence_weeks=2)
    assert earliest == date(2026, 11, 28) + timedelta(weeks=4)


# --- Set-up -------------------------------------------------------------------------------------


def _arms() -> tuple[list[Team], list[Team]]:
    pilot = [make_team("Acme/Ops/North"), make_team("Acme/Ops/South")]
    comparison = [make_team("Acme/Sales")]
    for team in (*pilot, *comparison):
        make_person(team=team)
    return pilot, comparison


def _create(app: Flask, **overrides: object) -> Pilot:
    pilot_teams, comparison = _arms() if "pilot_teams" not in overrides else ([], [])
    values: dict[str, object] = {
        "name": "Four-day week 2027",
        "hypothesis": "Fewer days, less burnout.",
        "starts_on": START,
        "ends_on": END,
        "pilot_teams": pilot_teams,
        "comparison_teams": comparison,
        "timezone": "Europe/Berlin",
        "now": NOW,
        "actor": make_staff(Role.HR),
    }
    values.update(overrides)
    return services.create_pilot(**values)  # type: ignore[arg-type]


def test_create_pilot_schedules_every_wave_for_both_arms(app: Flask) -> None:
    pilot = _create(app)
    assert [pt.arm for pt in pilot.teams].count(Arm.PILOT) == 2
    links = sorted(pilot.pulses, key=lambda p: p.position)
    assert [p.position for p in links] == list(range(1, len(links) + 1))
    assert links[0].pulse.title == "Four-day week 2027 \u00b7 Baseline 1"
    assert links[-1].phase is Phase.FINAL
    first = links[0].pulse
    assert first.opens_at == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, winter
    assert first.closes_at - first.opens_at == timedelta(days=7)
    assert {t.name for t in first.teams} == {"North", "South", "Sales"}
    assert first.set_name == "Four-day week pilot"
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"pilot.create", "pulse.create"} <= actions


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"ends_on": START}, services.EndNotAfterStart),
        ({"starts_on": date(2026, 12, 10)}, services.BaselinesTooLate),
        ({"timezone": "Mars/Olympus"}, services.UnknownTimezone),
        ({"name": "   "}, services.EmptyPilotName),
        ({"cadence_weeks": 3}, services.UnknownCadence),
        ({"open_days": 15}, services.InvalidOpenDays),
        ({"baseline_pulses": 0}, services.InvalidBaselines),
    ],
)
def test_setup_rules_refuse_bad_values(
    app: Flask, overrides: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        _create(app, **overrides)
    assert db.session.scalar(select(func.count()).select_from(Pulse)) == 0


def test_baselines_too_late_names_the_earliest_start(app: Flask) -> None:
    with pytest.raises(services.BaselinesTooLate, match="2026-12-26"):
        _create(app, starts_on=date(2026, 12, 10))


def test_teams_must_be_disjoint_subtrees(app: Flask) -> None:
    ops, north, sales = make_team("Acme/Ops"), make_team("Acme/Ops/North"), make_team("Acme/Sales")
    with pytest.raises(services.PilotSetupInvalid) as caught:
        _create(app, pilot_teams=[ops, sales], comparison_teams=[north, sales])
    kinds = {type(e) for e in caught.value.errors}
    assert kinds == {services.TeamInBothArms, services.NestedTeams}
    with pytest.raises(services.NestedTeams):
        _create(app, pilot_teams=[ops, north], comparison_teams=[])
    with pytest.raises(services.NoPilotTeams):
        _create(app, pilot_teams=[], comparison_teams=[sales])


def test_pilot_names_are_unique_ignoring_case(app: Flask) -> None:
    _create(app)
    with pytest.raises(services.DuplicatePilotName):
        _create(app, name="FOUR-DAY week 2027", pilot_teams=[make_team("Acme/Other")])


# --- Schedule edits -----------------------------------------------------------------------------


def _link(pilot: Pilot, phase: Phase, index: int = 0) -> PilotPulse:
    return sorted((p for p in pilot.pulses if p.phase is phase), key=lambda p: p.position)[index]


def test_move_keeps_duration_and_reorders(app: Flask) -> None:
    pilot = _create(app)
    second = _link(pilot, Phase.BASELINE, 1)
    new_open = datetime(2026, 12, 20, 8, 0, tzinfo=UTC)
    services.move_pulse(pilot, second.pulse_id, opens_at=new_open, now=NOW, actor=None)
    assert second.pulse.closes_at - second.pulse.opens_at == timedelta(days=7)
    assert second.position == 1  # it now opens before the other baseline


def test_move_refuses_a_baseline_after_the_start(app: Flask) -> None:
    pilot = _create(app)
    first = _link(pilot, Phase.BASELINE)
    late = datetime(2027, 2, 3, 8, 0, tzinfo=UTC)
    with pytest.raises(services.PhaseOutOfWindow):
        services.move_pulse(pilot, first.pulse_id, opens_at=late, now=NOW, actor=None)


def test_skip_deletes_an_unopened_pulse(app: Flask) -> None:
    pilot = _create(app)
    during = _link(pilot, Phase.DURING)
    count = len(pilot.pulses)
    services.skip_pulse(pilot, during.pulse_id, now=NOW, actor=None)
    assert db.session.get(Pulse, during.pulse_id) is None
    assert len(pilot.pulses) == count - 1
    assert [p.position for p in sorted(pilot.pulses, key=lambda p: p.position)] == list(
        range(1, count)
    )
    assert "pilot.pulse_skip" in set(db.session.scalars(select(AuditEvent.action)))


def test_skip_refuses_the_final_and_the_last_baseline(app: Flask) -> None:
    pilot = _create(app, baseline_pulses=1)
    with pytest.raises(services.FinalPulseRequired):
        services.skip_pulse(pilot, _link(pilot, Phase.FINAL).pulse_id, now=NOW, actor=None)
    with pytest.raises(services.LastBaseline):
        services.skip_pulse(pilot, _link(pilot, Phase.BASELINE).pulse_id, now=NOW, actor=None)


def test_opened_pulses_cannot_be_moved_or_skipped(app: Flask) -> None:
    pilot = _create(app)
    first = _link(pilot, Phase.BASELINE)
    opened_at = first.pulse.opens_at
    assert opened_at is not None
    surveys.open_pulse(first.pulse, now=opened_at, secret_key="x" * 40, actor=None)
    later = opened_at + timedelta(hours=1)
    with pytest.raises(surveys.PulseFrozen):
        services.skip_pulse(pilot, first.pulse_id, now=later, actor=None)
    with pytest.raises(surveys.PulseFrozen):
        services.move_pulse(
            pilot, first.pulse_id, opens_at=later + timedelta(days=1), now=later, actor=None
        )
    # Past its opening time but not yet opened by a tick: also refused.
    second = _link(pilot, Phase.BASELINE, 1)
    assert second.pulse.opens_at is not None
    with pytest.raises(surveys.PulseFrozen):
        services.skip_pulse(
            pilot, second.pulse_id, now=second.pulse.opens_at + timedelta(minutes=1), actor=None
        )


def test_add_pulse_in_a_phase(app: Flask) -> None:
    pilot = _create(app)
    count = len(pilot.pulses)
    pulse = services.add_pulse(pilot, phase=Phase.DURING, day=date(2027, 2, 8), now=NOW, actor=None)
    assert len(pilot.pulses) == count + 1
    assert pulse.opens_at == datetime(2027, 2, 8, 8, 0, tzinfo=UTC)
    assert pulse.title.startswith("Four-day week 2027 \u00b7 During")
    with pytest.raises(services.FinalPulseRequired):
        services.add_pulse(pilot, phase=Phase.FINAL, day=END, now=NOW, actor=None)
    with pytest.raises(services.PhaseOutOfWindow):
        services.add_pulse(pilot, phase=Phase.BASELINE, day=START, now=NOW, actor=None)


def test_a_pulse_of_another_pilot_is_refused(app: Flask) -> None:
    pilot = _create(app)
    with pytest.raises(services.NotInPilot):
        services.skip_pulse(pilot, 999_999, now=NOW, actor=None)


@pytest.mark.postgres
def test_create_and_skip_on_postgres(pg_app: Flask) -> None:
    pilot = _create(pg_app)
    during = _link(pilot, Phase.DURING)
    services.skip_pulse(pilot, during.pulse_id, now=NOW, actor=None)
    db.session.commit()
    assert db.session.get(Pulse, during.pulse_id) is None
    assert db.session.scalar(select(func.count()).select_from(PilotPulse)) == len(pilot.pulses)
