"""Pulse commands."""

from __future__ import annotations

from flask.cli import AppGroup


def register(group: AppGroup) -> None:
    """Attach the survey commands to `flask pulse`."""
