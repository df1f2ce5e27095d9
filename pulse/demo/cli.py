"""`flask pulse demo`: load the demo organisation and print the staff logins."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from pulse.db import utcnow
from pulse.demo import services
from pulse.demo.pulses import demo_links
from pulse.extensions import db


def register(group: AppGroup) -> None:
    group.add_command(demo)


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when the database has no people yet.")
@click.option("--seed", default=2026, show_default=True, help="Seed for the simulated data.")
def demo(if_empty: bool, seed: int) -> None:
    """Load a realistic demo organisation (188 people in 19 teams over 3 levels)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("The demo loads fake people; it is refused in production.")
    if services.has_people():
        if not if_empty:
            raise click.ClickException(
                "The database already has people. Use an empty database (make demo-reset) "
                "or pass --if-empty to keep what is there."
            )
        click.echo("Demo data is already loaded.")
        _print_logins(services.staff_logins())
        _print_links()
        _print_story()
        return
    with click.progressbar(length=1, label="Building the demo organisation") as bar:
        result = services.build_demo(
            now=utcnow(),
            password_method=current_app.config["PASSWORD_HASH_METHOD"],
            secret_key=current_app.config["SECRET_KEY"],
            seed=seed,
        )
        db.session.commit()
        bar.update(1)
    click.echo(
        f"Loaded {result.people} people in {result.teams} teams, with {result.closed_pulses} "
        f"closed pulses and an open pulse ({result.responses} simulated responses)."
    )
    _print_logins(result.logins)
    _print_links()
    _print_story()


def _print_logins(logins: list[services.DemoLogin]) -> None:
    if not logins:
        return
    click.echo(f"\nStaff logins (password for all: {services.DEMO_PASSWORD}):")
    width = max(len(login.email) for login in logins)
    for login in logins:
        click.echo(f"  {login.role.value:<8} {login.email:<{width}}  {login.name} ({login.scope})")


def _print_links() -> None:
    base_url = current_app.config.get("BASE_URL") or "http://127.0.0.1:5000"
    links = demo_links(base_url, current_app.config["SECRET_KEY"])
    if links and current_app.config.get("SECRET_KEY_EPHEMERAL"):
        click.echo(
            "\nSet PULSE_SECRET_KEY (make run does) to get invitation links that work in the "
            "server too."
        )
    elif links:
        click.echo("\nAnswer the open pulse as an employee (each link works once):")
        for link in links:
            click.echo(f"  {link}")


def _print_story() -> None:
    base_url = (current_app.config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    story = services.demo_story(current_app.config["SECRET_KEY"])
    if story.pilot_id is not None:
        click.echo(
            f'\nPilot "{story.pilot_name}": its report is at '
            f"{base_url}/pilots/{story.pilot_id}/report (sign in as HR)."
        )
    if story.actions:
        click.echo(f"{story.actions} follow-up actions are logged.")
    if story.you_said_token is not None and not current_app.config.get("SECRET_KEY_EPHEMERAL"):
        click.echo(
            f'"You said, we did" for {story.you_said_team}, as employees see it: '
            f"{base_url}/you-said-we-did/{story.you_said_token}"
        )
