"""Pulse commands: `flask pulse links PULSE_ID` (`flask pulse tick` is in pulse/notify/cli.py)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from pulse.audit import services as audit
from pulse.db import utcnow
from pulse.extensions import db
from pulse.notify.mail import MailError
from pulse.surveys import queries
from pulse.surveys.models import Pulse


def register(group: AppGroup) -> None:
    """Attach the survey commands to `flask pulse`."""
    group.add_command(links)


@click.command("links")
@click.argument("pulse_id", type=int)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the CSV to this file (readable by you only) instead of printing it.",
)
@with_appcontext
def links(pulse_id: int, output: Path | None) -> None:
    """Export every invitation link of an open pulse as CSV (email, name, team, link), for
    printed or kiosk distribution. Anyone holding a link can answer as that person: keep the
    file safe and delete it after use."""
    from pulse.surveys.routes import link_maker  # the same links as the web export

    pulse = db.session.get(Pulse, pulse_id)
    if pulse is None:
        raise click.ClickException(f"There is no pulse {pulse_id}.")
    if queries.status_of(pulse, utcnow()).code != "open":
        raise click.ClickException("Links can only be exported while the pulse is open.")
    try:
        rows = queries.invitation_links(pulse, link_maker(current_app.config["SECRET_KEY"]))
    except MailError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(
        "pulse.export_links",
        actor=None,
        now=utcnow(),
        target=f"pulse:{pulse.id}",
        detail={"links": len(rows), "via": "cli"},
    )
    db.session.commit()
    text = queries.links_csv(rows)
    if output is None:
        click.echo(text, nl=False)
        return
    # Owner-only, like the outbox: the file holds working links.
    output.touch(mode=0o600, exist_ok=True)
    output.chmod(0o600)
    output.write_text("\ufeff" + text, encoding="utf-8", newline="")
    click.echo(f"Wrote {len(rows)} links to {output}.", err=True)
