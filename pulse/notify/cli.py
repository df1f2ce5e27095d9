"""`flask pulse tick`: the scheduler's command (run it from cron every few minutes)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from pulse.db import utcnow
from pulse.notify import tick as steps


def register(group: AppGroup) -> None:
    group.add_command(tick)


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use an ISO timestamp such as 2026-11-27T09:00:00+00:00") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@click.command("tick")
# For tests and demos only: run the tick as if it were this moment.
@click.option("--now", "now_text", hidden=True, default=None)
@with_appcontext
def tick(now_text: str | None) -> None:
    """Open due pulses and email invitations, reminders (halfway and a day before closing, to
    people who have not answered), results digests to managers, and action reminders. Safe to
    run as often as you like, and two at once (for example every five minutes from cron)."""
    now = _parse_now(now_text)
    report = steps.run(now=now, secret_key=current_app.config["SECRET_KEY"])
    if report.settled:
        click.echo(f"Settled {report.settled} answered invitations.")
    if not report.opened:
        click.echo("No pulses due to open.")
    for line in report.opened:
        text = f"Opened pulse {line.pulse_id} ({line.title}): {line.sent} invitations emailed"
        text += f", {line.failed} failed (retry from the pulse page)." if line.failed else "."
        click.echo(text)
    counts = [
        (report.invitations_sent, "pending invitations emailed"),
        (report.reminders_sent, "reminders emailed"),
        (report.reminders_failed, "reminders failed (a later tick retries)"),
        (report.digests_sent, "results digests emailed"),
        (report.action_reminders_sent, "action reminders emailed"),
        (report.weekly_sent, "weekly action digests emailed"),
    ]
    for count, what in counts:
        if count:
            click.echo(f"{count} {what}.")
