"""The `flask pulse ...` command group; each feature adds its commands here."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

pulse_cli = AppGroup("pulse", help="Pulse administration commands.")


def init_app(app: Flask) -> None:
    from pulse.auth import cli as auth_cli
    from pulse.demo import cli as demo_cli
    from pulse.notify import cli as notify_cli
    from pulse.org import cli as org_cli
    from pulse.results import cli as results_cli
    from pulse.surveys import cli as surveys_cli

    auth_cli.register(pulse_cli)
    org_cli.register(pulse_cli)
    demo_cli.register(pulse_cli)
    surveys_cli.register(pulse_cli)
    results_cli.register(pulse_cli)
    notify_cli.register(pulse_cli)
    app.cli.add_command(pulse_cli)


def echo_error(message: str) -> None:
    click.secho(message, fg="red", err=True)
