"""Writes for teams and people. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update

from pulse.audit import services as audit
from pulse.extensions import db
from pulse.org import importer, queries
from pulse.org.importer import ImportCounts, ImportPlan, LineError, Progress, TeamKey
from pulse.org.models import Person, Role, Team, team_managers


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


# --- Directory import ---------------------------------------------------------------------------
# The import writes with bulk statements (executemany, RETURNING for new ids) and keeps team and
# person ids in dictionaries, so 100,000 rows cost a few dozen statements, not one ORM object and
# a few queries per row.

_ROW_CHUNK = 5000  # people per INSERT batch, and how often the progress bar moves
_ID_CHUNK = 500  # ids per "IN (...)" list, well inside every database's parameter limit

_T = TypeVar("_T")
# Core tables: executemany without building ORM state for every row.
_PERSON = cast(Table, Person.__table__)


class ImportInvalid(OrgError):
    """The file has problems; nothing was written. `errors` name the lines."""

    def __init__(self, errors: Sequence[LineError]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        super().__init__(
            f"The file has {count} problem{'s' if count != 1 else ''}; nothing was imported."
        )


def preview_import(
    data: bytes,
    *,
    deactivate_missing: bool,
    actor: Person | None,
    max_rows: int,
    max_bytes: int | None = None,
    progress: Progress | None = None,
) -> ImportPlan:
    """Check a people CSV against the directory as it is now. Reads only."""
    checked = importer.read_people_csv(
        data, max_rows=max_rows, max_bytes=max_bytes, progress=progress
    )
    snapshot = queries.import_snapshot() if checked.rows else importer.DirectorySnapshot()
    return importer.plan_import(
        checked,
        snapshot,
        deactivate_missing=deactivate_missing,
        protect_ids={actor.id} if actor is not None else set(),
    )


def import_directory(
    data: bytes,
    *,
    deactivate_missing: bool,
    actor: Person | None,
    now: datetime,
    max_rows: int,
    max_bytes: int | None = None,
) -> ImportPlan:
    """Check the file against the current directory and, only if all of it is valid, apply it.

    The returned plan says what was done; when it has errors nothing was written.
    """
    plan = preview_import(
        data,
        deactivate_missing=deactivate_missing,
        actor=actor,
        max_rows=max_rows,
        max_bytes=max_bytes,
    )
    if not plan.errors:
        apply_import(plan, now=now, actor=actor)
    return plan


def apply_import(
    plan: ImportPlan,
    *,
    now: datetime,
    actor: Person | None,
    progress: Progress | None = None,
) -> ImportCounts:
    """Write a plan made by `preview_import` in this same transaction.

    All or nothing: a plan with errors raises ImportInvalid before any write. A plan without
    changes writes nothing at all, not even an audit event, so re-importing a file is silent.
    """
    if plan.errors:
        raise ImportInvalid(plan.errors)
    counts = plan.counts
    if counts.total == 0:
        return counts

    team_ids = _create_import_teams(plan, now)
    person_ids = {email: person.id for email, person in plan.snapshot.people.items()}
    person_ids.update(_insert_import_people(plan, team_ids, now, progress))
    _update_import_people(plan, team_ids, person_ids, progress)
    _sync_managed_teams(plan, team_ids, person_ids)
    _deactivate_import_missing(plan, now, progress)
    audit.record(
        "directory.import",
        actor=actor,
        now=now,
        target="directory",
        detail={
            **counts.as_dict(),
            "rows": plan.row_count,
            "deactivate_missing": plan.deactivate_missing,
        },
    )
    db.session.flush()
    # Bulk statements bypass the objects already loaded in this session; reload them on use.
    db.session.expire_all()
    return counts


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _create_import_teams(plan: ImportPlan, now: datetime) -> dict[TeamKey, int]:
    """Create the missing teams level by level (a team's path needs its parent's id)."""
    ids = {key: team.id for key, team in plan.snapshot.teams.items()}
    paths = {key: team.path for key, team in plan.snapshot.teams.items()}
    by_depth: dict[int, list[TeamKey]] = {}
    for key in plan.teams_to_create:
        by_depth.setdefault(len(key), []).append(key)
    for depth in sorted(by_depth):
        keys = by_depth[depth]
        params = [
            {
                "name": plan.label(key).rsplit("/", 1)[-1],
                "parent_id": ids[key[:-1]] if len(key) > 1 else None,
                "path": "",
                "depth": depth - 1,
                "created_at": now,
            }
            for key in keys
        ]
        new_ids = db.session.scalars(
            insert(Team).returning(Team.id, sort_by_parameter_order=True), params
        ).all()
        path_updates: list[dict[str, Any]] = []
        for key, team_id in zip(keys, new_ids, strict=True):
            ids[key] = team_id
            paths[key] = f"{paths[key[:-1]] if len(key) > 1 else '/'}{team_id}/"
            path_updates.append({"id": team_id, "path": paths[key]})
        db.session.execute(update(Team), path_updates)
    return ids


def _insert_import_people(
    plan: ImportPlan, team_ids: dict[TeamKey, int], now: datetime, progress: Progress | None
) -> dict[str, int]:
    """Insert new people with Core executemany, then read their ids back by email.

    Plain executemany is several times faster than asking for RETURNING row by row, and the
    email lookup uses the unique index.
    """
    for chunk in _chunks(plan.new, _ROW_CHUNK):
        db.session.execute(
            insert(_PERSON),
            [
                {
                    "email": new.row.email,
                    "name": new.row.name,
                    "team_id": team_ids[new.row.team],
                    "role": new.role,
                    "active": True,
                    "session_version": 1,
                    "created_at": now,
                }
                for new in chunk
            ],
        )
        if progress is not None:
            progress(len(chunk))
    ids: dict[str, int] = {}
    emails = [new.row.email for new in plan.new]
    for chunk_emails in _chunks(emails, _ID_CHUNK):
        found = db.session.execute(
            select(_PERSON.c.email, _PERSON.c.id).where(_PERSON.c.email.in_(chunk_emails))
        ).all()
        for email, person_id in found:
            ids[email] = person_id
    return ids


def _update_import_people(
    plan: ImportPlan,
    team_ids: dict[TeamKey, int],
    person_ids: dict[str, int],
    progress: Progress | None,
) -> None:
    """Changed and reactivated people, and the line managers of new people (known only now)."""
    rows: list[dict[str, Any]] = []
    role_changed: list[int] = []
    for change in chain(plan.changed, plan.reactivated):
        row = change.row
        values: dict[str, Any] = {"id": change.person_id}
        if "name" in change.fields:
            values["name"] = row.name
        if "team" in change.fields:
            values["team_id"] = team_ids[row.team]
        if "role" in change.fields:
            values["role"] = change.role
            role_changed.append(change.person_id)
        if "line_manager" in change.fields:
            manager = row.manager_email
            values["line_manager_id"] = person_ids[manager] if manager is not None else None
        if change.reactivate:
            values["active"] = True
            values["deactivated_at"] = None
        if len(values) > 1:
            rows.append(values)
    for new in plan.new:
        if new.row.manager_email is not None:
            rows.append(
                {
                    "id": person_ids[new.row.email],
                    "line_manager_id": person_ids[new.row.manager_email],
                }
            )
    _bulk_update_people(rows)
    # A new role must take effect at once: old login cookies stop working (as in set_role).
    for ids in _chunks(role_changed, _ID_CHUNK):
        db.session.execute(
            update(_PERSON)
            .where(_PERSON.c.id.in_(ids))
            .values(session_version=_PERSON.c.session_version + 1)
        )
    if progress is not None:
        progress(len(plan.changed) + len(plan.reactivated))


def _bulk_update_people(rows: list[dict[str, Any]]) -> None:
    """UPDATE person by id, one executemany per distinct set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in rows:
        columns = tuple(sorted(key for key in values if key != "id"))
        # Bound names must differ from column names in an UPDATE ... SET.
        groups.setdefault(columns, []).append({f"new_{k}": v for k, v in values.items()})
    for columns, params in groups.items():
        stmt = (
            update(_PERSON)
            .where(_PERSON.c.id == bindparam("new_id"))
            .values({column: bindparam(f"new_{column}") for column in columns})
        )
        for chunk in _chunks(params, _ROW_CHUNK):
            db.session.execute(stmt, list(chunk))


def _sync_managed_teams(
    plan: ImportPlan, team_ids: dict[TeamKey, int], person_ids: dict[str, int]
) -> None:
    """Make each listed person manage exactly the teams in their `manages` cell."""
    added: list[dict[str, int]] = []
    removed: list[dict[str, int]] = []
    for change in chain(plan.changed, plan.reactivated):
        if "manages" not in change.fields:
            continue
        old = plan.snapshot.people[change.row.email].managed
        new = frozenset(change.row.manages)
        removed.extend({"t": team_ids[k], "p": change.person_id} for k in old - new)
        added.extend({"team_id": team_ids[k], "person_id": change.person_id} for k in new - old)
    for person in plan.new:
        person_id = person_ids[person.row.email]
        added.extend({"team_id": team_ids[k], "person_id": person_id} for k in person.row.manages)
    if removed:
        db.session.execute(
            delete(team_managers).where(
                team_managers.c.team_id == bindparam("t"),
                team_managers.c.person_id == bindparam("p"),
            ),
            removed,
        )
    if added:
        db.session.execute(insert(team_managers), added)


def _deactivate_import_missing(plan: ImportPlan, now: datetime, progress: Progress | None) -> None:
    ids = [departure.person_id for departure in plan.deactivated]
    for chunk in _chunks(ids, _ID_CHUNK):
        db.session.execute(
            update(_PERSON)
            .where(_PERSON.c.id.in_(chunk), _PERSON.c.active.is_(True))
            .values(active=False, deactivated_at=now, session_version=_PERSON.c.session_version + 1)
        )
    if progress is not None:
        progress(len(ids))
