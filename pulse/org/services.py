"""Writes for teams and people. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from pulse.audit import services as audit
from pulse.extensions import db
from pulse.org.models import Person, Role, Team


class OrgError(Exception):
    """A directory rule was broken; the message is shown to the user as it is."""


class InvalidTeamName(OrgError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def clean_team_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidTeamName("A team name cannot be empty.")
    if "/" in cleaned:
        raise InvalidTeamName(f"A team name cannot contain '/': {cleaned!r}.")
    if len(cleaned) > 120:
        raise InvalidTeamName("A team name can be at most 120 characters.")
    return cleaned


def create_team(name: str, parent: Team | None, *, now: datetime) -> Team:
    """Add a team under `parent` (or as a root) and give it its materialised path."""
    team = Team(name=clean_team_name(name), parent=parent, created_at=now)
    team.depth = 0 if parent is None else parent.depth + 1
    db.session.add(team)
    db.session.flush()  # the path needs the new id
    team.path = f"{parent.path if parent else '/'}{team.id}/"
    return team


def ensure_team_path(
    names: Sequence[str], *, now: datetime, cache: dict[tuple[int | None, str], Team] | None = None
) -> Team:
    """The team at `names` (root first), creating any that are missing."""
    if not names:
        raise InvalidTeamName("A team path needs at least one name.")
    parent: Team | None = None
    for raw in names:
        name = clean_team_name(raw)
        key = (parent.id if parent else None, name.lower())
        team = cache.get(key) if cache is not None else None
        if team is None:
            team = db.session.scalar(
                select(Team).where(
                    Team.parent_id.is_(None) if parent is None else Team.parent_id == parent.id,
                    Team.name == name,
                )
            )
        if team is None:
            team = create_team(name, parent, now=now)
        if cache is not None:
            cache[key] = team
        parent = team
    if parent is None:  # unreachable: names is non-empty; keeps the type checker honest
        raise InvalidTeamName("A team path needs at least one name.")
    return parent


def deactivate_person(person: Person, *, now: datetime, actor: Person | None) -> None:
    """Mark someone as gone: they keep their history but receive nothing and cannot sign in."""
    if not person.active:
        return
    person.active = False
    person.deactivated_at = now
    person.session_version += 1
    audit.record("person.deactivate", actor=actor, now=now, target=f"person:{person.id}")
    db.session.flush()


def reactivate_person(person: Person, *, now: datetime, actor: Person | None) -> None:
    if person.active:
        return
    person.active = True
    person.deactivated_at = None
    audit.record("person.reactivate", actor=actor, now=now, target=f"person:{person.id}")
    db.session.flush()


def set_role(person: Person, role: Role, *, now: datetime, actor: Person | None) -> None:
    """Change a role; old login cookies stop working so new rights apply at once."""
    if person.role is role:
        return
    audit.record(
        "person.role",
        actor=actor,
        now=now,
        target=f"person:{person.id}",
        detail={"from": person.role.value, "to": role.value},
    )
    person.role = role
    person.session_version += 1
    db.session.flush()
