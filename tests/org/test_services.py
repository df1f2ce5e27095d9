"""Team and person writes."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.org import services
from pulse.org.models import Role, Team
from tests.factories import NOW, make_person, make_staff


def test_ensure_team_path_creates_missing_and_reuses_existing(app: Flask) -> None:
    platform = services.ensure_team_path(["Acme", "Eng", "Platform"], now=NOW)
    again = services.ensure_team_path(["Acme", " Eng ", "Platform"], now=NOW)
    assert again is platform
    assert db.session.scalar(select(func.count()).select_from(Team)) == 3
    assert platform.path == f"{platform.parent.path}{platform.id}/"  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["", "   ", "A/B", "x" * 121])
def test_invalid_team_names_are_refused(app: Flask, bad: str) -> None:
    with pytest.raises(services.InvalidTeamName):
        services.ensure_team_path(["Acme", bad], now=NOW)


def test_deactivation_keeps_the_person_and_logs_it(app: Flask) -> None:
    hr = make_staff(Role.HR)
    person = make_person()
    version = person.session_version
    services.deactivate_person(person, now=NOW, actor=hr)
    assert person.active is False
    assert person.deactivated_at == NOW
    assert person.session_version == version + 1
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.actor_id) == ("person.deactivate", hr.id)
    services.reactivate_person(person, now=NOW, actor=hr)
    assert person.active is True and person.deactivated_at is None


def test_role_change_signs_old_sessions_out(app: Flask) -> None:
    person = make_staff(Role.MANAGER)
    services.set_role(person, Role.LEADER, now=NOW, actor=None)
    assert person.role is Role.LEADER
    assert person.session_version == 2


def test_email_is_unique_whatever_the_case(app: Flask) -> None:
    from sqlalchemy.exc import IntegrityError

    make_person(email="Sam@Example.com")
    with pytest.raises(IntegrityError):
        make_person(email="sam@example.COM")
