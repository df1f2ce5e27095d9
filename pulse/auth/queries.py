"""Read helpers for staff accounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pulse.audit.models import AuditEvent
from pulse.auth.services import LINK_FAILED, LINK_SENT, STAFF_ROLES
from pulse.extensions import db
from pulse.org.models import Person, Role, Team
from pulse.org.queries import full_team_names

ROLE_LABELS = {
    Role.EMPLOYEE: "Employee",
    Role.MANAGER: "Manager",
    Role.LEADER: "Leader",
    Role.HR: "HR",
}


@dataclass(frozen=True)
class StaffRow:
    """One line of the staff accounts page, with its status already worked out."""

    id: int
    name: str
    email: str
    role_label: str
    team_name: str | None
    manages: list[str]
    active: bool
    password_set: bool
    link_status: str  # "sent", "failed" or "none"
    link_at: datetime | None
    last_login_at: datetime | None


def staff_accounts() -> list[Person]:
    """Managers, leaders and HR, active first, then by name."""
    stmt = (
        select(Person)
        .where(Person.role.in_(STAFF_ROLES))
        .options(selectinload(Person.managed_teams))
        .order_by(Person.active.desc(), func.lower(Person.name), Person.email)
    )
    return list(db.session.scalars(stmt))


def latest_link_events(person_ids: Iterable[int]) -> dict[int, tuple[str, datetime]]:
    """For each person, the outcome and time of the last set-password email sent to them."""
    targets = {f"person:{pid}": pid for pid in person_ids}
    if not targets:
        return {}
    rows = db.session.execute(
        select(AuditEvent.target, AuditEvent.action, AuditEvent.at)
        .where(AuditEvent.action.in_([LINK_SENT, LINK_FAILED]))
        .where(AuditEvent.target.in_(targets))
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    latest: dict[int, tuple[str, datetime]] = {}
    for target, action, at in rows:
        latest[targets[target]] = ("sent" if action == LINK_SENT else "failed", at)
    return latest


def staff_overview() -> list[StaffRow]:
    people = staff_accounts()
    names = full_team_names()
    links = latest_link_events(p.id for p in people)
    rows = []
    for person in people:
        link_status, link_at = links.get(person.id, ("none", None))
        rows.append(
            StaffRow(
                id=person.id,
                name=person.name,
                email=person.email,
                role_label=ROLE_LABELS[person.role],
                team_name=names.get(person.team_id) if person.team_id else None,
                manages=sorted(names[t.id] for t in person.managed_teams),
                active=person.active,
                password_set=person.password_hash is not None,
                link_status=link_status,
                link_at=link_at,
                last_login_at=person.last_login_at,
            )
        )
    return rows


def team_choices() -> list[tuple[int, str]]:
    """Every team as (id, full name), sorted by full name for select boxes."""
    return sorted(full_team_names().items(), key=lambda item: item[1].casefold())


def teams_by_ids(ids: Iterable[int]) -> list[Team]:
    wanted = set(ids)
    if not wanted:
        return []
    return list(db.session.scalars(select(Team).where(Team.id.in_(wanted)).order_by(Team.id)))
