"""Read helpers for teams and people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, false, func, or_, select

from pulse.extensions import db
from pulse.org.importer import (
    DirectorySnapshot,
    ExistingPerson,
    ExistingTeam,
    TeamKey,
    team_key,
)
from pulse.org.models import Person, Role, Team, team_managers
from pulse.org.permissions import sees_whole_organisation


def in_subtree(team: Team) -> ColumnElement[bool]:
    """Condition on Team: the team itself or any team below it (one indexed prefix match)."""
    return Team.path.startswith(team.path, autoescape=True)


def in_any_subtree(teams: Iterable[Team]) -> ColumnElement[bool]:
    conditions = [in_subtree(t) for t in teams]
    return or_(*conditions) if conditions else false()


def teams_under(team: Team) -> list[Team]:
    """The team and every team below it, in path order."""
    return list(db.session.scalars(select(Team).where(in_subtree(team)).order_by(Team.path)))


def visible_team_ids(person: Person) -> set[int] | None:
    """Ids of the teams `person` may see, or None when they may see the whole organisation."""
    if sees_whole_organisation(person):
        return None
    if person.role is not Role.MANAGER or not person.active:
        return set()
    stmt = select(Team.id).where(in_any_subtree(person.managed_teams))
    return set(db.session.scalars(stmt))


def full_team_names() -> dict[int, str]:
    """Every team's full path of names, e.g. {7: "Acme/Engineering/Platform"}."""
    rows = db.session.execute(select(Team.id, Team.name, Team.parent_id)).all()
    by_id = {r.id: (r.name, r.parent_id) for r in rows}
    names: dict[int, str] = {}

    def resolve(team_id: int) -> str:
        if team_id not in names:
            name, parent_id = by_id[team_id]
            names[team_id] = name if parent_id is None else f"{resolve(parent_id)}/{name}"
        return names[team_id]

    for team_id in sorted(by_id, key=lambda i: by_id[i][1] or 0):
        resolve(team_id)
    return names


@dataclass
class TeamNode:
    """A team in the directory tree, with head counts of active people."""

    id: int
    name: str
    depth: int
    direct_count: int
    total_count: int = 0
    manager_names: list[str] = field(default_factory=list)
    children: list[TeamNode] = field(default_factory=list)


def team_tree(visible: set[int] | None = None) -> list[TeamNode]:
    """The organisation as a forest sorted by name, each node with direct and subtree head counts.

    With `visible`, only those teams are returned; a visible team whose parent is hidden becomes a
    root of the returned forest.
    """
    count_rows = db.session.execute(
        select(Person.team_id, func.count())
        .where(Person.active.is_(True), Person.team_id.is_not(None))
        .group_by(Person.team_id)
    ).all()
    counts: dict[int, int] = {team_id: n for team_id, n in count_rows if team_id is not None}
    teams = db.session.execute(select(Team.id, Team.name, Team.parent_id, Team.depth)).all()
    managers: dict[int, list[str]] = {}
    manager_rows = db.session.execute(
        select(Team.id, Person.name).join(Team.managers).order_by(Person.name)
    ).all()
    for team_id, name in manager_rows:
        managers.setdefault(team_id, []).append(name)

    nodes = {
        t.id: TeamNode(t.id, t.name, t.depth, counts.get(t.id, 0), 0, managers.get(t.id, []))
        for t in teams
    }
    roots: list[TeamNode] = []
    for t in teams:
        node = nodes[t.id]
        if t.parent_id is not None and t.parent_id in nodes:
            nodes[t.parent_id].children.append(node)
        else:
            roots.append(node)

    def finish(node: TeamNode) -> int:
        node.children.sort(key=lambda n: n.name.lower())
        node.total_count = node.direct_count + sum(finish(c) for c in node.children)
        return node.total_count

    for root in roots:
        finish(root)

    if visible is None:
        return sorted(roots, key=lambda n: n.name.lower())

    shown: list[TeamNode] = []

    def collect(node: TeamNode) -> None:
        if node.id in visible:
            shown.append(node)
            return
        for child in node.children:
            collect(child)

    for root in roots:
        collect(root)
    return sorted(shown, key=lambda n: n.name.lower())


def flatten(nodes: list[TeamNode]) -> list[TeamNode]:
    """Depth-first list of a forest, for rendering as an indented list or select options."""
    out: list[TeamNode] = []

    def walk(node: TeamNode) -> None:
        out.append(node)
        for child in node.children:
            walk(child)

    for node in nodes:
        walk(node)
    return out


def people_query(
    *,
    search: str = "",
    team: Team | None = None,
    role: Role | None = None,
    include_inactive: bool = False,
) -> Select[Person]:
    """People matching a directory search, by name then email."""
    stmt = select(Person)
    if search:
        pattern = f"%{search.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Person.name).like(pattern), Person.email.like(pattern)))
    if team is not None:
        stmt = stmt.join(Team, Person.team_id == Team.id).where(in_subtree(team))
    if role is not None:
        stmt = stmt.where(Person.role == role)
    if not include_inactive:
        stmt = stmt.where(Person.active.is_(True))
    return stmt.order_by(func.lower(Person.name), Person.email)


def person_by_email(email: str) -> Person | None:
    return db.session.scalar(select(Person).where(Person.email == email.strip().lower()))


def count_active_people() -> int:
    return db.session.scalar(select(func.count()).where(Person.active.is_(True))) or 0


_NO_TEAMS: frozenset[TeamKey] = frozenset()


def import_snapshot() -> DirectorySnapshot:
    """The directory as plain data for planning an import: people by email, teams by path."""
    teams: dict[TeamKey, ExistingTeam] = {}
    team_rows = db.session.execute(
        select(Team.id, Team.name, Team.parent_id, Team.path).order_by(Team.depth, Team.id)
    ).all()
    keys: dict[int, TeamKey] = {}
    labels: dict[int, str] = {}
    for row in team_rows:  # parents come first: ordered by depth
        parent_key: TeamKey = keys.get(row.parent_id, ()) if row.parent_id is not None else ()
        parent_label = labels.get(row.parent_id, "") if row.parent_id is not None else ""
        key = (*parent_key, team_key(row.name))
        keys[row.id] = key
        labels[row.id] = f"{parent_label}/{row.name}" if parent_label else row.name
        # Names differing only in case are one team to the import; the oldest one wins.
        teams.setdefault(key, ExistingTeam(row.id, row.path, labels[row.id]))

    managed: dict[int, set[TeamKey]] = {}
    for person_id, team_id in db.session.execute(
        select(team_managers.c.person_id, team_managers.c.team_id)
    ).all():
        managed.setdefault(person_id, set()).add(keys[team_id])

    person_rows = db.session.execute(
        select(
            Person.id,
            Person.email,
            Person.name,
            Person.team_id,
            Person.role,
            Person.active,
            Person.line_manager_id,
        )
    ).all()
    emails = {row.id: row.email for row in person_rows}
    people = {
        row.email: ExistingPerson(
            id=row.id,
            email=row.email,
            name=row.name,
            team=keys.get(row.team_id) if row.team_id is not None else None,
            role=row.role,
            active=row.active,
            line_manager_email=(
                emails.get(row.line_manager_id) if row.line_manager_id is not None else None
            ),
            managed=frozenset(managed[row.id]) if row.id in managed else _NO_TEAMS,
        )
        for row in person_rows
    }
    return DirectorySnapshot(people=people, teams=teams)
