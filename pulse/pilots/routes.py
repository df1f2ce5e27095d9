"""The pilots blueprint: setting up pilots and their schedules (HR), and the pilots list.

Report views are added to this blueprint from report_routes.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from pulse.auth.permissions import STAFF, require_role
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org import queries as org_queries
from pulse.org.models import Role
from pulse.pilots import queries, services
from pulse.pilots.forms import AddPulseForm, MovePulseForm, PilotForm, SkipPulseForm
from pulse.pilots.models import Arm, Phase, Pilot
from pulse.surveys import queries as survey_queries
from pulse.surveys.forms import choices, error_messages
from pulse.surveys.services import PulseError

bp = Blueprint("pilots", __name__, url_prefix="/pilots")


def _load(pilot_id: int) -> Pilot:
    """The pilot if the current user may see it; 404 otherwise (do not confirm it exists)."""
    pilot = db.get_or_404(Pilot, pilot_id)
    if not queries.may_view(pilot, current_user):
        abort(404)
    return pilot


def _report_url(pilot_id: int) -> str | None:
    try:
        return url_for("pilots.report", pilot_id=pilot_id)
    except BuildError:
        return None


@bp.get("/")
@require_role(*STAFF)
def index() -> str:
    """Pilots this person may see: all for HR and leaders, their teams' for managers."""
    return render_template(
        "pilots/index.html",
        lines=queries.pilots_for(current_user, utcnow()),
        can_create=current_user.role is Role.HR,
    )


@bp.route("/new", methods=["GET", "POST"])
@require_role(Role.HR)
def new() -> Response | tuple[str, int]:
    """Set up a pilot; saving schedules every pulse."""
    form = PilotForm()
    form.question_set.choices = choices(survey_queries.set_choices())
    if not form.is_submitted():
        form.question_set.data = services.DEFAULT_SET
        form.timezone.data = str(current_app.config.get("TIMEZONE") or "UTC")
    tree = org_queries.team_tree()
    valid_ids = {node.id for node in org_queries.flatten(tree)}
    form.pilot_teams.valid_ids = form.comparison_teams.valid_ids = valid_ids
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            pilot = services.create_pilot(now=utcnow(), actor=current_user, **_setup(form))
        except PulseError as exc:
            db.session.rollback()  # a pulse may have failed after the pilot was flushed
            problems = exc.problems if isinstance(exc, services.PilotError) else [str(exc)]
        else:
            db.session.commit()
            flash(f"The pilot {pilot.name!r} is set up and its pulses are scheduled.", "success")
            return redirect(url_for(".show", pilot_id=pilot.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "pilots/new.html",
        form=form,
        tree=tree,
        problems=problems,
        chosen_pilot=set(form.pilot_teams.data or []),
        chosen_comparison=set(form.comparison_teams.data or []),
        opened=queries.opened_teams(tree, {*form.pilot_teams.data, *form.comparison_teams.data}),
        labels=queries.choice_labels(tree),
    ), status


def _setup(form: PilotForm) -> dict[str, Any]:
    return {
        "name": form.name.data or "",
        "hypothesis": form.hypothesis.data or "",
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
        "pilot_teams": queries.teams_by_id(form.pilot_teams.data),
        "comparison_teams": queries.teams_by_id(form.comparison_teams.data),
        "set_ref": form.question_set.data,
        "baseline_pulses": form.baseline_pulses.data,
        "cadence_weeks": int(form.cadence_weeks.data),
        "open_days": form.open_days.data,
        "timezone": (form.timezone.data or "").strip(),
        "min_group": form.min_group.data,
        "min_comment_group": form.min_comment_group.data,
    }


@bp.get("/<int:pilot_id>")
@require_role(*STAFF)
def show(pilot_id: int) -> str:
    """Overview, arms and schedule; HR may move, skip and add pulses that have not opened."""
    pilot = _load(pilot_id)
    zone = queries.pilot_zone(pilot)
    return render_template(
        "pilots/show.html",
        pilot=pilot,
        zone_name=str(zone),
        pulses_plan=queries.pulses_plan(pilot),
        open_days=queries.open_days(pilot),
        rows=queries.schedule(pilot, utcnow()),
        pilot_teams=pilot.arm_teams(Arm.PILOT),
        comparison_teams=pilot.arm_teams(Arm.COMPARISON),
        names=org_queries.full_team_names(),
        can_edit=current_user.role is Role.HR,
        show_counts=queries.sees_every_pilot(current_user),
        report_url=_report_url(pilot.id),
        move_form=MovePulseForm(),
        skip_form=SkipPulseForm(),
        add_form=AddPulseForm(),
    )


@bp.post("/<int:pilot_id>/pulses/<int:pulse_id>/move")
@require_role(Role.HR)
def move_pulse(pilot_id: int, pulse_id: int) -> Response:
    pilot = _load(pilot_id)
    form = MovePulseForm()
    zone = queries.pilot_zone(pilot)
    valid = form.validate_on_submit()
    opens_at, closes_at = form.opens_at.utc(zone), form.closes_at.utc(zone)
    if not valid or opens_at is None or form.closes_at.errors:
        return _back(pilot, error_messages(form) or ["Enter the new opening date and time."])
    try:
        pulse = services.move_pulse(
            pilot,
            pulse_id,
            opens_at=opens_at,
            closes_at=closes_at,
            now=utcnow(),
            actor=current_user,
        )
    except PulseError as exc:
        return _back(pilot, [str(exc)])
    db.session.commit()
    flash(f"{pulse.title!r} now opens {queries.local_time(pulse.opens_at, zone)}.", "success")
    return redirect(url_for(".show", pilot_id=pilot.id))


@bp.post("/<int:pilot_id>/pulses/<int:pulse_id>/skip")
@require_role(Role.HR)
def skip_pulse(pilot_id: int, pulse_id: int) -> Response:
    pilot = _load(pilot_id)
    if not SkipPulseForm().validate_on_submit():
        return _back(pilot, ["The form expired; please try again."])
    try:
        title = services.skip_pulse(pilot, pulse_id, now=utcnow(), actor=current_user)
    except PulseError as exc:
        return _back(pilot, [str(exc)])
    db.session.commit()
    flash(f"{title!r} was skipped and removed from the schedule.", "success")
    return redirect(url_for(".show", pilot_id=pilot.id))


@bp.post("/<int:pilot_id>/pulses")
@require_role(Role.HR)
def add_pulse(pilot_id: int) -> Response:
    pilot = _load(pilot_id)
    form = AddPulseForm()
    if not form.validate_on_submit():
        return _back(pilot, error_messages(form) or ["The form expired; please try again."])
    try:
        pulse = services.add_pulse(
            pilot,
            phase=Phase(form.phase.data),
            day=form.day.data,
            now=utcnow(),
            actor=current_user,
        )
    except PulseError as exc:
        return _back(pilot, [str(exc)])
    db.session.commit()
    flash(f"{pulse.title!r} was added to the schedule.", "success")
    return redirect(url_for(".show", pilot_id=pilot.id))


def _back(pilot: Pilot, messages: list[str]) -> Response:
    db.session.rollback()
    for message in messages:
        flash(message, "error")
    return redirect(url_for(".show", pilot_id=pilot.id))
