"""Results commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from pulse.extensions import db
from pulse.results.integrity import verify_pulse_tallies
from pulse.surveys.models import Pulse


def register(group: AppGroup) -> None:
    group.add_command(verify_tallies)


@click.command("verify-tallies")
@click.option("--pulse", "pulse_id", type=int, help="Check one pulse (default: every pulse).")
def verify_tallies(pulse_id: int | None) -> None:
    """Recompute every tally from the raw answers and report differences (exit code 1)."""
    stmt = select(Pulse.id, Pulse.title).order_by(Pulse.id)
    if pulse_id is not None:
        stmt = stmt.where(Pulse.id == pulse_id)
    pulses = db.session.execute(stmt).all()
    if pulse_id is not None and not pulses:
        raise click.ClickException(f"There is no pulse {pulse_id}.")
    problems = 0
    with click.progressbar(pulses, label="Checking tallies", show_pos=True) as bar:
        reports = [(p, verify_pulse_tallies(p.id)) for p in bar]
    for pulse, mismatches in reports:
        if mismatches:
            problems += len(mismatches)
            noun = "difference" if len(mismatches) == 1 else "differences"
            click.secho(f"Pulse {pulse.id} ({pulse.title}): {len(mismatches)} {noun}", fg="red")
            for mismatch in mismatches[:50]:
                click.echo(f"  {mismatch.describe()}")
    if problems:
        raise SystemExit(1)
    click.echo(f"All tallies match the raw answers ({len(pulses)} pulses checked).")
