"""Reads for the pilot pages: which pilots a person may see, and a pilot's schedule."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pulse.core.pagination import plural
from pulse.extensions import db
from pulse.org.models import Person, Role, Team
from pulse.org.queries import TeamNode, flatten
from pulse.pilots.models import Arm, Phase, Pilot
from pulse.pilots.services import PHASE_LABELS, zone_of
from pulse.surveys import queries as survey_queries
from pulse.surveys.queries import Counts, PulseStatus
from pulse.surveys.services import PulseError


def sees_every_pilot(person: Person) -> bool:
    return person.role in {Role.HR, Role.LEADER}


def is_involved(pilot: Pilot, person: Person) -> bool:
    """Whether a manager manages a team inside, or containing, one of the pilot's arm teams."""
    managed = [t.path for t in person.managed_teams]
    for pilot_team in pilot.teams:
        path = pilot_team.team.path
        if any(path.startswith(m) or m.startswith(path) for m in managed):
            return True
    return False


def may_view(pilot: Pilot, person: Person) -> bool:
    if sees_every_pilot(person):
        return True
    return person.role is Role.MANAGER and person.active and is_involved(pilot, person)


@dataclass(frozen=True)
class PilotLine:
    pilot: Pilot
    pilot_teams: int
    comparison_teams: int
    pulses: int
    status: str


def pilot_status(pilot: Pilot, today: date) -> str:
    if today < pilot.starts_on:
        return "Baselines" if any(p.phase is Phase.BASELINE for p in pilot.pulses) else "Planned"
    if today < pilot.ends_on:
        return "Running"
    return "Ended"


def pilots_for(person: Person, now: datetime) -> list[PilotLine]:
    """The pilots this person may see, newest start first."""
    pilots = db.session.scalars(select(Pilot).order_by(Pilot.starts_on.desc(), Pilot.id.desc()))
    lines = []
    for pilot in pilots:
        if not may_view(pilot, person):
            continue
        today = now.astimezone(_zone(pilot)).date()
        lines.append(
            PilotLine(
                pilot,
                sum(pt.arm is Arm.PILOT for pt in pilot.teams),
                sum(pt.arm is Arm.COMPARISON for pt in pilot.teams),
                len(pilot.pulses),
                pilot_status(pilot, today),
            )
        )
    return lines


@dataclass(frozen=True)
class ScheduleRow:
    pulse_id: int
    title: str
    phase: Phase
    phase_label: str
    opens_at: datetime | None
    closes_at: datetime | None
    status: PulseStatus
    counts: Counts
    opens_local: str
    closes_local: str
    editable: bool  # not opened yet: it may still be moved or skipped


def _zone(pilot: Pilot) -> ZoneInfo:
    try:
        return zone_of(pilot.timezone)
    except PulseError:  # a zone removed from the system's database since the pilot was set up
        return ZoneInfo("UTC")


def schedule(pilot: Pilot, now: datetime) -> list[ScheduleRow]:
    """The pilot's pulses in time order with their state and participation counts."""
    counts = survey_queries.invitation_counts([link.pulse_id for link in pilot.pulses])
    zone = _zone(pilot)
    rows = []
    for link in sorted(pilot.pulses, key=lambda p: p.position):
        pulse = link.pulse
        opened = pulse.is_frozen or (pulse.opens_at is not None and pulse.opens_at <= now)
        rows.append(
            ScheduleRow(
                pulse.id,
                pulse.title,
                link.phase,
                PHASE_LABELS[link.phase],
                pulse.opens_at,
                pulse.closes_at,
                survey_queries.status_of(pulse, now),
                counts.get(pulse.id, Counts()),
                local_time(pulse.opens_at, zone),
                local_time(pulse.closes_at, zone),
                not opened,
            )
        )
    return rows


def local_time(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "\u2014"
    return moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")


def pilot_zone(pilot: Pilot) -> ZoneInfo:
    return _zone(pilot)


def pulses_plan(pilot: Pilot) -> str:
    """The overview's sentence about the pulses, with its counts worded."""
    cadence = "every week" if pilot.cadence_weeks == 1 else f"every {pilot.cadence_weeks} weeks"
    return (
        f"{plural(pilot.baseline_pulses, 'baseline', 'baselines')} planned, then {cadence}, "
        f"and a final pulse at the end; each open {open_days(pilot)}"
    )


def open_days(pilot: Pilot) -> str:
    return plural(pilot.open_days, "day", "days")


# --- choosing the arms' teams ---------------------------------------------------------------------


def teams_by_id(ids: Iterable[int]) -> list[Team]:
    """The teams with these ids (unknown ids are left out; the form checked them already)."""
    wanted = set(ids)
    if not wanted:
        return []
    return list(db.session.scalars(select(Team).where(Team.id.in_(wanted)).order_by(Team.path)))


def opened_teams(nodes: list[TeamNode], chosen: Collection[int]) -> set[int]:
    """Teams whose lists start open in the team choice: the top-level ones, and any with a chosen
    team somewhere below it (so a returned form shows what was ticked)."""
    opened = {node.id for node in nodes}

    def walk(node: TeamNode) -> bool:
        below = [walk(child) for child in node.children]
        if any(below):
            opened.add(node.id)
        return node.id in chosen or any(below)

    for node in nodes:
        walk(node)
    return opened


@dataclass(frozen=True)
class ChoiceLabel:
    people: str  # "8 people"
    inside: str  # "2 teams inside Eng"


def choice_labels(nodes: list[TeamNode]) -> dict[int, ChoiceLabel]:
    """The worded counts beside each team in the team choice, by team id."""
    return {
        node.id: ChoiceLabel(
            plural(node.total_count, "person", "people"),
            f"{plural(len(node.children), 'team', 'teams')} inside {node.name}",
        )
        for node in flatten(nodes)
    }
