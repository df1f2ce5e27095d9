"""The demo's follow-up actions: every state, real owners, dated timelines, and measured effect."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from pulse.actions.models import Action, ActionStatus
from pulse.demo.services import build_demo
from pulse.extensions import db
from pulse.org.models import Role
from pulse.pilots.models import PilotPulse
from pulse.results import stats
from pulse.results.models import OUTCOMES
from pulse.surveys.library import DIMENSIONS
from pulse.surveys.models import DimensionTally, Pulse, PulseState
from tests.conftest import build_app
from tests.factories import NOW

TODAY = NOW.date()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    path: Path = tmp_path_factory.mktemp("demo_actions")
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


def all_actions() -> list[Action]:
    return list(db.session.scalars(select(Action).order_by(Action.id)))


def test_actions_cover_every_state_and_the_cases_a_manager_meets(demo: Flask) -> None:
    actions = all_actions()
    assert 8 <= len(actions) <= 12
    assert {a.status for a in actions} == set(ActionStatus)
    assert len({a.team_id for a in actions if a.team_id is not None}) >= 5
    open_ = [a for a in actions if a.status.is_open and a.due_on is not None]
    assert any(a.due_on < TODAY for a in open_), "one overdue"
    assert any(TODAY <= a.due_on <= TODAY + timedelta(days=3) for a in open_), "one due soon"
    assert sum(a.team_id is None for a in actions) == 1, "one for the whole organisation"
    assert sum(not a.visible for a in actions) == 1, "one hidden from employees"
    for action in actions:
        if action.status is ActionStatus.DROPPED:
            assert action.drop_reason
        assert (action.completed_on is not None) == (action.status is ActionStatus.DONE)


def test_actions_are_linked_owned_and_dated_consistently(demo: Flask) -> None:
    for action in all_actions():
        assert action.outcome in OUTCOMES
        assert action.dimension in DIMENSIONS
        assert action.pulse is not None and action.pulse.state(NOW) is PulseState.CLOSED
        assert action.pulse.closes_at is not None and action.pulse.closes_at <= action.created_at
        assert action.owner is not None
        if action.team is None:
            assert action.owner.role in (Role.LEADER, Role.HR)
        else:
            assert action.owner in action.team.managers
        assert action.created_at <= action.updated_at <= NOW


def test_timelines_are_dated_some_entries_internal_and_match_the_status(demo: Flask) -> None:
    visible = hidden = 0
    for action in all_actions():
        times = [u.at for u in action.updates]
        assert times == sorted(times) and times[0] == action.created_at and times[-1] <= NOW
        # Logging an action plans it; the timeline records each change of status after that.
        statuses = [ActionStatus.PLANNED]
        for update in action.updates:
            if update.status_to is not None:
                assert update.status_from is statuses[-1]
                statuses.append(update.status_to)
            else:
                assert update.status_from is None
        assert statuses[-1] is action.status
        visible += sum(u.visible for u in action.updates)
        hidden += sum(not u.visible for u in action.updates)
    assert visible >= 10 and hidden >= 2


def team_sums(pulse_id: int, team_id: int, code: str) -> stats.DimensionSums:
    row = db.session.scalars(
        select(DimensionTally).where(
            DimensionTally.pulse_id == pulse_id,
            DimensionTally.team_id == team_id,
            DimensionTally.dimension == code,
        )
    ).one()
    return stats.DimensionSums(row.n, row.total, row.total_sq, row.at_risk)


def test_a_finished_action_is_followed_by_a_flagged_improvement(demo: Flask) -> None:
    """The team's linked dimension at the next organisation pulse after the action was done
    beats the pulse that prompted it by the flag rule (interval excludes 0, at least the MID)."""
    pilot_pulses = select(PilotPulse.pulse_id)
    improved = []
    for action in all_actions():
        if action.status is not ActionStatus.DONE or action.team_id is None:
            continue
        assert action.pulse is not None and action.dimension is not None
        assert action.completed_on is not None
        later = db.session.scalars(
            select(Pulse)
            .where(Pulse.id.not_in(pilot_pulses), Pulse.opens_at > action.pulse.opens_at)
            .order_by(Pulse.opens_at)
        ).all()
        following = next(p for p in later if p.opens_at.date() > action.completed_on)
        assert following.state(NOW) is PulseState.CLOSED
        before = team_sums(action.pulse.id, action.team_id, action.dimension)
        after = team_sums(following.id, action.team_id, action.dimension)
        comparison = stats.welch(before.estimate(), after.estimate())
        flag = stats.change_flag(comparison, stats.MID_0_100, survives_bh=True)
        better = (flag.direction == "up") == DIMENSIONS[action.dimension].higher_is_better
        if flag.flagged and better:
            improved.append(action.title)
    assert "Staff the late shift with two more people" in improved
    assert len(improved) >= 2
