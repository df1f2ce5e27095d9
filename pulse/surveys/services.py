"""Writes for pulses, invitations and responses. Services flush, never commit."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pulse.audit import services as audit
from pulse.extensions import db
from pulse.org.models import Person, Team
from pulse.org.queries import in_any_subtree
from pulse.surveys import tallies, tokens
from pulse.surveys.answers import ParsedAnswers
from pulse.surveys.library import QUESTION_SETS, QUESTIONS, ScaleKind
from pulse.surveys.models import (
    Answer,
    Comment,
    CustomQuestion,
    DimensionTally,
    Invitation,
    Pulse,
    PulseQuestion,
    PulseState,
    QuestionSet,
    ReleasedDimensionTally,
    ReleasedResponseTally,
    ReleasedValueTally,
    ReleaseMode,
    Response,
    ResponseTally,
    UsedLink,
    ValueTally,
)
from pulse.surveys.scoring import ScoredItem, dimension_scores, is_at_risk

MIN_K = 3
DEFAULT_K = 5
DEFAULT_K_COMMENTS = 10


class PulseError(Exception):
    """A pulse rule was broken; the message is shown to the user as it is."""


class InvalidThresholds(PulseError):
    pass


class InvalidSchedule(PulseError):
    pass


class EmptyAudience(PulseError):
    pass


class UnknownQuestionSet(PulseError):
    pass


class PulseFrozen(PulseError):
    """The pulse has opened: its questions, audience and thresholds can no longer change."""


class PulseNotOpen(PulseError):
    pass


class PulseClosed(PulseError):
    pass


class TokenUnknown(PulseError):
    pass


class TokenAlreadyUsed(PulseError):
    pass


@dataclass(frozen=True)
class ResolvedQuestion:
    key: str
    builtin: bool
    dimension: str
    scale: ScaleKind
    text: str
    reverse: bool
    required: bool


def resolve_question_set(set_ref: str) -> tuple[str, list[ResolvedQuestion]]:
    """A set's name and questions from "builtin:<key>" or "custom:<id>"."""
    kind, _, ident = set_ref.partition(":")
    if kind == "builtin" and ident in QUESTION_SETS:
        qset = QUESTION_SETS[ident]
        items = [(item.key, item.required) for item in qset.items]
        name = qset.name
    elif kind == "custom" and ident.isdigit():
        custom = db.session.get(QuestionSet, int(ident))
        if custom is None:
            raise UnknownQuestionSet("That question set does not exist.")
        items = [(item.question_key, item.required) for item in custom.items]
        name = custom.name
    else:
        raise UnknownQuestionSet("That question set does not exist.")
    return name, [resolve_question(key, required) for key, required in items]


def resolve_question(key: str, required: bool = False) -> ResolvedQuestion:
    if key in QUESTIONS:
        q = QUESTIONS[key]
        return ResolvedQuestion(key, True, q.dimension, q.scale, q.text, q.reverse, required)
    custom = db.session.scalar(select(CustomQuestion).where(CustomQuestion.key == key))
    if custom is None:
        raise UnknownQuestionSet(f"The question {key!r} is not in the library.")
    return ResolvedQuestion(
        key,
        False,
        custom.dimension,
        ScaleKind(custom.scale),
        custom.text,
        custom.reverse,
        required,
    )


def check_thresholds(min_group: int, min_comment_group: int) -> None:
    if min_group < MIN_K:
        raise InvalidThresholds(f"The minimum group size cannot be below {MIN_K}.")
    if min_comment_group < min_group:
        raise InvalidThresholds(
            "The minimum group for comments cannot be smaller than the minimum group for numbers."
        )


def check_schedule(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> None:
    if (opens_at is None) != (closes_at is None):
        raise InvalidSchedule("Give both an opening and a closing time, or neither.")
    if opens_at is not None and closes_at is not None:
        if closes_at <= opens_at:
            raise InvalidSchedule("The closing time must be after the opening time.")
        if closes_at <= now:
            raise InvalidSchedule("The closing time must be in the future.")


def create_pulse(
    *,
    title: str,
    set_ref: str,
    teams: Sequence[Team],
    now: datetime,
    actor: Person | None,
    min_group: int = DEFAULT_K,
    min_comment_group: int = DEFAULT_K_COMMENTS,
    release: ReleaseMode = ReleaseMode.AFTER_CLOSE,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Pulse:
    """A draft (no times) or scheduled pulse with a copy of the set's questions."""
    title = " ".join(title.split())
    if not title:
        raise PulseError("Give the pulse a title.")
    if not teams:
        raise EmptyAudience("Choose at least one team to invite.")
    check_thresholds(min_group, min_comment_group)
    check_schedule(opens_at, closes_at, now)
    set_name, questions = resolve_question_set(set_ref)
    if not questions:
        raise UnknownQuestionSet("That question set has no questions.")
    pulse = Pulse(
        title=title[:200],
        set_name=set_name,
        created_at=now,
        opens_at=opens_at,
        closes_at=closes_at,
        min_group=min_group,
        min_comment_group=min_comment_group,
        release=release,
        teams=list(teams),
        questions=[
            PulseQuestion(
                position=i,
                question_key=q.key,
                builtin=q.builtin,
                dimension=q.dimension,
                scale=q.scale.value,
                text=q.text,
                reverse=q.reverse,
                required=q.required,
            )
            for i, q in enumerate(questions, start=1)
        ],
    )
    db.session.add(pulse)
    db.session.flush()
    audit.record(
        "pulse.create",
        actor=actor,
        now=now,
        target=f"pulse:{pulse.id}",
        detail={"title": pulse.title, "set": set_name, "teams": [t.id for t in teams]},
    )
    return pulse


def schedule_pulse(
    pulse: Pulse, *, opens_at: datetime, closes_at: datetime, now: datetime, actor: Person | None
) -> None:
    """Set or move the opening and closing times of a pulse that has not opened yet."""
    if pulse.is_frozen:
        raise PulseFrozen("This pulse has already opened; extend it instead.")
    check_schedule(opens_at, closes_at, now)
    pulse.opens_at, pulse.closes_at = opens_at, closes_at
    audit.record(
        "pulse.schedule",
        actor=actor,
        now=now,
        target=f"pulse:{pulse.id}",
        detail={"opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()},
    )
    db.session.flush()


def open_pulse(
    pulse: Pulse,
    *,
    now: datetime,
    secret_key: str,
    actor: Person | None,
    closes_at: datetime | None = None,
) -> int:
    """Open now (or at its scheduled time, when due): freeze it and invite the audience.

    Returns how many invitations were created. Opening twice is a no-op, so a scheduler can call
    it for every due pulse without care.
    """
    return _open(pulse, now=now, secret_key=secret_key, actor=actor, closes_at=closes_at) or 0


def _open(
    pulse: Pulse,
    *,
    now: datetime,
    secret_key: str,
    actor: Person | None,
    closes_at: datetime | None = None,
) -> int | None:
    """`open_pulse`, returning None when this caller did not open it (it was open already, or
    another scheduler or request claimed it at the same moment)."""
    if pulse.is_frozen:
        return None
    state = pulse.state(now)
    if state is PulseState.CLOSED:
        raise PulseClosed("This pulse's closing time has passed; schedule it again first.")
    opens_at = pulse.opens_at
    if state is not PulseState.OPEN:
        if closes_at is None:
            closes_at = pulse.closes_at
        check_schedule(now, closes_at, now)
        opens_at = now
    else:
        closes_at = pulse.closes_at
    # The claim: of two schedulers (or a scheduler and HR's button) opening the same pulse at
    # once, exactly one UPDATE matches; the other waits for its commit and then matches nothing.
    claimed = db.session.scalar(
        update(Pulse)
        .where(Pulse.id == pulse.id, Pulse.frozen_at.is_(None))
        .values(frozen_at=now, opens_at=opens_at, closes_at=closes_at)
        .returning(Pulse.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(pulse, ["frozen_at", "opens_at", "closes_at"])
    if claimed is None:
        return None
    created = _create_invitations(pulse, secret_key)
    audit.record(
        "pulse.open",
        actor=actor,
        now=now,
        target=f"pulse:{pulse.id}",
        detail={"invited": created},
    )
    db.session.flush()
    return created


def _create_invitations(pulse: Pulse, secret_key: str) -> int:
    people = db.session.execute(
        select(Person.id, Person.team_id)
        .join(Team, Person.team_id == Team.id)
        .where(Person.active.is_(True), in_any_subtree(pulse.teams))
        .order_by(Person.id)
    ).all()
    rows = []
    for person_id, team_id in people:
        nonce = tokens.new_nonce()
        token = tokens.derive_token(secret_key, pulse.id, person_id, nonce)
        rows.append(
            {
                "pulse_id": pulse.id,
                "person_id": person_id,
                "team_id": team_id,
                "nonce": nonce,
                "token_hash": tokens.hash_token(token),
                "answered": False,
                "reminders_sent": 0,
            }
        )
    if rows:
        db.session.execute(insert(Invitation), rows)
    return len(rows)


def invitation_token(invitation: Invitation, secret_key: str) -> str:
    return tokens.derive_token(
        secret_key, invitation.pulse_id, invitation.person_id, invitation.nonce
    )


def close_pulse(pulse: Pulse, *, now: datetime, actor: Person | None) -> None:
    if pulse.state(now) is not PulseState.OPEN:
        raise PulseNotOpen("Only an open pulse can be closed.")
    pulse.closes_at = now
    audit.record("pulse.close", actor=actor, now=now, target=f"pulse:{pulse.id}")
    settle_answers(pulse)
    db.session.flush()


def extend_pulse(pulse: Pulse, *, closes_at: datetime, now: datetime, actor: Person | None) -> None:
    """Move the closing time later while open. A closed pulse is never reopened: its results
    may already be out, and reopening would let people watch numbers change."""
    if pulse.state(now) is not PulseState.OPEN:
        raise PulseClosed("Only an open pulse can be extended; a closed pulse stays closed.")
    if pulse.closes_at is None or closes_at <= pulse.closes_at:
        raise InvalidSchedule("The new closing time must be later than the current one.")
    pulse.closes_at = closes_at
    audit.record(
        "pulse.extend",
        actor=actor,
        now=now,
        target=f"pulse:{pulse.id}",
        detail={"closes_at": closes_at.isoformat()},
    )
    db.session.flush()


def open_due_pulses(*, now: datetime, secret_key: str) -> list[Pulse]:
    """Freeze and invite every scheduled pulse whose opening time has come; returns the ones
    this caller opened (a pulse another scheduler claimed first is left out)."""
    due = db.session.scalars(
        select(Pulse).where(
            Pulse.frozen_at.is_(None),
            Pulse.opens_at.is_not(None),
            Pulse.opens_at <= now,
            Pulse.closes_at > now,
        )
    ).all()
    return [
        pulse
        for pulse in due
        if _open(pulse, now=now, secret_key=secret_key, actor=None) is not None
    ]


def find_invitation(token: str) -> Invitation | None:
    if not tokens.looks_like_token(token):
        return None
    return db.session.scalar(
        select(Invitation).where(Invitation.token_hash == tokens.hash_token(token))
    )


def _secret(secret_key: str | None) -> str:
    # Services take the key explicitly; respond views and tests may rely on the app's key.
    return secret_key if secret_key is not None else str(current_app.config["SECRET_KEY"])


def used_marker(invitation: Invitation, secret_key: str | None = None) -> str:
    return tokens.used_marker(
        _secret(secret_key), invitation_token(invitation, _secret(secret_key))
    )


def is_used(invitation: Invitation, secret_key: str | None = None) -> bool:
    """Whether this invitation's link has been used (settled or not yet)."""
    if invitation.answered:
        return True
    marker = used_marker(invitation, secret_key)
    return db.session.get(UsedLink, marker) is not None


def check_can_answer(
    invitation: Invitation | None, now: datetime, secret_key: str | None = None
) -> Invitation:
    """The invitation, if it may be answered now; otherwise the reason, as an exception."""
    if invitation is None:
        raise TokenUnknown("This link is not valid.")
    if is_used(invitation, secret_key):
        raise TokenAlreadyUsed("This link has already been used.")
    state = invitation.pulse.state(now)
    if state is PulseState.CLOSED:
        raise PulseClosed("This pulse has closed.")
    if state is not PulseState.OPEN or not invitation.pulse.is_frozen:
        raise PulseNotOpen("This pulse is not open yet.")
    return invitation


def record_response(
    invitation: Invitation,
    parsed: ParsedAnswers,
    *,
    now: datetime,
    secret_key: str | None = None,
) -> None:
    """Store one anonymous response and update the tallies, all in the caller's transaction.

    The link is consumed by inserting its used-marker (INSERT ... ON CONFLICT DO NOTHING): of two
    concurrent submissions of the same link exactly one inserts a row; the other raises
    TokenAlreadyUsed. The person's invitation row is not touched here (see UsedLink). The
    response keeps the pulse, the team copied from the invitation and the day, and nothing else.
    """
    check_can_answer(invitation, now, secret_key)
    marker = used_marker(invitation, secret_key)
    dialect = db.session.get_bind().dialect.name
    insert_marker = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(UsedLink)
    consumed = db.session.scalar(
        insert_marker.values(marker=marker, pulse_id=invitation.pulse_id)
        .on_conflict_do_nothing()
        .returning(UsedLink.pulse_id)
    )
    if consumed is None:  # the other submission inserted it first
        raise TokenAlreadyUsed("This link has already been used.")

    pulse_id, team_id = invitation.pulse_id, invitation.team_id
    questions = {q.id: q for q in invitation.pulse.questions}
    response_id = secrets.token_hex(16)
    db.session.execute(
        insert(Response).values(id=response_id, pulse_id=pulse_id, team_id=team_id, day=now.date())
    )
    values = {qid: v for qid, v in parsed.values.items() if qid in questions}
    if values:
        db.session.execute(
            insert(Answer),
            [{"response_id": response_id, "question_id": q, "value": v} for q, v in values.items()],
        )
    comments = {qid: text for qid, text in parsed.comments.items() if qid in questions}
    if comments:
        db.session.execute(
            insert(Comment),
            [
                {
                    "id": secrets.token_hex(16),
                    "response_id": response_id,
                    "question_id": q,
                    "text": text,
                }
                for q, text in comments.items()
            ],
        )
    _update_tallies(pulse_id, team_id, questions, values)
    if invitation.pulse.release is ReleaseMode.STEPS:
        _release_step_if_due(pulse_id, team_id, invitation.pulse.min_group)
    db.session.flush()


_RELEASE_COPIES = (
    (ResponseTally, ReleasedResponseTally),
    (ValueTally, ReleasedValueTally),
    (DimensionTally, ReleasedDimensionTally),
)


def _release_step_if_due(pulse_id: int, team_id: int, k: int) -> None:
    """Copy a team's tallies to the released tables when its responses reach a multiple of k."""
    count = db.session.scalar(
        select(ResponseTally.count).where(
            ResponseTally.pulse_id == pulse_id, ResponseTally.team_id == team_id
        )
    )
    if not count or count % k:
        return
    for source, target in _RELEASE_COPIES:
        db.session.execute(
            delete(target).where(target.pulse_id == pulse_id, target.team_id == team_id)
        )
        columns = [c.name for c in source.__table__.columns]
        db.session.execute(
            insert(target).from_select(
                columns,
                select(*[source.__table__.c[name] for name in columns]).where(
                    source.pulse_id == pulse_id, source.team_id == team_id
                ),
            )
        )


def _update_tallies(
    pulse_id: int, team_id: int, questions: dict[int, PulseQuestion], values: dict[int, int]
) -> None:
    group = {"pulse_id": pulse_id, "team_id": team_id}
    tallies.increment(ResponseTally.__table__, group, {"count": 1})  # type: ignore[arg-type]
    for question_id, value in sorted(values.items()):
        tallies.increment(
            ValueTally.__table__,  # type: ignore[arg-type]
            {**group, "question_id": question_id, "value": value},
            {"count": 1},
        )
    items = [
        ScoredItem(q.id, q.dimension, ScaleKind(q.scale), q.reverse) for q in questions.values()
    ]
    for dimension, score in sorted(dimension_scores(items, values).items()):
        tallies.increment(
            DimensionTally.__table__,  # type: ignore[arg-type]
            {**group, "dimension": dimension},
            {
                "n": 1,
                "total": score,
                "total_sq": score * score,
                "at_risk": 1 if is_at_risk(dimension, score) else 0,
            },
        )


def settle_answers(pulse: Pulse, secret_key: str | None = None) -> int:
    """Mark as answered, in one transaction, every invitation of this pulse whose link was used.

    Run by `flask pulse tick`, before reminders and when a pulse closes. Returns how many
    invitations it marked. On PostgreSQL it then rewrites the pulse's answered invitations,
    used links and responses together (scrub_transaction_ids), so that no row keeps the id of
    the transaction that first wrote it.
    """
    key = _secret(secret_key)
    used = set(db.session.scalars(select(UsedLink.marker).where(UsedLink.pulse_id == pulse.id)))
    pending = db.session.execute(
        select(Invitation.id, Invitation.person_id, Invitation.nonce).where(
            Invitation.pulse_id == pulse.id, Invitation.answered.is_(False)
        )
    ).all()
    newly = [
        row.id
        for row in pending
        if tokens.used_marker(key, tokens.derive_token(key, pulse.id, row.person_id, row.nonce))
        in used
    ]
    for start in range(0, len(newly), 1000):
        db.session.execute(
            update(Invitation)
            .where(Invitation.id.in_(newly[start : start + 1000]))
            .values(answered=True)
            .execution_options(synchronize_session=False)
        )
    scrub_transaction_ids(pulse)
    db.session.flush()
    return len(newly)


def scrub_transaction_ids(pulse: Pulse) -> None:
    """Rewrite this pulse's answered invitations and responses in one new transaction.

    On PostgreSQL every row carries the id of the transaction that wrote it (`xmin`). A response
    and the invitation it consumed are written together, so until something rewrites them their
    xmin values match, and anyone who can read the database could pair them. Rewriting all of
    them here gives each group one shared xmin, which links nothing. `flask pulse tick` calls this
    for open pulses and closing does too; SQLite keeps no such value, so it is skipped there.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(
        update(Invitation)
        .where(Invitation.pulse_id == pulse.id, Invitation.answered.is_(True))
        .values(answered=Invitation.answered)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Response)
        .where(Response.pulse_id == pulse.id)
        .values(day=Response.day)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(UsedLink)
        .where(UsedLink.pulse_id == pulse.id)
        .values(marker=UsedLink.marker)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
