"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from pulse.auth import passwords
from pulse.auth.forms import LoginForm, LogoutForm
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.queries import person_by_email

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That email and password do not match an active account."


def safe_next(target: str | None) -> str | None:
    """Accept only a local path: no scheme, no host, no backslash or protocol-relative tricks."""
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        person = person_by_email(form.email.data or "")
        method = current_app.config["PASSWORD_HASH_METHOD"]
        ok = passwords.verify_password(
            person.password_hash if person else None, form.password.data or "", method
        )
        if person is not None and ok and person.is_active:
            login_user(person, remember=bool(form.remember.data))
            person.last_login_at = utcnow()
            db.session.commit()
            return redirect(safe_next(form.next.data) or url_for("core.index"))
        flash(LOGIN_FAILED, "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
