"""Invitation and reminder emails, one personal message per person, in their language.

Called after the pulse's own changes are committed (mail never goes out for a rolled-back
change). Every email is claimed before it is sent, so two schedulers (or a scheduler and HR's
button) running at the same moment never send the same email twice: one conditional UPDATE
marks a batch as sent (or raises its reminder count) and returns the rows it changed, that is
committed, and only those rows are emailed. A failure is then written back in a short sentence
that never holds the link, so HR can see and retry it.

The trade-off: a process that dies between the claim's commit and the send leaves those
invitations marked sent although no email left. We accept that (HR can export the links or
send reminders); the other order would risk everyone getting the email twice.

These functions commit (the claims must be visible to other processes before any email goes
out), so call them only after the caller's own changes are committed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import Select, Update, select, update
from sqlalchemy.orm import joinedload

from pulse import i18n
from pulse.extensions import db
from pulse.notify import mail
from pulse.org.links import team_token
from pulse.org.models import Person
from pulse.surveys import services
from pulse.surveys.models import Delivery, Invitation, Pulse, PulseState

BATCH_SIZE = 200
# After this many failures in a row the mail server is taken to be down: the rest are marked
# failed without waiting for a timeout each, and a later retry sends them.
GIVE_UP_AFTER = 5
SECONDS_PER_QUESTION = 12  # a short question answered with one tap on a phone

NOT_ACCEPTED = "The mail server did not accept the message; retry later."
SKIPPED = "Not sent: the mail server failed for the messages before it; retry later."
NO_BASE_URL = "Links cannot be built: set PULSE_BASE_URL, then retry."


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int


# A claim takes candidate ids and returns the UPDATE that claims those still unclaimed
# (RETURNING their ids); a release takes the ids that failed and the error, and undoes the claim.
Claim = Callable[[list[int]], Update]
Release = Callable[[list[int], str], Update]


def estimated_minutes(question_count: int) -> int:
    """ "About N minutes" for the form and the emails; never less than 2, to stay honest."""
    return max(2, math.ceil(question_count * SECONDS_PER_QUESTION / 60))


def send_invitations(
    pulse: Pulse, *, secret_key: str, include_failed: bool = True
) -> DeliveryReport:
    """Email every invitation of the pulse that has not gone out yet: pending ones, and failed
    ones too unless `include_failed` is False (the scheduler leaves those to HR's retry)."""
    states = [Delivery.PENDING, Delivery.FAILED] if include_failed else [Delivery.PENDING]
    candidates = (
        select(Invitation.id)
        .join(Person, Invitation.person_id == Person.id)
        .where(
            Invitation.pulse_id == pulse.id,
            Invitation.delivery.in_(states),
            Person.active.is_(True),
        )
        .order_by(Invitation.id)
    )

    def claim(ids: list[int]) -> Update:
        return (
            update(Invitation)
            .where(Invitation.id.in_(ids), Invitation.delivery.in_(states))
            .values(delivery=Delivery.SENT, delivery_error=None)
        )

    def release(ids: list[int], error: str) -> Update:
        return (
            update(Invitation)
            .where(Invitation.id.in_(ids))
            .values(delivery=Delivery.FAILED, delivery_error=error)
        )

    return _send(pulse, candidates, claim, release, secret_key=secret_key, reminder=False)


def send_reminders(pulse: Pulse, *, secret_key: str, now: datetime) -> DeliveryReport:
    """HR's "remind now": remind, with the same personal link, everyone who has not answered
    and has not turned reminders off.

    Each reminder goes to one person alone, and only the counts come back: nobody learns who
    was reminded, and so who has not answered.
    """
    if pulse.state(now) is not PulseState.OPEN or not pulse.is_frozen:
        return DeliveryReport(0, 0)
    services.settle_answers(pulse, secret_key)  # who has answered, as of now
    db.session.commit()

    def claim(ids: list[int]) -> Update:
        return (
            update(Invitation)
            .where(Invitation.id.in_(ids), Invitation.answered.is_(False))
            .values(reminders_sent=Invitation.reminders_sent + 1)
        )

    def release(ids: list[int], error: str) -> Update:
        return (
            update(Invitation)
            .where(Invitation.id.in_(ids))
            .values(reminders_sent=Invitation.reminders_sent - 1)
        )

    return _send(pulse, _unanswered(pulse), claim, release, secret_key=secret_key, reminder=True)


def send_stage_reminders(pulse: Pulse, *, stage: int, secret_key: str) -> DeliveryReport:
    """The scheduler's reminder number `stage` (1 at halfway, 2 a day before closing).

    Invitations are claimed by raising `reminders_sent` straight to `stage`, so a late tick
    that has passed both points sends one reminder, not two, and a second tick sends none.
    The caller settles answers first.
    """
    candidates = _unanswered(pulse).where(Invitation.reminders_sent < stage)

    def claim(ids: list[int]) -> Update:
        return (
            update(Invitation)
            .where(
                Invitation.id.in_(ids),
                Invitation.reminders_sent < stage,
                Invitation.answered.is_(False),
            )
            .values(reminders_sent=stage)
        )

    def release(ids: list[int], error: str) -> Update:
        # One step back, so a later tick tries this stage again.
        return (
            update(Invitation)
            .where(Invitation.id.in_(ids), Invitation.reminders_sent == stage)
            .values(reminders_sent=stage - 1)
        )

    return _send(pulse, candidates, claim, release, secret_key=secret_key, reminder=True)


def _unanswered(pulse: Pulse) -> Select[int]:
    return (
        select(Invitation.id)
        .join(Person, Invitation.person_id == Person.id)
        .where(
            Invitation.pulse_id == pulse.id,
            Invitation.answered.is_(False),
            Person.active.is_(True),
            Person.no_reminders.is_(False),
        )
        .order_by(Invitation.id)
    )


def _send(
    pulse: Pulse,
    candidates: Select[int],
    claim: Claim,
    release: Release,
    *,
    secret_key: str,
    reminder: bool,
) -> DeliveryReport:
    ids = candidate_ids(candidates)
    sent = failed = failures_in_a_row = 0
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        claimed = cast(
            list[int],
            list(
                db.session.scalars(
                    claim(chunk)
                    .returning(Invitation.id)
                    .execution_options(synchronize_session=False)
                )
            ),
        )
        built = [
            _build_one(pulse, invitation, secret_key=secret_key, reminder=reminder)
            for invitation in _load(claimed)
        ]
        # Commit the claim before any email goes out, and hold no lock while talking to the
        # mail server (on SQLite every command transaction takes the write lock).
        db.session.commit()
        errors: dict[str, list[int]] = {}
        for invitation_id, message, error in built:
            if message is not None and failures_in_a_row >= GIVE_UP_AFTER:
                message, error = None, SKIPPED
            if message is not None and mail.deliver(message, current_app.config):
                sent, failures_in_a_row = sent + 1, 0
                continue
            failed, failures_in_a_row = failed + 1, failures_in_a_row + 1
            errors.setdefault(error or NOT_ACCEPTED, []).append(invitation_id)
        for error, failed_ids in errors.items():
            db.session.execute(
                release(failed_ids, error).execution_options(synchronize_session=False)
            )
        db.session.commit()
    db.session.expire_all()
    return DeliveryReport(sent=sent, failed=failed)


def candidate_ids(candidates: Select[int]) -> list[int]:
    """Who may need this email. Another sender may claim any of them before we do: only the
    claim decides (tests hold two senders here at once to prove that)."""
    return list(db.session.scalars(candidates))


def _load(ids: Sequence[int]) -> Iterator[Invitation]:
    yield from db.session.scalars(
        select(Invitation)
        .options(joinedload(Invitation.person))
        .where(Invitation.id.in_(ids))
        .order_by(Invitation.id)
    )


def _build_one(
    pulse: Pulse, invitation: Invitation, *, secret_key: str, reminder: bool
) -> tuple[int, mail.Message | None, str | None]:
    """The invitation's email, or None and why it cannot be built."""
    person = invitation.person
    token = services.invitation_token(invitation, secret_key)
    with force_locale(i18n.supported_language(person.language) or i18n.DEFAULT_LANGUAGE):
        try:
            message = _message(pulse, invitation, token, secret_key=secret_key, reminder=reminder)
        except mail.MailError:
            return invitation.id, None, NO_BASE_URL
    return invitation.id, message, None


def team_page_link(team_id: int, secret_key: str) -> str | None:
    """The team's "You said, we did" page, once the actions feature provides it."""
    if "actions.you_said" not in current_app.view_functions:
        return None
    return mail.external_url("actions.you_said", token=team_token(team_id, secret_key))


def _message(
    pulse: Pulse, invitation: Invitation, token: str, *, secret_key: str, reminder: bool
) -> mail.Message:
    """Render both bodies in the current (forced) locale. Only this person's own name and
    link appear: never anyone else's, nor who else was invited or reminded."""
    person = invitation.person
    stop_link = mail.external_url(
        "notify.stop_reminders", token=mail.stop_reminders_token(person.id, secret_key)
    )
    context = {
        "lang": i18n.current_language(),
        "name": person.name,
        "title": pulse.title,
        "closes": i18n.format_local_datetime(pulse.closes_at) if pulse.closes_at else None,
        "minutes": estimated_minutes(len(pulse.questions)),
        "min_group": pulse.min_group,
        "min_comment_group": pulse.min_comment_group,
        "link": mail.external_url("respond.start", token=token),
        "protection_link": mail.external_url("respond.protection"),
        "team_link": team_page_link(invitation.team_id, secret_key),
        # In invitations too: a stop link that only reminders carried would tell anyone who
        # saw it used that this person had not answered.
        "stop_link": stop_link,
        "reminder": reminder,
    }
    kind = "reminder" if reminder else "invitation"
    subject = (
        gettext("Reminder: %(title)s", title=pulse.title)
        if reminder
        else gettext("Your anonymous pulse: %(title)s", title=pulse.title)
    )
    # Straight from the Jinja environment: an email has no page navigation or signed-in user.
    env = current_app.jinja_env
    return mail.Message(
        to=person.email,
        subject=subject,
        text=env.get_template(f"email/{kind}.txt").render(context),
        html=env.get_template(f"email/{kind}.html").render(context),
        # RFC 8058 one-click: mail programs show an unsubscribe button that POSTs here. On
        # invitations as well as reminders, so that a one-click stop says nothing about whether
        # the person had answered (only those who had not get reminders).
        headers=(
            ("List-Unsubscribe", f"<{stop_link}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    )
