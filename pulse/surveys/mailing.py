"""Invitation and reminder emails, one personal message per person, in their language.

Called after the pulse's own changes are committed (mail never goes out for a rolled-back
change). Each invitation records whether its email went out; the caller commits that too. A
failure is recorded in a short sentence that never holds the link, so HR can see and retry it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from pulse import i18n
from pulse.extensions import db
from pulse.notify import mail
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


def estimated_minutes(question_count: int) -> int:
    """ "About N minutes" for the form and the emails; never less than 2, to stay honest."""
    return max(2, math.ceil(question_count * SECONDS_PER_QUESTION / 60))


def send_invitations(pulse: Pulse, *, secret_key: str) -> DeliveryReport:
    """Email every invitation of the pulse that has not gone out yet (pending or failed)."""
    pending = (
        select(Invitation.id)
        .join(Person, Invitation.person_id == Person.id)
        .where(
            Invitation.pulse_id == pulse.id,
            Invitation.delivery.in_([Delivery.PENDING, Delivery.FAILED]),
            Person.active.is_(True),
        )
        .order_by(Invitation.id)
    )
    return _send(pulse, pending, secret_key=secret_key, reminder=False)


def send_reminders(pulse: Pulse, *, secret_key: str, now: datetime) -> DeliveryReport:
    """Remind, with the same personal link, only the people who have not answered yet.

    Each reminder goes to one person alone, and only the counts come back: nobody learns who
    was reminded, and so who has not answered.
    """
    if pulse.state(now) is not PulseState.OPEN or not pulse.is_frozen:
        return DeliveryReport(0, 0)
    services.settle_answers(pulse, secret_key)  # who has answered, as of now
    unanswered = (
        select(Invitation.id)
        .join(Person, Invitation.person_id == Person.id)
        .where(
            Invitation.pulse_id == pulse.id,
            Invitation.answered.is_(False),
            Person.active.is_(True),
        )
        .order_by(Invitation.id)
    )
    return _send(pulse, unanswered, secret_key=secret_key, reminder=True)


def _send(
    pulse: Pulse, ids_query: Select[int], *, secret_key: str, reminder: bool
) -> DeliveryReport:
    ids = list(db.session.scalars(ids_query))
    sent = failed = failures_in_a_row = 0
    for batch in _batches(ids):
        for invitation in batch:
            error: str | None
            if failures_in_a_row >= GIVE_UP_AFTER:
                ok, error = False, SKIPPED
            else:
                ok, error = _deliver_one(
                    pulse, invitation, secret_key=secret_key, reminder=reminder
                )
            if ok:
                sent, failures_in_a_row = sent + 1, 0
            else:
                failed, failures_in_a_row = failed + 1, failures_in_a_row + 1
            _record(invitation, ok, error, reminder=reminder)
        db.session.flush()
    return DeliveryReport(sent=sent, failed=failed)


def _batches(ids: Sequence[int]) -> Iterator[list[Invitation]]:
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        yield list(
            db.session.scalars(
                select(Invitation)
                .options(joinedload(Invitation.person))
                .where(Invitation.id.in_(chunk))
                .order_by(Invitation.id)
            )
        )


def _record(invitation: Invitation, ok: bool, error: str | None, *, reminder: bool) -> None:
    if reminder:
        # The invitation's own delivery state stays about the invitation email.
        if ok:
            invitation.reminders_sent += 1
        return
    invitation.delivery = Delivery.SENT if ok else Delivery.FAILED
    invitation.delivery_error = None if ok else (error or NOT_ACCEPTED)


def _deliver_one(
    pulse: Pulse, invitation: Invitation, *, secret_key: str, reminder: bool
) -> tuple[bool, str | None]:
    person = invitation.person
    token = services.invitation_token(invitation, secret_key)
    with force_locale(i18n.supported_language(person.language) or i18n.DEFAULT_LANGUAGE):
        try:
            message = _message(pulse, person, token, reminder=reminder)
        except mail.MailError:
            return False, NO_BASE_URL
    if mail.deliver(message, current_app.config):
        return True, None
    return False, NOT_ACCEPTED


def _message(pulse: Pulse, person: Person, token: str, *, reminder: bool) -> mail.Message:
    """Render both bodies in the current (forced) locale. Only this person's own name and
    link appear: never anyone else's, nor who else was invited or reminded."""
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
    )
