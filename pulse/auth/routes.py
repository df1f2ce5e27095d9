"""Sign in and out, the account page, staff accounts and set-password links."""

from __future__ import annotations

import hashlib
from datetime import datetime
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from pulse import notify
from pulse.auth import emails, queries, services
from pulse.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    LogoutForm,
    SendLinkForm,
    SetPasswordForm,
    SignOutEverywhereForm,
    StaffForm,
)
from pulse.auth.passwords import POLICY_HINT, PasswordRejected
from pulse.auth.permissions import STAFF, require_role
from pulse.db import utcnow
from pulse.extensions import db, limiter
from pulse.org.models import Person, Role
from pulse.org.services import OrgError, normalise_email

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That email and password do not match an active account."


def safe_next(target: str | None) -> str | None:
    """Accept only a local path: no scheme, no host, no backslash or protocol-relative tricks."""
    if not target:
        return None
    target = target.strip()
    # Check the decoded form too: some browsers and proxies decode before they resolve.
    for candidate in (target, unquote(target)):
        if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
            return None
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in candidate):
            return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# Rate limits on signing in (SECURITY.md): checked by Flask-Limiter before the view runs, so a
# refused attempt never reaches the password hasher.


def _login_ip_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT_IP"])


def _login_account_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"])


def _login_account_key() -> str:
    # Hashed so limiter storage and its log lines never hold email addresses.
    email = normalise_email(request.form.get("email", ""))
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _signed_in_key() -> str:
    person_id = getattr(current_user, "id", None)
    return f"person:{person_id}" if person_id else get_remote_address()


def _start_session(person: Person, *, remember: bool) -> None:
    """A fresh session for a new sign-in: nothing from before survives it (session fixation)."""
    session.clear()
    login_user(person, remember=remember)
    if not remember and _has_remember_cookie():
        # A remember-me cookie left by an earlier sign-in must not outlive this session.
        session["_remember"] = "clear"
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME


def _has_remember_cookie() -> bool:
    return current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies


def _end_session() -> None:
    # Clear first: logout_user() then marks the remember-me cookie for deletion.
    session.clear()
    logout_user()


def _hash_method() -> str:
    return str(current_app.config["PASSWORD_HASH_METHOD"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_ip_limit, methods=["POST"], key_func=get_remote_address)
@limiter.limit(_login_account_limit, methods=["POST"], key_func=_login_account_key)
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("core.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        person = services.authenticate(
            form.email.data or "", form.password.data or "", method=_hash_method(), now=utcnow()
        )
        if person is not None:
            _start_session(person, remember=bool(form.remember.data))
            db.session.commit()
            return redirect(safe_next(form.next.data) or url_for("core.index"))
        flash(LOGIN_FAILED, "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@require_role(*STAFF)
def logout() -> Response:
    form = LogoutForm()
    if form.validate_on_submit():
        _end_session()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/account/sign-out-everywhere")
@require_role(*STAFF)
def sign_out_everywhere() -> Response:
    """End every session of this account, on every device, this one included."""
    if SignOutEverywhereForm().validate_on_submit():
        services.sign_out_everywhere(current_user, now=utcnow())
        db.session.commit()
        _end_session()
        flash("You are signed out on every device. Sign in again to continue.", "info")
        return redirect(url_for("auth.login"))
    return redirect(url_for("auth.change_password"))


@bp.route("/account/password", methods=["GET", "POST"])
@require_role(*STAFF)
@limiter.limit(_login_account_limit, methods=["POST"], key_func=_signed_in_key)
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        person = current_user._get_current_object()
        try:
            services.change_password(
                person,
                form.current_password.data or "",
                form.new_password.data or "",
                method=_hash_method(),
                now=utcnow(),
            )
        except services.WrongPassword as exc:
            form.current_password.errors.append(str(exc))
        except PasswordRejected as exc:
            form.new_password.errors.append(str(exc))
        else:
            # The version bump signed out every cookie, this browser's too: sign in afresh
            # here, keeping a remember-me cookie if this browser had one.
            _start_session(person, remember=_has_remember_cookie())
            db.session.commit()
            flash("Your password is changed. Other devices are signed out.", "success")
            return redirect(url_for("auth.change_password"))
    return render_template(
        "auth/change_password.html",
        form=form,
        policy_hint=POLICY_HINT,
        sign_out_form=SignOutEverywhereForm(),
    )


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response | str | tuple[str, int]:
    now = utcnow()
    try:
        person = services.person_for_set_password_token(
            token,
            secret_key=current_app.config["SECRET_KEY"],
            max_age=emails.link_max_age(),
            now=now,
        )
    except services.InvalidLink as exc:
        return _bad_link(exc)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(
                person, form.new_password.data or "", method=_hash_method(), now=now, actor=person
            )
        except PasswordRejected as exc:
            form.new_password.errors.append(str(exc))
        else:
            _start_session(person, remember=False)
            db.session.commit()
            flash("Your password is set and you are signed in.", "success")
            return redirect(url_for("core.index"))
    return render_template(
        "auth/set_password.html", form=form, person=person, policy_hint=POLICY_HINT
    )


def _bad_link(exc: services.InvalidLink) -> tuple[str, int]:
    if isinstance(exc, services.LinkExpired):
        reason, status = "expired", 410
    elif isinstance(exc, services.LinkAlreadyUsed):
        reason, status = "used", 410
    else:
        reason, status = "invalid", 404
    html = render_template(
        "auth/link_problem.html",
        reason=reason,
        valid_for=emails.describe_duration(emails.link_max_age()),
    )
    return html, status


# Staff accounts (HR) ------------------------------------------------------------------------


def _staff_form() -> StaffForm:
    form = StaffForm()
    choices = queries.team_choices()
    teams = [SelectChoice(str(team_id), name) for team_id, name in choices]
    form.team.choices = [SelectChoice("", "No team"), *teams]
    form.manages.choices = teams
    return form


@bp.route("/staff", methods=["GET", "POST"])
@require_role(Role.HR)
def staff() -> Response | str:
    """Staff accounts and their status, with the form that creates one."""
    form = _staff_form()
    if form.validate_on_submit():
        now = utcnow()
        account = _create_account(form, now=now)
        if account is not None:
            if account.needs_link:
                emails.queue_set_password_email(account.person, now=now)
            db.session.commit()
            _report_created(account)
            return redirect(url_for("auth.staff"))
    rows = queries.staff_overview()
    return render_template(
        "auth/staff.html",
        form=form,
        rows=rows,
        only_me=all(row.id == current_user.id for row in rows),
        link_form=SendLinkForm(),
        valid_for=emails.describe_duration(emails.link_max_age()),
    )


def _create_account(form: StaffForm, *, now: datetime) -> services.StaffAccount | None:
    """Call the service with the form's values; on a broken rule, show it at the email field."""
    team_ids = [form.team.data] if form.team.data else []
    try:
        return services.create_staff_account(
            email=form.email.data or "",
            name=form.name.data or "",
            role=Role(form.role.data),
            team=next(iter(queries.teams_by_ids(team_ids)), None),
            manages=queries.teams_by_ids(form.manages.data or []),
            now=now,
            actor=current_user,
        )
    except (services.StaffError, OrgError) as exc:
        form.email.errors.append(str(exc))
        return None


def _report_created(account: services.StaffAccount) -> None:
    saved = "Account created" if account.created else "Account updated"
    if account.needs_link:
        _send_link_and_report(account.person, saved=saved)
    else:
        flash(f"{saved}. {account.person.name} already has a password and keeps it.", "success")


@bp.post("/staff/<int:person_id>/send-link")
@require_role(Role.HR)
def send_link(person_id: int) -> Response:
    person = db.get_or_404(Person, person_id)
    if SendLinkForm().validate_on_submit():
        now = utcnow()
        try:
            services.check_can_receive_link(person)
        except services.StaffError as exc:
            flash(str(exc), "error")
        else:
            emails.queue_set_password_email(person, now=now)
            _send_link_and_report(person, saved="")
    return redirect(url_for("auth.staff"))


def _send_link_and_report(person: Person, *, saved: str) -> None:
    """Send the queued link (after the caller's commit), record the outcome and tell HR."""
    report = notify.send_queued()
    services.record_link_outcome(person, sent=report.ok, now=utcnow(), actor=current_user)
    db.session.commit()
    prefix = f"{saved}. " if saved else ""
    if report.ok:
        flash(f"{prefix}A set-password link was sent to {person.email}.", "success")
    else:
        flash(
            f"{prefix}The set-password link could not be sent to {person.email}. "
            "Check the mail settings, then try again with “Send link”.",
            "error",
        )
