"""What `flask pulse tick` does, step by step; every step is safe to run twice and at once.

Steps claim their work before any email goes out (see surveys/mailing.py and notify/digests.py),
so two ticks started by overlapping cron runs, or on two servers, send each email once. Each
step commits its own claims; call them from the command, not from inside a request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from pulse.extensions import db
from pulse.notify import digests
from pulse.surveys import mailing, queries, services
from pulse.surveys.models import Delivery, Invitation, Pulse

# The second reminder goes a day before closing, only when that is clearly after halfway: a
# pulse shorter than two days gets the halfway reminder only.
DAY_BEFORE = timedelta(days=1)
TWO_REMINDERS_FROM = timedelta(days=2)


def reminder_points(opens_at: datetime, closes_at: datetime) -> list[datetime]:
    """When reminders are due: halfway, and a day before closing for pulses of two days or more."""
    halfway = opens_at + (closes_at - opens_at) / 2
    if closes_at - opens_at < TWO_REMINDERS_FROM:
        return [halfway]
    return [halfway, max(halfway, closes_at - DAY_BEFORE)]


def reminder_stage(opens_at: datetime, closes_at: datetime, now: datetime) -> int:
    """How many reminder points have passed (0 before halfway); none once the pulse closed."""
    if now >= closes_at or now < opens_at:
        return 0
    return sum(point <= now for point in reminder_points(opens_at, closes_at))


@dataclass(frozen=True)
class OpenedLine:
    pulse_id: int
    title: str
    sent: int
    failed: int


@dataclass
class TickReport:
    settled: int = 0
    opened: list[OpenedLine] = field(default_factory=list)
    invitations_sent: int = 0  # for pulses opened earlier (e.g. by a tick that stopped half-way)
    reminders_sent: int = 0
    reminders_failed: int = 0
    digests_sent: int = 0
    action_reminders_sent: int = 0
    weekly_sent: int = 0


def settle(*, now: datetime, secret_key: str) -> int:
    """Mark used links' invitations answered, for open and recently closed pulses."""
    settled = sum(services.settle_answers(p, secret_key) for p in queries.pulses_to_settle(now))
    db.session.commit()
    return settled


def open_due(*, now: datetime, secret_key: str) -> list[Pulse]:
    """Open every due pulse; each is claimed with one conditional UPDATE (services._open), so a
    concurrent tick that loses the claim skips it."""
    opened = services.open_due_pulses(now=now, secret_key=secret_key)
    db.session.commit()
    return opened


def open_pulses(now: datetime) -> list[Pulse]:
    return list(
        db.session.scalars(
            select(Pulse)
            .where(Pulse.frozen_at.is_not(None), Pulse.opens_at <= now, Pulse.closes_at > now)
            .order_by(Pulse.id)
        )
    )


def send_invitations(opened: list[Pulse], *, now: datetime, secret_key: str) -> TickReport:
    """Email invitations of pulses opened now, then any still pending of other open pulses.

    Failed invitations are left to HR's retry button (they failed for a reason someone should
    look at); pending ones of an earlier tick that stopped half-way are sent here.
    """
    result = TickReport()
    opened_ids = {p.id for p in opened}
    for pulse in opened:
        pulse_id, title = pulse.id, pulse.title
        report = mailing.send_invitations(pulse, secret_key=secret_key)
        result.opened.append(OpenedLine(pulse_id, title, report.sent, report.failed))
    pending = set(
        db.session.scalars(
            select(Invitation.pulse_id).where(Invitation.delivery == Delivery.PENDING).distinct()
        )
    )
    for pulse in open_pulses(now):
        if pulse.id in pending and pulse.id not in opened_ids:
            report = mailing.send_invitations(pulse, secret_key=secret_key, include_failed=False)
            result.invitations_sent += report.sent
    return result


def send_reminders(*, now: datetime, secret_key: str) -> tuple[int, int]:
    """The scheduled reminders of every open pulse (answers are settled by the first step)."""
    sent = failed = 0
    for pulse in open_pulses(now):
        if pulse.opens_at is None or pulse.closes_at is None:  # not possible while open
            continue
        stage = reminder_stage(pulse.opens_at, pulse.closes_at, now)
        if stage:
            report = mailing.send_stage_reminders(pulse, stage=stage, secret_key=secret_key)
            sent, failed = sent + report.sent, failed + report.failed
    return sent, failed


def run(*, now: datetime, secret_key: str) -> TickReport:
    """Every step in order: settle, open, invite, remind, digests, action reminders, weekly."""
    settled = settle(now=now, secret_key=secret_key)
    opened = open_due(now=now, secret_key=secret_key)
    result = send_invitations(opened, now=now, secret_key=secret_key)
    result.settled = settled
    result.reminders_sent, result.reminders_failed = send_reminders(now=now, secret_key=secret_key)
    result.digests_sent = digests.send_results_digests(now=now)
    result.action_reminders_sent = digests.send_action_reminders(now=now)
    result.weekly_sent = digests.send_weekly_digests(now=now)
    db.session.commit()
    return result
