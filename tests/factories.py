"""Small factories returning new objects; each test builds exactly the data it needs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from flask import current_app

from pulse.auth.passwords import hash_password
from pulse.extensions import db
from pulse.org.models import Person, Role, Team
from pulse.org.services import ensure_team_path

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_team(path: str = "Acme") -> Team:
    """The team at a slash-separated path, creating missing ancestors."""
    team = ensure_team_path(path.split("/"), now=NOW)
    db.session.flush()
    return team


def make_person(
    *,
    name: str | None = None,
    email: str | None = None,
    team: Team | str | None = "Acme",
    role: Role = Role.EMPLOYEE,
    manages: list[Team] | None = None,
    password: str | None = None,
    active: bool = True,
) -> Person:
    n = next(_seq)
    if isinstance(team, str):
        team = make_team(team)
    person = Person(
        email=(email or f"person{n}@example.com").lower(),
        name=name or f"Person {n}",
        team=team,
        role=role,
        active=active,
        created_at=NOW,
        session_version=1,
    )
    if password is not None:
        person.password_hash = hash_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    person.managed_teams = list(manages or [])
    db.session.add(person)
    db.session.flush()
    return person


def make_staff(role: Role, *, manages: list[Team] | None = None, **kwargs: object) -> Person:
    """A staff account that can sign in with PASSWORD."""
    return make_person(role=role, manages=manages, password=PASSWORD, **kwargs)  # type: ignore[arg-type]
