"""Reads for HR's survey pages: the library, pulses, participation, deliveries and link exports.

The pure helpers here (`participation_groups`, `pulse_status`, `links_csv`) take plain data and
are tested without a database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from pulse.extensions import db
from pulse.org.models import Person
from pulse.org.queries import full_team_names
from pulse.surveys.library import (
    DIMENSIONS,
    QUESTION_SETS,
    QUESTIONS,
    SCALES,
    Dimension,
    ScaleKind,
)
from pulse.surveys.models import (
    CustomQuestion,
    Delivery,
    Invitation,
    Pulse,
    PulseState,
    QuestionSet,
    ResponseTally,
    UsedLink,
)
from pulse.surveys.set_import import KnownQuestion, Library, builtin_library, fold

# Participation is shown only for groups with at least this many people invited (SCIENCE.md).
MIN_INVITED_SHOWN = 5
COMBINED_LABEL = "Smaller teams (combined)"


# --- The library ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryQuestion:
    key: str
    text: str
    dimension: str
    scale: ScaleKind
    scale_name: str
    reverse: bool
    construct: str
    modelled_on: str
    licence_note: str
    builtin: bool


@dataclass(frozen=True)
class DimensionGroup:
    dimension: Dimension
    questions: list[LibraryQuestion]


@dataclass(frozen=True)
class SetItemView:
    position: int
    key: str
    text: str
    scale_name: str
    required: bool
    missing: bool = False  # the set names a question that is no longer in the library


@dataclass(frozen=True)
class SetView:
    ref: str  # "builtin:<key>" or "custom:<id>", as the pulse form submits it
    name: str
    description: str
    builtin: bool
    items: list[SetItemView]


def _custom_questions() -> list[CustomQuestion]:
    return list(db.session.scalars(select(CustomQuestion).order_by(CustomQuestion.key)))


def library_questions() -> list[LibraryQuestion]:
    """Every question HR can use: built-in ones in library order, then custom ones by key."""
    questions = [
        LibraryQuestion(
            q.key,
            q.text,
            q.dimension,
            q.scale,
            SCALES[q.scale].name,
            q.reverse,
            q.construct,
            q.modelled_on,
            "",
            True,
        )
        for q in QUESTIONS.values()
    ]
    for c in _custom_questions():
        scale = ScaleKind(c.scale)
        questions.append(
            LibraryQuestion(
                c.key,
                c.text,
                c.dimension,
                scale,
                SCALES[scale].name,
                c.reverse,
                c.construct,
                c.modelled_on,
                c.licence_note,
                False,
            )
        )
    return questions


def library_by_dimension(questions: Sequence[LibraryQuestion]) -> list[DimensionGroup]:
    """Questions grouped under each dimension, in the library's dimension order."""
    groups = {code: DimensionGroup(dim, []) for code, dim in DIMENSIONS.items()}
    for question in questions:
        if question.dimension in groups:
            groups[question.dimension].questions.append(question)
    return [group for group in groups.values() if group.questions]


def library_snapshot() -> Library:
    """The library as plain data, for checking new questions and imported sets."""
    known = builtin_library()
    for c in _custom_questions():
        known[c.key] = KnownQuestion(c.key, c.text, c.dimension, c.scale, c.reverse)
    names = frozenset(fold(name) for name in db.session.scalars(select(QuestionSet.name)))
    return Library(known, names)


def question_sets(questions: Sequence[LibraryQuestion]) -> list[SetView]:
    """The built-in sets, then custom sets by name, each with its questions in order."""
    by_key = {q.key: q for q in questions}

    def item(position: int, key: str, required: bool) -> SetItemView:
        q = by_key.get(key)
        if q is None:
            return SetItemView(position, key, key, "", required, missing=True)
        return SetItemView(position, key, q.text, q.scale_name, required)

    views = [
        SetView(
            f"builtin:{s.key}",
            s.name,
            s.description,
            True,
            [item(i, it.key, it.required) for i, it in enumerate(s.items, start=1)],
        )
        for s in QUESTION_SETS.values()
    ]
    custom = db.session.scalars(select(QuestionSet).order_by(func.lower(QuestionSet.name)))
    for s in custom:
        views.append(
            SetView(
                f"custom:{s.id}",
                s.name,
                s.description,
                False,
                [item(i, it.question_key, it.required) for i, it in enumerate(s.items, start=1)],
            )
        )
    return views


def set_choices() -> list[tuple[str, str]]:
    """(value, label) for the pulse form's question set select."""
    choices = [
        (f"builtin:{s.key}", f"{s.name} ({len(s.items)} questions)") for s in QUESTION_SETS.values()
    ]
    rows = db.session.execute(
        select(QuestionSet.id, QuestionSet.name).order_by(func.lower(QuestionSet.name))
    ).all()
    choices.extend((f"custom:{row.id}", f"{row.name} (custom)") for row in rows)
    return choices


# --- Pulses -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PulseStatus:
    """What HR sees as a pulse's state: the stored timestamps plus whether it really opened."""

    code: str
    label: str
    tone: str  # a tag modifier: "", "good", "bad" or "muted"
    can_open: bool = False
    can_schedule: bool = False
    can_extend: bool = False
    can_close: bool = False


def pulse_status(state: PulseState, frozen: bool) -> PulseStatus:
    """Between its opening time and the next `flask pulse tick` a scheduled pulse is "opening";
    a schedule that passed before any tick opened it leaves the pulse "not opened"."""
    if state is PulseState.DRAFT:
        return PulseStatus("draft", "Draft", "muted", can_open=True, can_schedule=True)
    if state is PulseState.SCHEDULED:
        return PulseStatus("scheduled", "Scheduled", "", can_open=True, can_schedule=True)
    if state is PulseState.OPEN:
        if not frozen:
            return PulseStatus("opening", "Opening", "", can_open=True, can_schedule=True)
        return PulseStatus("open", "Open", "good", can_extend=True, can_close=True)
    if not frozen:
        return PulseStatus("lapsed", "Not opened", "bad", can_schedule=True)
    return PulseStatus("closed", "Closed", "muted")


def status_of(pulse: Pulse, now: datetime) -> PulseStatus:
    return pulse_status(pulse.state(now), pulse.is_frozen)


@dataclass(frozen=True)
class Counts:
    invited: int = 0
    answered: int = 0

    @property
    def rate(self) -> int | None:
        """Whole percent answered, or None when too few were invited to show it."""
        if self.invited < MIN_INVITED_SHOWN:
            return None
        return round(100 * self.answered / self.invited)


@dataclass(frozen=True)
class PulseRow:
    id: int
    title: str
    set_name: str
    status: PulseStatus
    opens_at: datetime | None
    closes_at: datetime | None
    counts: Counts


def invitation_counts(pulse_ids: Iterable[int] | None = None) -> dict[int, Counts]:
    """Invited and answered per pulse. Answered counts used links, which are exact at once;
    `Invitation.answered` only catches up when answers are settled (see surveys.models.UsedLink)."""
    stmt = select(Invitation.pulse_id, func.count()).group_by(Invitation.pulse_id)
    used = select(UsedLink.pulse_id, func.count()).group_by(UsedLink.pulse_id)
    if pulse_ids is not None:
        wanted = list(pulse_ids)
        stmt = stmt.where(Invitation.pulse_id.in_(wanted))
        used = used.where(UsedLink.pulse_id.in_(wanted))
    done = {row[0]: int(row[1]) for row in db.session.execute(used).all()}
    return {
        pulse_id: Counts(int(invited), done.get(pulse_id, 0))
        for pulse_id, invited in db.session.execute(stmt).all()
    }


def pulse_rows(now: datetime) -> list[PulseRow]:
    """Every pulse, newest first, with its status and participation."""
    pulses = db.session.scalars(select(Pulse).order_by(Pulse.created_at.desc(), Pulse.id.desc()))
    counts = invitation_counts()
    return [
        PulseRow(
            p.id,
            p.title,
            p.set_name,
            status_of(p, now),
            p.opens_at,
            p.closes_at,
            counts.get(p.id, Counts()),
        )
        for p in pulses
    ]


# --- Participation per team -------------------------------------------------------------------


@dataclass(frozen=True)
class TeamParticipation:
    team_id: int
    name: str
    invited: int
    answered: int


@dataclass(frozen=True)
class ParticipationGroup:
    name: str
    invited: int
    answered: int
    team_ids: tuple[int, ...]
    combined: bool = False

    @property
    def rate(self) -> int:
        return round(100 * self.answered / self.invited) if self.invited else 0


def participation_groups(
    teams: Sequence[TeamParticipation], min_invited: int = MIN_INVITED_SHOWN
) -> list[ParticipationGroup]:
    """Teams with at least `min_invited` people invited, plus one group for all the others.

    The other teams are merged into "Smaller teams (combined)". If that group would itself have
    1 to min_invited - 1 people, the smallest listed team joins it (again, until it is large
    enough), so no small team's figures can be recovered by subtracting the listed teams from
    the total. If even everyone together is too few, nothing is listed.
    """
    live = [t for t in teams if t.invited > 0]
    listed = sorted(
        (t for t in live if t.invited >= min_invited),
        key=lambda t: (t.invited, t.answered, t.name, t.team_id),
    )
    merged = [t for t in live if t.invited < min_invited]
    while 0 < sum(t.invited for t in merged) < min_invited and listed:
        merged.append(listed.pop(0))  # the smallest listed team joins the combined group
    groups = [
        ParticipationGroup(t.name, t.invited, t.answered, (t.team_id,))
        for t in sorted(listed, key=lambda t: (t.name.lower(), t.team_id))
    ]
    invited = sum(t.invited for t in merged)
    if invited >= min_invited:
        groups.append(
            ParticipationGroup(
                COMBINED_LABEL,
                invited,
                sum(t.answered for t in merged),
                tuple(sorted(t.team_id for t in merged)),
                combined=True,
            )
        )
    return groups


def team_participation(pulse_id: int) -> list[TeamParticipation]:
    """Invited and answered per team (the team each person was in when invited).

    Answered comes from the response tallies, whose team is copied from the invitation, so it is
    exact at once without reading which invitation was used."""
    rows = db.session.execute(
        select(Invitation.team_id, func.count())
        .where(Invitation.pulse_id == pulse_id)
        .group_by(Invitation.team_id)
    ).all()
    done = {
        row[0]: int(row[1])
        for row in db.session.execute(
            select(ResponseTally.team_id, ResponseTally.count).where(
                ResponseTally.pulse_id == pulse_id
            )
        ).all()
    }
    names = full_team_names()
    return [
        TeamParticipation(
            team_id, names.get(team_id, f"Team {team_id}"), invited, done.get(team_id, 0)
        )
        for team_id, invited in rows
    ]


# --- Deliveries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliverySummary:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    reminder_rounds: int = 0  # how many times reminders went out
    reminder_emails: int = 0

    @property
    def unsent(self) -> int:
        return self.failed + self.pending


@dataclass(frozen=True)
class FailedDelivery:
    name: str
    email: str
    team: str
    error: str


def delivery_summary(pulse_id: int) -> DeliverySummary:
    rows = db.session.execute(
        select(
            Invitation.delivery,
            func.count(),
            func.max(Invitation.reminders_sent),
            func.sum(Invitation.reminders_sent),
        )
        .where(Invitation.pulse_id == pulse_id)
        .group_by(Invitation.delivery)
    ).all()
    counts = {Delivery(d): int(n) for d, n, _, _ in rows}
    return DeliverySummary(
        sent=counts.get(Delivery.SENT, 0),
        failed=counts.get(Delivery.FAILED, 0),
        pending=counts.get(Delivery.PENDING, 0),
        reminder_rounds=max((int(r or 0) for _, _, r, _ in rows), default=0),
        reminder_emails=sum(int(s or 0) for _, _, _, s in rows),
    )


def failed_deliveries(pulse_id: int, limit: int = 50) -> list[FailedDelivery]:
    """Who could not be emailed (never whether anyone answered)."""
    names = full_team_names()
    rows = db.session.execute(
        select(Person.name, Person.email, Invitation.team_id, Invitation.delivery_error)
        .join(Person, Invitation.person_id == Person.id)
        .where(Invitation.pulse_id == pulse_id, Invitation.delivery == Delivery.FAILED)
        .order_by(Person.name, Person.email)
        .limit(limit)
    ).all()
    return [
        FailedDelivery(name, email, names.get(team_id, ""), error or "")
        for name, email, team_id, error in rows
    ]


def audience_names(pulse: Pulse) -> list[str]:
    names = full_team_names()
    return sorted(names.get(t.id, t.name) for t in pulse.teams)


# --- Printed and kiosk links ------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    email: str
    name: str
    team: str
    link: str


LINK_COLUMNS = ("email", "name", "team", "link")


def invitation_links(pulse: Pulse, link_for: Callable[[Invitation], str]) -> list[LinkRow]:
    """Every invitation of the pulse with its personal link, by team then name.

    Answered invitations are included on purpose: leaving them out would tell whoever holds the
    file who has answered. A used link only shows "already answered".
    """
    names = full_team_names()
    invitations = db.session.scalars(
        select(Invitation)
        .join(Invitation.person)
        .options(contains_eager(Invitation.person))
        .where(Invitation.pulse_id == pulse.id)
        .order_by(Invitation.team_id, func.lower(Person.name), Person.email)
    )
    return [
        LinkRow(inv.person.email, inv.person.name, names.get(inv.team_id, ""), link_for(inv))
        for inv in invitations
    ]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def spreadsheet_safe(value: str) -> str:
    """Text that a spreadsheet will show as text, never run as a formula (SECURITY.md)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def links_csv(rows: Iterable[LinkRow]) -> str:
    """The CSV text: a header, then one escaped row per invitation."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LINK_COLUMNS)
    for row in rows:
        writer.writerow([spreadsheet_safe(v) for v in (row.email, row.name, row.team, row.link)])
    return out.getvalue()


@dataclass
class PulseDetail:
    """Everything the pulse page shows, prepared for the template."""

    status: PulseStatus
    audience: list[str]
    counts: Counts
    groups: list[ParticipationGroup]
    delivery: DeliverySummary
    failed: list[FailedDelivery] = field(default_factory=list)


def pulse_detail(pulse: Pulse, now: datetime) -> PulseDetail:
    status = status_of(pulse, now)
    counts = invitation_counts([pulse.id]).get(pulse.id, Counts())
    delivery = delivery_summary(pulse.id)
    return PulseDetail(
        status=status,
        audience=audience_names(pulse),
        counts=counts,
        groups=participation_groups(team_participation(pulse.id)) if pulse.is_frozen else [],
        delivery=delivery,
        failed=failed_deliveries(pulse.id) if delivery.failed else [],
    )


SETTLE_AFTER_CLOSE = timedelta(days=7)


def pulses_to_settle(now: datetime) -> list[Pulse]:
    """Opened pulses that are open, or closed within the last week (late settling)."""
    return list(
        db.session.scalars(
            select(Pulse).where(
                Pulse.frozen_at.is_not(None),
                Pulse.closes_at > now - SETTLE_AFTER_CLOSE,
            )
        )
    )
