"""Results commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from pulse.db import utcnow
from pulse.extensions import db
from pulse.results import metrics_import
from pulse.results.integrity import verify_pulse_tallies
from pulse.surveys.models import Pulse


def register(group: AppGroup) -> None:
    group.add_command(verify_tallies)
    group.add_command(import_metrics)


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


@click.command("import-metrics")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_metrics(file: Path) -> None:
    """Import outcome figures (team, metric, period_start, period_end, value) from a CSV file.

    All or nothing: any problem is listed with its line number and nothing is written.
    """
    data = file.read_bytes()
    config = current_app.config
    limits = {"max_rows": config["IMPORT_MAX_ROWS"], "max_bytes": config.get("MAX_CONTENT_LENGTH")}
    estimate = max(data.count(b"\n"), 1)
    with click.progressbar(length=estimate, label="Importing figures", file=sys.stderr) as bar:
        plan = metrics_import.import_metrics(
            data, now=utcnow(), actor=None, progress=bar.update, **limits
        )
    if plan.errors:
        db.session.rollback()
        for error in plan.errors[:200]:
            click.echo(f"line {error.line}: {error.message}", err=True)
        if len(plan.errors) > 200:
            click.echo(f"... and {len(plan.errors) - 200} more.", err=True)
        noun = "problem" if len(plan.errors) == 1 else "problems"
        raise click.ClickException(f"Nothing was imported: {len(plan.errors)} {noun}.")
    db.session.commit()
    click.secho(f"Imported {plan.rows:,} figures: {plan.summary()}.", fg="green")
