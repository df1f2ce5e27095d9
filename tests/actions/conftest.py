"""An organisation with two closed pulses, staff of every role, and helpers to log actions.

Acme has Eng (Platform: 8 people, Tiny: 3 people) and Sales (7 people). Tiny is below k = 5, so
its scores are hidden everywhere (and so is Platform, or Eng minus Platform would give Tiny
away). Trust answers differ by pulse so Sales improves clearly between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from pulse.actions import services
from pulse.actions.models import Action, ActionStatus
from pulse.actions.services import ActionFields, ActionLink
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Person, Role, Team
from pulse.surveys import services as pulse_services
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.models import Invitation, Pulse
from tests.factories import make_person, make_staff, make_team

SECRET = "test-secret-key-not-for-production-use-0123456789"
TRUST = "trust.rely_on_management"
FIRST = {"Platform": [5] * 8, "Tiny": [1, 2, 2], "Sales": [1, 2, 2, 2, 1, 2, 2]}
SECOND = {"Platform": [5] * 8, "Tiny": [5, 5, 5], "Sales": [5, 4, 4, 4, 5, 4, 4]}


def run_pulse(
    title: str, audience: list[Team], opens: datetime, answers: dict[str, list[int]]
) -> Pulse:
    pulse = pulse_services.create_pulse(
        title=title, set_ref="builtin:core", teams=audience, now=opens, actor=None
    )
    pulse_services.open_pulse(
        pulse, now=opens, secret_key=SECRET, actor=None, closes_at=opens + timedelta(days=7)
    )
    trust = next(q.id for q in pulse.questions if q.question_key == TRUST)
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.pulse_id == pulse.id).order_by(Invitation.id)
    ).all()
    names = {t.id: t.name for t in db.session.scalars(select(Team))}
    left = {team: list(values) for team, values in answers.items()}
    for invitation in invitations:
        values = left.get(names[invitation.team_id])
        if values:
            parsed = ParsedAnswers(values={trust: values.pop()})
            pulse_services.record_response(invitation, parsed, now=opens + timedelta(hours=1))
    pulse_services.close_pulse(pulse, now=opens + timedelta(hours=2), actor=None)
    return pulse


@dataclass
class World:
    teams: dict[str, Team]
    staff: dict[str, Person]
    pulses: list[Pulse]  # oldest first

    def log(
        self,
        team: str | None,
        *,
        by: str = "hr",
        title: str = "Fix the rota",
        status: ActionStatus = ActionStatus.PLANNED,
        due_on: date | None = None,
        pulse: int | None = 0,
        dimension: str | None = "trust",
        visible: bool = True,
        owner: str | None = None,
        drop_reason: str | None = None,
        outcome: str | None = None,
    ) -> Action:
        link = ActionLink(
            self.teams[team] if team else None,
            self.pulses[pulse] if pulse is not None else None,
            dimension,
            "dashboard",
        )
        fields = ActionFields(
            title=title,
            description="What will change",
            owner=self.staff[owner] if owner else None,
            due_on=due_on,
            status=status,
            drop_reason=drop_reason,
            visible=visible,
            outcome=outcome,
        )
        action = services.log_action(link, fields, actor=self.staff[by], now=utcnow())
        db.session.commit()
        return action


@pytest.fixture
def world(app: Flask) -> World:
    platform = make_team("Acme/Eng/Platform")
    tiny = make_team("Acme/Eng/Tiny")
    sales = make_team("Acme/Sales")
    teams = {"Acme": make_team("Acme"), "Eng": make_team("Acme/Eng")}
    teams.update({"Platform": platform, "Tiny": tiny, "Sales": sales})
    for team, size in ((platform, 8), (tiny, 3), (sales, 7)):
        for _ in range(size):
            make_person(team=team)
    staff = {
        "hr": make_staff(Role.HR, name="Hanna HR", email="hr@example.com"),
        "leader": make_staff(Role.LEADER, name="Lee Leader", email="leader@example.com"),
        "eng": make_staff(
            Role.MANAGER, manages=[teams["Eng"]], team=teams["Eng"], email="eng@example.com"
        ),
        "sales": make_staff(
            Role.MANAGER, manages=[sales], team=sales, name="Sam Sales", email="sales@example.com"
        ),
    }
    start = utcnow() - timedelta(days=60)
    first = run_pulse("Spring pulse", [teams["Eng"], sales], start, FIRST)
    second = run_pulse("Autumn pulse", [teams["Eng"], sales], start + timedelta(days=30), SECOND)
    db.session.commit()
    return World(teams, staff, [first, second])
