"""The front door: send each signed-in person to the page their role starts on."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from pulse.org.models import Role

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def index() -> Response:
    if current_user.role is Role.HR:
        return redirect(url_for("org.directory"))
    return redirect(url_for("org.home"))


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """Liveness probe for load balancers; touches nothing."""
    return "ok", 200, {"Content-Type": "text/plain"}
