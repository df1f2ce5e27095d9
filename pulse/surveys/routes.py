"""HR pages for the question library and pulses.

Opening a pulse, retrying invitations and reminding follow one pattern: the service writes and
flushes, the view commits, then mail goes out and the delivery results are committed. A lost
SMTP server therefore never stops a pulse from opening: the failed invitations are listed on the
pulse page and can be sent again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from pulse.audit import services as audit
from pulse.auth.permissions import require_role
from pulse.db import utcnow
from pulse.extensions import db
from pulse.notify.mail import MailError, external_url
from pulse.org import queries as org_queries
from pulse.org.models import Role, Team
from pulse.surveys import mailing, queries, services, set_import
from pulse.surveys.forms import (
    ButtonForm,
    ExtendForm,
    ImportSetForm,
    OpenNowForm,
    PulseForm,
    QuestionForm,
    QuestionSetForm,
    ScheduleForm,
    check_window,
    choices,
    error_messages,
    local_value,
    parse_set_picks,
)
from pulse.surveys.library import DIMENSIONS, SCALES
from pulse.surveys.models import Invitation, Pulse, ReleaseMode
from pulse.surveys.services import PulseError

bp = Blueprint("surveys", __name__)

FILE_EXAMPLE_YAML = """name: Team climate
description: Goals, safety and workload, for a quarterly check-in.
questions:
  - key: climate.clear_goals
    text: I know what my team is trying to achieve this quarter.
    dimension: empowerment
    scale: agree5
    required: true
    construct: role clarity
    source: Own wording
  - key: climate.blame
    text: When something goes wrong here, people look for someone to blame.
    dimension: psych_safety
    scale: agree5
    reverse: true
  - key: burnout.drained
  - enps.recommend
"""

FILE_EXAMPLE_JSON = """{
  "name": "Sleep check",
  "questions": [
    {"key": "sleep.hours", "text": "About how many hours did you sleep last night?",
     "dimension": "wellbeing", "scale": "hours"},
    {"key": "wellbeing.rested", "required": true}
  ]
}"""


def org_zone() -> ZoneInfo:
    return ZoneInfo(str(current_app.config.get("TIMEZONE") or "UTC"))


@bp.app_template_filter("org_time")
def org_time(moment: datetime | None) -> str:
    """A UTC time as HR reads it: in the organisation's time zone, with the zone's name."""
    if moment is None:
        return "—"
    return moment.astimezone(org_zone()).strftime("%a %d %b %Y, %H:%M %Z")


# --- Question library -------------------------------------------------------------------------


@bp.get("/questions")
@require_role(Role.HR)
def library() -> str:
    """Every question by dimension, every set, and links to add questions, sets and files."""
    questions = queries.library_questions()
    return render_template(
        "surveys/library.html",
        groups=queries.library_by_dimension(questions),
        sets=queries.question_sets(questions),
    )


@bp.route("/questions/new", methods=["GET", "POST"])
@require_role(Role.HR)
def new_question() -> Response | tuple[str, int]:
    form = QuestionForm()
    if form.validate_on_submit():
        library = queries.library_snapshot()
        question = form.question(library)
        if form.check(question, library) and _saved(
            lambda: set_import.create_question(
                question, now=utcnow(), actor=current_user, audit_action="question.create"
            )
        ):
            flash(f"Added the question {question.key!r} to the library.", "success")
            return redirect(url_for(".library", _anchor=f"dimension-{question.dimension}"))
    status = 400 if form.is_submitted() else 200
    return render_template("surveys/new_question.html", form=form), status


@bp.route("/questions/sets/new", methods=["GET", "POST"])
@require_role(Role.HR)
def new_set() -> Response | tuple[str, int]:
    form = QuestionSetForm()
    questions = queries.library_questions()
    keys = [q.key for q in questions]
    picks_form: dict[str, list[str]] = request.form.to_dict(flat=False)
    problems: list[str] = []
    if form.validate_on_submit():
        entries, problems = parse_set_picks(picks_form, keys)
        name = set_import.clean(form.name.data or "")
        description = set_import.clean(form.description.data or "")
        checked = set_import.check_set(name, description, entries, queries.library_snapshot())
        problems += [p.message[:1].upper() + p.message[1:] + "." for p in checked]
        spec = set_import.SetSpec(name, description, tuple(entries))
        if not problems and _saved(
            lambda: set_import.save_question_set(spec, now=utcnow(), actor=current_user)
        ):
            flash(f"Created the question set {name!r} with {len(entries)} questions.", "success")
            return redirect(url_for(".library", _anchor="sets"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "surveys/new_set.html",
        form=form,
        groups=queries.library_by_dimension(questions),
        picked=set(picks_form.get("pick", [])),
        values=picks_form,
        problems=problems,
    ), status


@bp.route("/questions/sets/import", methods=["GET", "POST"])
@require_role(Role.HR)
def import_set() -> Response | tuple[str, int]:
    """Add a set (and any new questions in it) from a YAML or JSON file: all of it, or nothing."""
    form = ImportSetForm()
    problems: list[set_import.Problem] = []
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(set_import.MAX_FILE_BYTES + 1)
        parsed = set_import.parse_set_file(data, upload.filename or "", queries.library_snapshot())
        problems = parsed.problems
        spec = parsed.spec
        if spec is not None and not problems:
            if _saved(
                lambda: set_import.save_question_set(
                    spec, now=utcnow(), actor=current_user, imported=True
                )
            ):
                flash(
                    f"Imported the question set {spec.name!r}: {len(spec.entries)} questions, "
                    f"{len(spec.new_questions)} of them new to the library.",
                    "success",
                )
                return redirect(url_for(".library", _anchor="sets"))
            problems = [set_import.Problem("", "The file could not be saved; please try again.")]
    status = 400 if form.is_submitted() else 200
    return render_template(
        "surveys/import_set.html",
        form=form,
        problems=problems,
        example_yaml=FILE_EXAMPLE_YAML,
        example_json=FILE_EXAMPLE_JSON,
        dimensions=DIMENSIONS,
        scales=SCALES,
        max_questions=set_import.MAX_QUESTIONS,
        max_kb=set_import.MAX_FILE_BYTES // 1024,
    ), status


def _saved(write: Any) -> bool:
    """Run a library write and commit it; False when someone else took the key or name first."""
    try:
        write()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(
            "Someone saved a question or set with the same key or name a moment ago. "
            "Please check the library and try again.",
            "error",
        )
        return False
    return True


# --- Pulses -----------------------------------------------------------------------------------


@bp.get("/pulses")
@require_role(Role.HR)
def pulses() -> str:
    return render_template("surveys/pulses.html", rows=queries.pulse_rows(utcnow()))


@bp.route("/pulses/new", methods=["GET", "POST"])
@require_role(Role.HR)
def new_pulse() -> Response | tuple[str, int]:
    """Create a pulse from a set for some teams; save it as a draft or schedule it."""
    form = PulseForm()
    form.question_set.choices = choices(queries.set_choices())
    tree = org_queries.team_tree()
    form.teams.valid_ids = {node.id for node in org_queries.flatten(tree)}
    if form.is_submitted():
        now, zone = utcnow(), org_zone()
        valid = form.validate()
        action = request.form.get("action", "")
        scheduling = action == "schedule" or (
            action != "draft" and bool(form.opens_at.raw_data or form.closes_at.raw_data)
        )
        window = form.schedule(scheduling=scheduling, zone=zone, now=now)
        if valid and window is not None:
            try:
                pulse = services.create_pulse(
                    title=form.title.data,
                    set_ref=form.question_set.data,
                    teams=list(
                        db.session.scalars(select(Team).where(Team.id.in_(form.teams.data)))
                    ),
                    now=now,
                    actor=current_user,
                    min_group=form.min_group.data,
                    min_comment_group=form.min_comment_group.data,
                    release=ReleaseMode(form.release.data),
                    opens_at=window[0],
                    closes_at=window[1],
                )
            except PulseError as exc:
                form.form_errors.append(str(exc))
            else:
                db.session.commit()
                what = "scheduled" if window[0] else "saved as a draft"
                flash(f"The pulse {pulse.title!r} is {what}.", "success")
                return redirect(url_for(".pulse", pulse_id=pulse.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "surveys/new_pulse.html",
        form=form,
        tree=tree,
        chosen=set(form.teams.data or []),
        zone_name=str(org_zone()),
    ), status


@bp.get("/pulses/<int:pulse_id>")
@require_role(Role.HR)
def pulse(pulse_id: int) -> str:
    pulse = db.get_or_404(Pulse, pulse_id)
    now, zone = utcnow(), org_zone()
    detail = queries.pulse_detail(pulse, now)
    return render_template(
        "surveys/pulse.html",
        pulse=pulse,
        detail=detail,
        zone_name=str(zone),
        opens_value=local_value(pulse.opens_at, zone),
        closes_value=local_value(pulse.closes_at, zone),
        min_shown=queries.MIN_INVITED_SHOWN,
        scale_names={kind.value: scale.name for kind, scale in SCALES.items()},
    )


@bp.post("/pulses/<int:pulse_id>/open")
@require_role(Role.HR)
def open_pulse(pulse_id: int) -> Response:
    """Open now: freeze, create the invitations, commit, then email them."""
    pulse = db.get_or_404(Pulse, pulse_id)
    form = OpenNowForm()
    if not form.validate_on_submit():
        return _back(pulse, form)
    if pulse.is_frozen:
        return _back(pulse, message="This pulse has already opened.")
    closes_at = form.closes_at.utc(org_zone())
    if form.closes_at.errors:
        return _back(pulse, form)
    if closes_at is None and pulse.closes_at is None:
        return _back(pulse, message="Choose when the pulse closes.")
    now = utcnow()
    secret = current_app.config["SECRET_KEY"]
    try:
        invited = services.open_pulse(
            pulse, now=now, secret_key=secret, actor=current_user, closes_at=closes_at
        )
        db.session.commit()
    except PulseError as exc:
        return _back(pulse, message=str(exc))
    except IntegrityError:  # someone else opened it at the same moment (their invitations won)
        db.session.rollback()
        return _back(pulse, message="This pulse has already opened.")
    report = mailing.send_invitations(pulse, secret_key=secret)
    db.session.commit()
    flash(f"The pulse is open: {invited} people invited. {_delivered(report)}", _tone(report))
    return redirect(url_for(".pulse", pulse_id=pulse.id))


@bp.post("/pulses/<int:pulse_id>/close")
@require_role(Role.HR)
def close_pulse(pulse_id: int) -> Response:
    pulse = db.get_or_404(Pulse, pulse_id)
    if not ButtonForm().validate_on_submit():
        return _back(pulse, message="Please try again.")
    try:
        services.close_pulse(pulse, now=utcnow(), actor=current_user)
    except PulseError as exc:
        return _back(pulse, message=str(exc))
    db.session.commit()
    flash("The pulse is closed. It will not take any more answers.", "success")
    return redirect(url_for(".pulse", pulse_id=pulse.id))


@bp.post("/pulses/<int:pulse_id>/extend")
@require_role(Role.HR)
def extend_pulse(pulse_id: int) -> Response:
    pulse = db.get_or_404(Pulse, pulse_id)
    form = ExtendForm()
    closes_at = form.closes_at.utc(org_zone()) if form.validate_on_submit() else None
    if closes_at is None:
        return _back(pulse, form)
    try:
        services.extend_pulse(pulse, closes_at=closes_at, now=utcnow(), actor=current_user)
    except PulseError as exc:
        return _back(pulse, message=str(exc))
    db.session.commit()
    flash(f"The pulse now closes {org_time(closes_at)}.", "success")
    return redirect(url_for(".pulse", pulse_id=pulse.id))


@bp.post("/pulses/<int:pulse_id>/schedule")
@require_role(Role.HR)
def schedule_pulse(pulse_id: int) -> Response:
    pulse = db.get_or_404(Pulse, pulse_id)
    form = ScheduleForm()
    now = utcnow()
    valid = form.validate_on_submit()
    window = check_window(form.opens_at, form.closes_at, zone=org_zone(), now=now)
    if not valid or window is None:
        return _back(pulse, form)
    try:
        services.schedule_pulse(
            pulse, opens_at=window[0], closes_at=window[1], now=now, actor=current_user
        )
    except PulseError as exc:
        return _back(pulse, message=str(exc))
    db.session.commit()
    flash(f"The pulse opens {org_time(window[0])} and closes {org_time(window[1])}.", "success")
    return redirect(url_for(".pulse", pulse_id=pulse.id))


@bp.post("/pulses/<int:pulse_id>/retry")
@require_role(Role.HR)
def retry_invitations(pulse_id: int) -> Response:
    """Email every invitation still pending or failed, while the pulse is open."""
    pulse = db.get_or_404(Pulse, pulse_id)
    if not ButtonForm().validate_on_submit():
        return _back(pulse, message="Please try again.")
    if queries.status_of(pulse, utcnow()).code != "open":
        return _back(pulse, message="Invitations can only be sent while the pulse is open.")
    report = mailing.send_invitations(pulse, secret_key=current_app.config["SECRET_KEY"])
    audit.record(
        "pulse.retry_invitations",
        actor=current_user,
        now=utcnow(),
        target=f"pulse:{pulse.id}",
        detail={"sent": report.sent, "failed": report.failed},
    )
    db.session.commit()
    flash(_delivered(report), _tone(report))
    return redirect(url_for(".pulse", pulse_id=pulse.id))


@bp.post("/pulses/<int:pulse_id>/remind")
@require_role(Role.HR)
def send_reminders(pulse_id: int) -> Response:
    """Remind everyone who has not answered; HR learns how many, never who."""
    pulse = db.get_or_404(Pulse, pulse_id)
    if not ButtonForm().validate_on_submit():
        return _back(pulse, message="Please try again.")
    now = utcnow()
    if queries.status_of(pulse, now).code != "open":
        return _back(pulse, message="Reminders can only be sent while the pulse is open.")
    report = mailing.send_reminders(pulse, secret_key=current_app.config["SECRET_KEY"], now=now)
    sent, failed = report.sent, report.failed
    audit.record(
        "pulse.remind",
        actor=current_user,
        now=now,
        target=f"pulse:{pulse.id}",
        detail={"sent": sent, "failed": failed},
    )
    db.session.commit()
    message = f"Reminder sent to {sent} {_people(sent)} who have not answered yet."
    if failed:
        message += f" {failed} could not be sent; try again later."
    flash(message, _tone(report))
    return redirect(url_for(".pulse", pulse_id=pulse.id))


@bp.get("/pulses/<int:pulse_id>/links.csv")
@require_role(Role.HR)
def links_csv(pulse_id: int) -> Response:
    """Every invitation link as CSV, for printed or kiosk distribution (open pulses only)."""
    pulse = db.get_or_404(Pulse, pulse_id)
    if queries.status_of(pulse, utcnow()).code != "open":
        return _back(pulse, message="Links can only be exported while the pulse is open.")
    try:
        rows = queries.invitation_links(pulse, link_maker(current_app.config["SECRET_KEY"]))
    except MailError as exc:
        return _back(pulse, message=str(exc))
    audit.record(
        "pulse.export_links",
        actor=current_user,
        now=utcnow(),
        target=f"pulse:{pulse.id}",
        detail={"links": len(rows)},
    )
    db.session.commit()
    body = "\ufeff" + queries.links_csv(rows)  # the BOM makes Excel read names as UTF-8
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="pulse-{pulse.id}-links.csv"',
        },
    )


def link_maker(secret_key: str) -> Any:
    """A function giving an invitation's personal answer link (re-derived, never stored)."""

    def link(invitation: Invitation) -> str:
        token = services.invitation_token(invitation, secret_key)
        return external_url("respond.start", token=token)

    return link


# --- Small helpers for the action views -------------------------------------------------------


def _back(pulse: Pulse, form: Any = None, *, message: str | None = None) -> Response:
    """Redirect to the pulse page with the problem as a flash message."""
    for text in ([message] if message else []) + (error_messages(form) if form else []):
        flash(text, "error")
    if form is not None and not error_messages(form):
        flash("Please try again.", "error")
    return redirect(url_for(".pulse", pulse_id=pulse.id))


def _people(n: int) -> str:
    return "person" if n == 1 else "people"


def _delivered(report: mailing.DeliveryReport) -> str:
    sent, failed = report.sent, report.failed
    text = f"{sent} {'invitation' if sent == 1 else 'invitations'} emailed."
    if failed:
        text += f" {failed} could not be sent; they are listed on this page and you can retry them."
    return text


def _tone(report: mailing.DeliveryReport) -> str:
    return "warning" if report.failed else "success"
