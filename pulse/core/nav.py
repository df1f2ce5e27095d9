"""Navigation by role, prepared for the base template."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from pulse.org.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


# (label, endpoint, roles). Endpoints a feature has not registered are left out.
_NAV = [
    ("My teams", "org.home", {Role.MANAGER}),
    ("Organisation", "org.home", {Role.LEADER}),
    ("Results", "results.index", {Role.MANAGER, Role.LEADER, Role.HR}),
    ("Heatmap", "results.heatmap", {Role.MANAGER, Role.LEADER, Role.HR}),
    ("Actions", "actions.index", {Role.MANAGER, Role.LEADER, Role.HR}),
    ("Pilots", "pilots.index", {Role.MANAGER, Role.LEADER, Role.HR}),
    ("Pulses", "surveys.pulses", {Role.HR}),
    ("Questions", "surveys.library", {Role.HR}),
    ("Directory", "org.directory", {Role.HR}),
    ("People", "org.people", {Role.HR}),
    ("Import", "org.import_upload", {Role.HR}),
    ("Outcome figures", "results.metrics", {Role.HR}),
    ("Staff accounts", "auth.staff", {Role.HR}),
]


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    items = []
    for label, endpoint, roles in _NAV:
        if current_user.role in roles and endpoint in current_app.view_functions:
            current = request.endpoint == endpoint or (
                request.endpoint is not None
                and request.endpoint.startswith(endpoint.rsplit("_", 1)[0] + "_")
            )
            items.append(NavItem(label, url_for(endpoint), current))
    return items


def init_app(app: Flask) -> None:
    @app.context_processor
    def inject_nav() -> dict[str, object]:
        return {"nav_items": nav_items()}
