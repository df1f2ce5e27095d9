"""Directory commands: `flask pulse import-people FILE`."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from pulse.db import utcnow
from pulse.extensions import db
from pulse.org import services
from pulse.org.importer import ImportPlan, LineError, Progress, capped, too_large

PROGRESS_FROM_ROWS = 5_000  # smaller files finish before a progress bar would be useful
LIST_LIMIT = 20
ERROR_LIMIT = 200


def register(group: AppGroup) -> None:
    """Attach the org commands to `flask pulse`."""
    group.add_command(import_people)


def stdin_is_interactive() -> bool:
    """Whether someone can answer a question (a separate function so tests can pretend)."""
    return sys.stdin.isatty()


@click.command("import-people")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--deactivate-missing",
    is_flag=True,
    help="Deactivate active people who are not in the file (never deletes anyone).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change and write nothing.")
@click.option("--yes", is_flag=True, help="Apply without asking for confirmation.")
@with_appcontext
def import_people(file: Path, deactivate_missing: bool, dry_run: bool, yes: bool) -> None:
    """Import the people directory from a CSV FILE (columns: email, name, team; optionally
    role, manages, manager_email). Nothing is written unless every line is valid."""
    max_bytes = current_app.config.get("MAX_CONTENT_LENGTH")
    if max_bytes is not None and file.stat().st_size > max_bytes:
        _fail([too_large(max_bytes)])
    data = file.read_bytes()
    options: dict[str, Any] = {
        "deactivate_missing": deactivate_missing,
        "actor": None,
        "max_rows": current_app.config["IMPORT_MAX_ROWS"],
        "max_bytes": max_bytes,
    }
    estimate = data.count(b"\n")

    with _progress(estimate, "Checking rows") as progress:
        plan = services.preview_import(data, progress=progress, **options)
    if plan.errors:
        db.session.rollback()
        _fail(plan.errors)
    _print_preview(plan, file.name)

    if dry_run or not plan.has_changes:
        db.session.rollback()
        click.echo(
            "Dry run: nothing was changed."
            if dry_run
            else "Nothing to change: the directory already matches the file."
        )
        return
    if not yes:
        # Reading opened a write transaction (SQLite BEGIN IMMEDIATE): end it before waiting for
        # a person, so the web app is not locked out while the question is on screen.
        db.session.rollback()
        if not stdin_is_interactive():
            raise click.ClickException(
                "Not applied: there is no terminal to confirm on. Run again with --yes to apply "
                "without confirmation, or with --dry-run to only see the changes."
            )
        if not click.confirm("Apply these changes?", default=False):
            click.echo("Cancelled: nothing was changed.")
            sys.exit(1)
        # Check again: the directory may have changed while the question was on screen.
        with _progress(estimate, "Checking rows again") as progress:
            plan = services.preview_import(data, progress=progress, **options)
        if plan.errors:
            db.session.rollback()
            _fail(plan.errors)

    writes = plan.counts.total - plan.counts.teams_created
    with _progress(writes, "Writing") as progress:
        counts = services.apply_import(plan, now=utcnow(), actor=None, progress=progress)
    db.session.commit()
    click.secho(f"Imported: {counts}.", fg="green")


@contextmanager
def _progress(length: int, label: str) -> Iterator[Progress | None]:
    if length <= PROGRESS_FROM_ROWS:
        yield None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


def _fail(errors: Sequence[LineError]) -> NoReturn:
    shown = capped(errors, ERROR_LIMIT)
    for error in shown.items:
        click.echo(f"line {error.line}: {error.message}", err=True)
    if shown.more:
        click.echo(f"... and {shown.more} more.", err=True)
    count = len(errors)
    click.secho(
        f"Nothing was imported: {count} problem{'s' if count != 1 else ''} found.",
        fg="red",
        err=True,
    )
    sys.exit(1)


def _print_preview(plan: ImportPlan, filename: str) -> None:
    counts = plan.counts
    click.echo(f"{filename}: {plan.row_count:,} people checked.")
    for warning in plan.warnings:
        click.echo(f"Warning, line {warning.line}: {warning.message}")
    click.echo(f"  new:             {counts.new:>8,}")
    click.echo(f"  changed:         {counts.changed:>8,}")
    click.echo(f"  reactivated:     {counts.reactivated:>8,}")
    click.echo(f"  deactivated:     {counts.deactivated:>8,}")
    click.echo(f"  teams to create: {counts.teams_created:>8,}")
    if plan.missing and not plan.deactivate_missing:
        click.echo(
            f"{plan.missing:,} active people are not in the file and stay active "
            "(use --deactivate-missing to deactivate them)."
        )
    _print_list("New", [f"{n.row.email} ({n.row.name}, {n.team_label})" for n in plan.new])
    for title, group in (("Changed", plan.changed), ("Reactivated", plan.reactivated)):
        _print_list(
            title,
            [
                f"{u.row.email}: " + "; ".join(f"{c.field} {c.old} -> {c.new}" for c in u.changes)
                for u in group
            ],
        )
    _print_list("Deactivated", [f"{d.email} ({d.name})" for d in plan.deactivated])
    _print_list("Teams to create", [plan.label(k) for k in plan.teams_to_create])


def _print_list(title: str, lines: list[str]) -> None:
    if not lines:
        return
    shown = capped(lines, LIST_LIMIT)
    click.echo(f"{title}:")
    for line in shown.items:
        click.echo(f"  {line}")
    if shown.more:
        click.echo(f"  ... and {shown.more:,} more")
