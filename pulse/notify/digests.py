"""Notification emails the scheduler sends: results digests, action reminders, weekly digests.

Each email is claimed before it is sent, so two copies of `flask pulse tick` running at once
never send it twice: a SentMail row (INSERT ... ON CONFLICT DO NOTHING) for digests, a
conditional UPDATE of the action's `*_reminded_for` date for action reminders. The claim is
committed before the email goes out; a failed send takes the claim back so a later tick retries.

Every number about respondents in a digest comes through the anonymity gate (results/report.py)
for the recipient's own family of groups: a hidden figure appears as its reason, never a number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from pulse import i18n
from pulse.actions.models import Action, ActionStatus
from pulse.extensions import db
from pulse.notify import mail
from pulse.notify.models import SentMail
from pulse.org.models import Person, Role, Team, team_managers
from pulse.org.queries import in_any_subtree
from pulse.results import gate, report
from pulse.results.queries import PulseTallies, load_pulse_tallies, team_tree_and_names
from pulse.results.routes import viewer_roots
from pulse.surveys.library import DIMENSIONS
from pulse.surveys.models import Invitation, Pulse

DIGEST_WINDOW = timedelta(days=7)  # a pulse that closed longer ago gets no digest any more
DUE_SOON_DAYS = 3
WEEKLY_DAY = 0  # Monday
WEEKLY_HOUR = 7  # local time, in the organisation's TIMEZONE
STAFF_ROLES = (Role.MANAGER, Role.LEADER, Role.HR)
OPEN_STATUSES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


# --- Reminder opt-out ----------------------------------------------------------------------------


def stop_reminders(person: Person, *, now: datetime) -> bool:
    """Turn off reminder emails for this person (from the link in their email); True if changed.

    Not audited: the audit log records what staff did, and a dated entry for an employee's own
    choice, made from a reminder, would hint that they had not answered when it was sent.
    """
    if person.no_reminders:
        return False
    person.no_reminders = True
    db.session.flush()
    return True


# --- Claims ---------------------------------------------------------------------------------------


def claim_key(key: str, now: datetime) -> bool:
    """Insert the SentMail key; True when this caller inserted it (and so may send)."""
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SentMail)
    inserted = db.session.scalar(
        insert.values(key=key, claimed_at=now).on_conflict_do_nothing().returning(SentMail.key)
    )
    return inserted is not None


def release_key(key: str) -> None:
    db.session.execute(delete(SentMail).where(SentMail.key == key))


def claimed_keys(prefix: str) -> set[str]:
    return set(db.session.scalars(select(SentMail.key).where(SentMail.key.startswith(prefix))))


def send_claimed(key: str, message: mail.Message, now: datetime) -> bool:
    """Claim `key`, commit, send; on failure give the claim back. True when this call sent it."""
    if not claim_key(key, now):
        db.session.rollback()
        return False
    db.session.commit()
    if mail.deliver(message, current_app.config):
        return True
    release_key(key)
    db.session.commit()
    return False


def _render(kind: str, subject: str, to: str, context: dict[str, object]) -> mail.Message:
    env = current_app.jinja_env
    context = {"lang": i18n.current_language(), **context}
    return mail.Message(
        to=to,
        subject=subject,
        text=env.get_template(f"email/{kind}.txt").render(context),
        html=env.get_template(f"email/{kind}.html").render(context),
    )


def _language(person: Person) -> str:
    return i18n.supported_language(person.language) or i18n.DEFAULT_LANGUAGE


def _optional_url(endpoint: str, **values: object) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    return mail.external_url(endpoint, **values)


# --- Results digest -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    name: str
    value: str | None  # the gated figure, formatted; None when hidden
    reason: str | None  # why it is hidden


@dataclass(frozen=True)
class TeamDigest:
    team_id: int
    name: str
    respondents: int | None  # None when the gate hides the count
    rate: int | None  # percent, when shown
    reason: str | None
    scores: list[ScoreLine]
    link: str | None


def digest_pulses(now: datetime) -> list[Pulse]:
    """Opened pulses that closed within the last week: their managers get a digest."""
    return list(
        db.session.scalars(
            select(Pulse)
            .where(
                Pulse.frozen_at.is_not(None),
                Pulse.closes_at <= now,
                Pulse.closes_at > now - DIGEST_WINDOW,
            )
            .order_by(Pulse.id)
        )
    )


def digest_recipients(tree: dict[int, int | None], invited_teams: set[int]) -> list[Person]:
    """Active staff who manage a team whose subtree was invited.

    Leaders and HR who manage no team get no digest: they see the whole organisation's results
    on the dashboard, and a digest of everything would be long and mostly not theirs to act on.
    """
    touched: set[int] = set()  # the invited teams and every team above them
    for team in invited_teams:
        current: int | None = team
        while current is not None and current not in touched:
            touched.add(current)
            current = tree.get(current)
    managers = select(team_managers.c.person_id).where(team_managers.c.team_id.in_(touched))
    return list(
        db.session.scalars(
            select(Person)
            .options(selectinload(Person.managed_teams))
            .where(
                Person.id.in_(managers),
                Person.active.is_(True),
                Person.role.in_(STAFF_ROLES),
            )
            .order_by(Person.id)
        )
    )


def invited_teams(pulse: Pulse) -> set[int]:
    return set(
        db.session.scalars(
            select(Invitation.team_id).where(Invitation.pulse_id == pulse.id).distinct()
        )
    )


def team_digests(
    person: Person,
    tree: dict[int, int | None],
    names: dict[int, str],
    tallies: PulseTallies,
    link: Callable[[int], str | None],
) -> list[TeamDigest]:
    """This person's managed teams in the pulse's audience, with the figures their gate allows."""
    viewer = viewer_roots(person, tree)
    groups = report.family(tree, viewer)
    gated = report.run_gate(tree, tallies, groups)
    by_key = {g.key: g for g in groups}
    invited = {t for t, n in tallies.invited.items() if n}
    asked = {q.dimension for q in tallies.questions}
    codes = [c for c in report.REPORTED if c in asked and c in tallies.dimensions]
    digests = []
    for team in sorted(person.managed_teams, key=lambda t: t.name.lower()):
        group = by_key.get(gate.team_key(team.id))
        if group is None or not (group.teams & invited):
            continue
        taking_part = report.participation(tallies, gated, group)
        rate = taking_part.rate
        percent = (
            round(rate.rate * 100)
            if rate is not None and rate.shown and rate.rate is not None
            else None
        )
        digests.append(
            TeamDigest(
                team.id,
                names.get(team.id, team.name),
                taking_part.respondents if taking_part.visible else None,
                percent if taking_part.visible else None,
                None if taking_part.visible else gettext(taking_part.reason or "Hidden"),
                [_score_line(code, report.score(tallies, gated, code, group)) for code in codes],
                link(team.id),
            )
        )
    return digests


def _score_line(code: str, score: report.Score) -> ScoreLine:
    name = gettext(DIMENSIONS[code].name)
    if not DIMENSIONS[code].higher_is_better:
        name = gettext("%(name)s (lower is better)", name=name)
    if not score.visible:
        return ScoreLine(name, None, gettext(score.reason or "Hidden"))
    if code == "enps" and score.enps is not None and score.enps.score is not None:
        return ScoreLine(name, f"{score.enps.score:+.0f}", None)
    if score.mean is None:
        return ScoreLine(name, None, gettext("Too few answers"))
    return ScoreLine(name, f"{score.mean:.0f} / 100", None)


def send_results_digests(*, now: datetime) -> int:
    """Email each manager a digest of every pulse that closed in the last week; returns how many
    this call sent."""
    sent = 0
    pulses = digest_pulses(now)
    if not pulses:
        return 0
    tree, names = team_tree_and_names()
    for pulse in pulses:
        prefix = f"digest:pulse:{pulse.id}:person:"
        done = claimed_keys(prefix)
        waiting = [
            p
            for p in digest_recipients(tree, invited_teams(pulse))
            if f"{prefix}{p.id}" not in done
        ]
        if not waiting:
            continue  # every digest of this pulse has gone: no need to read its tallies
        tallies = load_pulse_tallies(pulse, now, with_values=False)
        for person in waiting:
            message = _digest_message(pulse, person, tree, names, tallies)
            if message is not None and send_claimed(f"{prefix}{person.id}", message, now):
                sent += 1
    return sent


def _digest_message(
    pulse: Pulse,
    person: Person,
    tree: dict[int, int | None],
    names: dict[int, str],
    tallies: PulseTallies,
) -> mail.Message | None:
    with force_locale(_language(person)):
        try:
            teams = team_digests(
                person,
                tree,
                names,
                tallies,
                lambda team_id: _optional_url("results.dashboard", team_id=team_id, pulse=pulse.id),
            )
            if not teams:
                return None
            return _render(
                "digest",
                gettext("Results: %(title)s", title=pulse.title),
                person.email,
                {
                    "name": person.name,
                    "title": pulse.title,
                    "closed": i18n.format_local_datetime(pulse.closes_at)
                    if pulse.closes_at
                    else None,
                    "min_group": pulse.min_group,
                    "teams": teams,
                },
            )
        except mail.MailError:
            return None  # no BASE_URL: try again on a later tick


# --- Action reminders -----------------------------------------------------------------------------


def local_now(now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(str(current_app.config.get("TIMEZONE") or "UTC")))


@dataclass(frozen=True)
class ActionLine:
    title: str
    team: str
    status: str
    due_on: str | None
    overdue: bool
    link: str | None


def _action_line(action: Action, today: date) -> ActionLine:
    team = action.team.name if action.team is not None else gettext("Whole organisation")
    return ActionLine(
        action.title,
        team,
        gettext(action.status.label),
        format_date(action.due_on, "medium", locale=i18n.current_language())
        if action.due_on
        else None,
        action.due_on is not None and action.due_on < today,
        _optional_url("actions.show", action_id=action.id),
    )


def send_action_reminders(*, now: datetime) -> int:
    """Owners of open actions: one email when it is due within three days, one when overdue.

    Claimed by setting `due_soon_reminded_for` / `overdue_reminded_for` to the due date, so a
    moved due date arms the reminder again. An overdue action gets no "due soon" email.
    """
    today = local_now(now).date()
    sent = 0
    candidates = db.session.scalars(
        select(Action)
        .join(Person, Action.owner_id == Person.id)
        .where(
            Action.status.in_(OPEN_STATUSES),
            Action.due_on.is_not(None),
            Action.due_on <= today + timedelta(days=DUE_SOON_DAYS),
            Person.active.is_(True),
            or_(
                Action.due_soon_reminded_for.is_(None),
                Action.due_soon_reminded_for != Action.due_on,
                Action.overdue_reminded_for.is_(None),
                Action.overdue_reminded_for != Action.due_on,
            ),
        )
        .order_by(Action.id)
    ).all()
    plan: list[tuple[int, date, bool]] = []
    for action in candidates:
        if action.due_on is None:  # filtered out above; this tells the type checker
            continue
        overdue = action.due_on < today
        already = action.overdue_reminded_for if overdue else action.due_soon_reminded_for
        if already != action.due_on:
            plan.append((action.id, action.due_on, overdue))
    for action_id, due_on, overdue in plan:
        if _remind_owner(action_id, due_on, overdue, today):
            sent += 1
    return sent


def _remind_owner(action_id: int, due_on: date, overdue: bool, today: date) -> bool:
    column = Action.overdue_reminded_for if overdue else Action.due_soon_reminded_for
    action = db.session.get(Action, action_id)
    if action is None or action.owner is None:
        return False
    message = _action_message(action, overdue, today)
    claimed = db.session.scalar(
        update(Action)
        .where(
            Action.id == action_id,
            Action.due_on == due_on,
            Action.status.in_(OPEN_STATUSES),
            or_(column.is_(None), column != due_on),
        )
        .values({column: due_on})
        .returning(Action.id)
        .execution_options(synchronize_session=False)
    )
    if claimed is None or message is None:
        db.session.rollback()
        return False
    db.session.commit()
    if mail.deliver(message, current_app.config):
        return True
    db.session.execute(
        update(Action)
        .where(Action.id == action_id, column == due_on)
        .values({column: None})
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return False


def _action_message(action: Action, overdue: bool, today: date) -> mail.Message | None:
    owner = action.owner
    if owner is None:
        return None
    with force_locale(_language(owner)):
        try:
            line = _action_line(action, today)
            subject = (
                gettext("Overdue action: %(title)s", title=action.title)
                if overdue
                else gettext("Action due soon: %(title)s", title=action.title)
            )
            return _render(
                "action_overdue" if overdue else "action_due",
                subject,
                owner.email,
                {"name": owner.name, "action": line},
            )
        except mail.MailError:
            return None


# --- Weekly manager digest ------------------------------------------------------------------------


def weekly_key(now: datetime) -> str | None:
    """ "2026-W48" when the weekly digest is due (Monday from 07:00 local time), else None."""
    local = local_now(now)
    if local.weekday() != WEEKLY_DAY or local.hour < WEEKLY_HOUR:
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def open_actions_for(person: Person) -> list[Action]:
    """Open actions this person owns or that are for a team in a subtree they manage."""
    conditions = [Action.owner_id == person.id]
    if person.managed_teams:
        conditions.append(
            Action.team_id.in_(select(Team.id).where(in_any_subtree(person.managed_teams)))
        )
    return list(
        db.session.scalars(select(Action).where(Action.status.in_(OPEN_STATUSES), or_(*conditions)))
    )


def overdue_first(actions: Sequence[Action], today: date) -> list[Action]:
    """Overdue first, then by due date (undated last), then oldest first."""
    return sorted(
        actions,
        key=lambda a: (
            not (a.due_on is not None and a.due_on < today),
            a.due_on is None,
            a.due_on or date.max,
            a.id,
        ),
    )


def send_weekly_digests(*, now: datetime) -> int:
    """On Monday mornings, each manager's open actions; nobody with nothing to list is emailed."""
    week = weekly_key(now)
    if week is None:
        return 0
    today = local_now(now).date()
    prefix = f"weekly:{week}:person:"
    done = claimed_keys(prefix)
    owners = set(
        db.session.scalars(select(Action.owner_id).where(Action.status.in_(OPEN_STATUSES)))
    )
    people = db.session.scalars(
        select(Person)
        .where(Person.active.is_(True), Person.role.in_(STAFF_ROLES))
        .order_by(Person.id)
    ).all()
    sent = 0
    for person in people:
        key = f"{prefix}{person.id}"
        if key in done:
            continue
        if not person.managed_teams and person.id not in owners:
            continue
        actions = overdue_first(open_actions_for(person), today)
        if not actions:
            continue
        message = _weekly_message(person, actions, today)
        if message is not None and send_claimed(key, message, now):
            sent += 1
    return sent


def _weekly_message(person: Person, actions: list[Action], today: date) -> mail.Message | None:
    with force_locale(_language(person)):
        try:
            lines = [_action_line(a, today) for a in actions]
            return _render(
                "weekly",
                gettext("Your open actions this week"),
                person.email,
                {
                    "name": person.name,
                    "actions": lines,
                    "overdue": sum(line.overdue for line in lines),
                    "list_link": _optional_url("actions.index"),
                },
            )
        except mail.MailError:
            return None
