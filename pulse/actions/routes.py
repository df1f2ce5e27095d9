"""The actions blueprint: logging and following up actions, and "You said, we did".

Staff pages load the viewer, authorise with pulse.actions.permissions (404 for anything outside
a manager's subtree, so existence is never confirmed), validate a form, call one service, commit
and redirect. Impact and rating figures come from pulse.actions.impact, through the gate. The
employee page is public: its link names a team (pulse.org.links), never a person.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from pulse import i18n
from pulse.actions import impact, presenters, queries, services
from pulse.actions.forms import ActionForm, AskForm, UpdateForm, options
from pulse.actions.models import Action, ActionStatus
from pulse.actions.permissions import (
    ACTION_ROLES,
    acts_for_organisation,
    can_edit_action,
    can_log_for,
    can_own,
    can_update_action,
    can_view_action,
)
from pulse.actions.presenters import ORG_NAME
from pulse.actions.queries import ORG, Filters
from pulse.actions.services import ActionError, ActionFields, ActionLink
from pulse.auth.permissions import require_role
from pulse.core.pagination import clamped_page, plural
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.links import team_from_token
from pulse.org.models import Person, Role, Team
from pulse.org.queries import flatten, full_team_names, team_tree, visible_team_ids
from pulse.results import exports
from pulse.results.models import OUTCOMES
from pulse.results.routes import load_context
from pulse.surveys.library import DIMENSIONS
from pulse.surveys.models import Pulse

bp = Blueprint("actions", __name__)

PER_PAGE = 25


# --- shared helpers ------------------------------------------------------------------------------


def _visible_action(action_id: int) -> Action:
    action = db.get_or_404(Action, action_id)
    if not can_view_action(current_user, action):
        abort(404)
    return action


def _filters() -> Filters:
    """The list's filters from the query string; a team the viewer may not use is a 404."""
    try:
        return presenters.filters(request.args, current_user)
    except presenters.NotAllowed:
        abort(404)


def _team_choices(person: Person) -> list[tuple[str, str]]:
    visible = visible_team_ids(person)
    nodes = flatten(team_tree(visible))
    choices = [(str(n.id), "\u00a0\u00a0" * n.depth + n.name) for n in nodes]
    return ([(ORG, ORG_NAME)] if acts_for_organisation(person) else []) + choices


def _set_choices(
    form: ActionForm,
    person: Person,
    current_owner: Person | None = None,
    current_pulse: Pulse | None = None,
) -> None:
    form.team.choices = options(_team_choices(person))
    team, whole_org = presenters.chosen_team(form.team.data, person)
    linkable = queries.linkable_pulses(person, team, whole_org=whole_org)
    if current_pulse is not None and current_pulse not in linkable:
        linkable.insert(0, current_pulse)  # keep the pulse an action already points back to
    form.pulse.choices = options([("", "None"), *((str(p.id), p.title) for p in linkable)])
    owners = queries.possible_owners(person)
    if current_owner is not None and current_owner not in owners:
        owners.insert(0, current_owner)  # keep the owner a leader chose when a manager edits
    form.owner.choices = options([(str(p.id), f"{p.name} ({p.role.label})") for p in owners])


def _link_and_fields(
    form: ActionForm, source: str, current_owner: Person | None
) -> tuple[ActionLink, ActionFields]:
    """Turn a validated form into service arguments; 404 for a team the viewer cannot use."""
    team = None if form.team.data == ORG else db.session.get(Team, int(form.team.data or 0))
    if (team is None and form.team.data != ORG) or not can_log_for(current_user, team):
        abort(404)
    owner = db.session.get(Person, int(form.owner.data or 0))
    if owner is None or (owner != current_owner and not can_own(current_user, owner)):
        abort(404)
    pulse = db.session.get(Pulse, int(form.pulse.data)) if form.pulse.data else None
    link = ActionLink(team, pulse, form.dimension.data or None, source)
    fields = ActionFields(
        title=form.title.data or "",
        description=form.description.data or "",
        outcome=form.outcome.data or None,
        owner=owner,
        due_on=form.due_on.data,
        status=ActionStatus(form.status.data),
        drop_reason=form.drop_reason.data,
        visible=bool(form.visible.data),
    )
    return link, fields


def _service_error(form: ActionForm | UpdateForm, exc: ActionError) -> None:
    target = {
        services.DropNeedsReason: form.drop_reason,
        services.NothingToRecord: getattr(form, "note", None),
        services.TitleRequired: getattr(form, "title", None),
        services.UnknownDimension: getattr(form, "dimension", None),
        services.UnknownOutcome: getattr(form, "outcome", None),
    }.get(type(exc))
    if target is not None:
        target.errors = [*target.errors, str(exc)]
    else:
        flash(str(exc), "error")


# --- logging an action ---------------------------------------------------------------------------


@bp.route("/actions/new", methods=["GET", "POST"])
@require_role(*ACTION_ROLES)
def new() -> tuple[str, int] | Response:
    """Log an action, linked to the team, pulse and dimension it answers."""
    try:
        prefill = presenters.prefill(request.args, current_user)
    except presenters.NotAllowed:
        abort(404)
    form = ActionForm(data=prefill.data) if request.method == "GET" else ActionForm()
    _set_choices(form, current_user)
    for name, message in prefill.errors.items():
        form[name].errors = [message]
    if form.validate_on_submit():
        link, fields = _link_and_fields(form, prefill.source, None)
        try:
            action = services.log_action(link, fields, actor=current_user, now=utcnow())
        except ActionError as exc:
            _service_error(form, exc)
        else:
            db.session.commit()
            flash("Action logged.", "success")
            return redirect(url_for(".show", action_id=action.id), code=303)
    status = 400 if request.method == "POST" else 200
    html = render_template("actions/form.html", form=form, action=None, form_url=request.full_path)
    return html, status


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@require_role(*ACTION_ROLES)
def edit(action_id: int) -> tuple[str, int] | Response:
    action = _visible_action(action_id)
    if not can_edit_action(current_user, action):
        abort(404)
    form = ActionForm(data=_action_data(action)) if request.method == "GET" else ActionForm()
    _set_choices(form, current_user, action.owner, action.pulse)
    if form.validate_on_submit():
        link, fields = _link_and_fields(form, action.source, action.owner)
        try:
            services.edit_action(action, link, fields, actor=current_user, now=utcnow())
        except ActionError as exc:
            _service_error(form, exc)
        else:
            db.session.commit()
            flash("Action saved.", "success")
            return redirect(url_for(".show", action_id=action.id), code=303)
    status = 400 if request.method == "POST" else 200
    html = render_template(
        "actions/form.html",
        form=form,
        action=action,
        form_url=url_for(".edit", action_id=action.id),
    )
    return html, status


def _action_data(action: Action) -> dict[str, object]:
    return {
        "title": action.title,
        "description": action.description,
        "due_on": action.due_on,
        "team": str(action.team_id) if action.team_id is not None else ORG,
        "pulse": str(action.pulse_id) if action.pulse_id is not None else "",
        "dimension": action.dimension or "",
        "outcome": action.outcome or "",
        "owner": str(action.owner_id) if action.owner_id is not None else "",
        "status": action.status.value,
        "drop_reason": action.drop_reason or "",
        "visible": action.visible,
    }


# --- one action ----------------------------------------------------------------------------------


def _show_page(action: Action, form: UpdateForm | None) -> str:
    figures = impact.Figures(load_context(current_user), utcnow())
    found = impact.impact_for(action, figures)
    return render_template(
        "actions/show.html",
        action=action,
        summary=presenters.row(action, full_team_names(), utcnow().date()),
        timeline=presenters.timeline(action),
        impact=found,
        pilot_effect=presenters.pilot_effect_text(found.pilot if found else None),
        ratings=impact.ratings_for(action, queries.rating_questions(action), figures),
        form=form,
        edit_url=(
            url_for(".edit", action_id=action.id) if can_edit_action(current_user, action) else None
        ),
    )


@bp.get("/actions/<int:action_id>")
@require_role(*ACTION_ROLES)
def show(action_id: int) -> str:
    """Details, the dated timeline, the impact on the targeted score and the team's ratings."""
    action = _visible_action(action_id)
    return _show_page(action, UpdateForm() if can_update_action(current_user, action) else None)


@bp.post("/actions/<int:action_id>/update")
@require_role(*ACTION_ROLES)
def add_update(action_id: int) -> Response | tuple[str, int]:
    """A dated timeline entry: a note and/or a status change."""
    action = _visible_action(action_id)
    if not can_update_action(current_user, action):
        abort(404)
    form = UpdateForm()
    if form.validate_on_submit():
        try:
            services.add_update(
                action,
                note=form.note.data or "",
                status=ActionStatus(form.status.data) if form.status.data else None,
                drop_reason=form.drop_reason.data,
                visible=bool(form.visible.data),
                actor=current_user,
                now=utcnow(),
            )
        except ActionError as exc:
            _service_error(form, exc)
        else:
            db.session.commit()
            flash("Update added.", "success")
            return redirect(url_for(".show", action_id=action.id), code=303)
    return _show_page(action, form), 400


# --- lists ---------------------------------------------------------------------------------------


@bp.get("/actions")
@require_role(*ACTION_ROLES)
def index() -> str:
    """Managers: their actions, overdue first. Leaders and HR: the organisation's roll-up."""
    filters = _filters()
    today = utcnow().date()
    stmt = queries.actions_stmt(current_user, filters, today)
    page = clamped_page(
        lambda n: db.paginate(
            queries.with_details(stmt), page=n, per_page=PER_PAGE, error_out=False
        ),
        request.args.get("page"),
    )
    names = full_team_names()
    org = acts_for_organisation(current_user)
    summary: impact.ImpactSummary | None = None
    rollup: queries.Rollup | None = None
    if org:
        figures = impact.Figures(load_context(current_user), utcnow())
        summary = impact.rollup(queries.done_with_dimension(current_user), figures)
        rollup = queries.rollup(stmt, today)
    return render_template(
        "actions/index.html",
        page=page,
        rows=[presenters.row(a, names, today) for a in page.items],
        filters=filters,
        args=filters.args(),
        rollup=rollup,
        rollup_lines=presenters.rollup_lines(rollup) if rollup else None,
        impact_summary=summary,
        finished=presenters.finished_actions(summary),
        team_choices=_team_choices(current_user),
        owners=queries.possible_owners(current_user),
        statuses=list(ActionStatus),
        dimensions=[(c, DIMENSIONS[c].name) for c in services.ACTION_DIMENSIONS],
        outcomes=list(OUTCOMES.items()),
        whole_org=org,
        csv_url=url_for(".export", **filters.args()),
        new_url=url_for(".new", source="actions"),
        results_url=url_for("results.index"),
        clear_url=url_for(".index"),
    )


@bp.get("/actions.csv")
@require_role(*ACTION_ROLES)
def export() -> Response:
    """The filtered list as CSV, with impact figures that passed the viewer's gate."""
    today = utcnow().date()
    actions = db.session.scalars(
        queries.with_details(queries.actions_stmt(current_user, _filters(), today))
    ).all()
    figures = impact.Figures(load_context(current_user), utcnow())
    rows = presenters.csv_rows(actions, full_team_names(), today, figures)
    return Response(
        exports.to_csv(rows, presenters.CSV_HEADER),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="actions.csv"'},
    )


# --- asking about actions in a pulse ---------------------------------------------------------


@bp.post("/actions/pulses/<int:pulse_id>/ask")
@require_role(Role.HR)
def ask_in_pulse(pulse_id: int) -> Response:
    """Add "have you seen changes" and a rating of each visible action to a pulse not yet open."""
    pulse = db.get_or_404(Pulse, pulse_id)
    back = redirect(url_for("surveys.pulse", pulse_id=pulse.id), code=303)
    if not AskForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return back
    now = utcnow()
    try:
        asked = services.ask_in_pulse(
            pulse, queries.actions_to_ask_about(pulse, now.date()), actor=current_user, now=now
        )
    except ActionError as exc:
        flash(str(exc), "error")
        return back
    db.session.commit()
    seen = "the “seen changes” question and " if asked.seen_changes else ""
    questions = plural(asked.ratings, "rating question", "rating questions")
    flash(f"Added {seen}{questions} about actions.", "success")
    return back


# --- "You said, we did" (public) -----------------------------------------------------------------


@bp.get("/you-said-we-did/<token>")
def you_said(token: str) -> str:
    """A team's visible actions, grouped by status, in the employee's language."""
    team_id = team_from_token(token, current_app.config["SECRET_KEY"])
    team = db.session.get(Team, team_id) if team_id is not None else None
    if team is None:
        abort(404)
    language = i18n.supported_language(request.args.get("lang"))
    if language:
        i18n.remember_language(language)
    actions = queries.shared_with_team(team, utcnow().date())
    return render_template(
        "actions/you_said.html",
        team_name=team.name,
        groups=presenters.shared_groups(actions),
        empty=not actions,
        page_title=gettext("You said, we did"),
    )
