"""The actions blueprint: logging and following up actions, and "You said, we did".

Staff pages load the viewer, authorise with pulse.actions.permissions (404 for anything outside
a manager's subtree, so existence is never confirmed), validate a form, call one service, commit
and redirect. Impact and rating figures come from pulse.actions.impact, through the gate. The
employee page is public: its link names a team (pulse.org.links), never a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from pulse import i18n
from pulse.actions import impact, queries, services
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
from pulse.actions.queries import ORG, Filters
from pulse.actions.services import ActionError, ActionFields, ActionLink
from pulse.auth.permissions import require_role
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.links import team_from_token
from pulse.org.models import Person, Role, Team
from pulse.org.queries import flatten, full_team_names, team_tree, visible_team_ids
from pulse.results import charts, exports
from pulse.results.models import OUTCOMES
from pulse.results.routes import load_context
from pulse.surveys.library import DIMENSIONS
from pulse.surveys.models import Pulse

bp = Blueprint("actions", __name__)

PER_PAGE = 25
ORG_NAME = "Whole organisation"


# --- shared helpers ------------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


def _visible_action(action_id: int) -> Action:
    action = db.get_or_404(Action, action_id)
    if not can_view_action(current_user, action):
        abort(404)
    return action


def _team_choices(person: Person) -> list[tuple[str, str]]:
    visible = visible_team_ids(person)
    nodes = flatten(team_tree(visible))
    choices = [(str(n.id), "\u00a0\u00a0" * n.depth + n.name) for n in nodes]
    return ([(ORG, ORG_NAME)] if acts_for_organisation(person) else []) + choices


def _set_choices(form: ActionForm, person: Person, current_owner: Person | None = None) -> None:
    form.team.choices = options(_team_choices(person))
    pulses = [(str(p.id), p.title) for p in queries.linkable_pulses()]
    form.pulse.choices = options([("", "None"), *pulses])
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


@dataclass(frozen=True)
class Prefill:
    data: dict[str, object]
    errors: dict[str, str]
    source: str


def _prefill(args: MultiDict[str, str], person: Person) -> Prefill:
    """What the page the action is logged from says: team, pulse, dimension, outcome, source.

    A team the viewer may not log for is a 404 (its existence is not confirmed); any other bad
    value becomes a message on its field.
    """
    data: dict[str, object] = {"owner": str(person.id)}
    errors: dict[str, str] = {}
    team_arg = args.get("team", "")
    if team_arg == ORG:
        if not acts_for_organisation(person):
            abort(404)
        data["team"] = ORG
    elif team_arg:
        team_id = _int(team_arg)
        team = db.session.get(Team, team_id) if team_id is not None else None
        if team is None or not can_log_for(person, team):
            abort(404)
        data["team"] = str(team.id)
    elif acts_for_organisation(person):
        data["team"] = ORG
    pulse_arg = args.get("pulse", "")
    if pulse_arg:
        pulse_id = _int(pulse_arg)
        pulse = db.session.get(Pulse, pulse_id) if pulse_id is not None else None
        if pulse is None:
            errors["pulse"] = "That pulse does not exist."
        elif not pulse.is_frozen:
            errors["pulse"] = "That pulse has not opened yet; choose one that has results."
        else:
            data["pulse"] = str(pulse_id)
    dimension = args.get("dimension", "")
    if dimension in services.ACTION_DIMENSIONS:
        data["dimension"] = dimension
    elif dimension:
        errors["dimension"] = "That is not a dimension Pulse reports."
    outcome = args.get("outcome", "")
    if outcome in OUTCOMES:
        data["outcome"] = outcome
    elif outcome:
        errors["outcome"] = "That is not one of the business outcomes."
    source = args.get("source", "actions")
    return Prefill(data, errors, source if source in services.SOURCES else "actions")


@bp.route("/actions/new", methods=["GET", "POST"])
@require_role(*ACTION_ROLES)
def new() -> tuple[str, int] | Response:
    """Log an action, linked to the team, pulse and dimension it answers."""
    prefill = _prefill(request.args, current_user)
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
    _set_choices(form, current_user, action.owner)
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


@dataclass(frozen=True)
class Entry:
    at: str
    author: str
    note: str
    change: str | None  # "Planned → In progress"
    visible: bool


def _timeline(action: Action) -> list[Entry]:
    entries = [Entry(_day(action.created_at.date()), _name(action.created_by), "", "Logged", True)]
    for u in action.updates:
        change = None
        if u.status_to is not None:
            change = f"{u.status_from.label if u.status_from else '—'} → {u.status_to.label}"
        entries.append(Entry(_day(u.at.date()), _name(u.author), u.note, change, u.visible))
    return entries


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def _name(person: Person | None) -> str:
    return person.name if person is not None else "Someone no longer in Pulse"


def _show_page(action: Action, form: UpdateForm | None) -> str:
    figures = impact.Figures(load_context(current_user), utcnow())
    return render_template(
        "actions/show.html",
        action=action,
        summary=_row(action, full_team_names(), utcnow().date()),
        timeline=_timeline(action),
        impact=impact.impact_for(action, figures),
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


@dataclass(frozen=True)
class Row:
    action: Action
    url: str
    team: str
    owner: str
    status: str
    dimension: str | None
    outcome: str | None
    due: str
    overdue: bool


def _row(action: Action, names: dict[int, str], today: date) -> Row:
    overdue = action.status.is_open and action.due_on is not None and action.due_on < today
    return Row(
        action=action,
        url=url_for("actions.show", action_id=action.id),
        team=names.get(action.team_id, "Team") if action.team_id is not None else ORG_NAME,
        owner=_name(action.owner) if action.owner_id is not None else "No owner",
        status=action.status.label,
        dimension=DIMENSIONS[action.dimension].name if action.dimension in DIMENSIONS else None,
        outcome=OUTCOMES.get(action.outcome or ""),
        due=_day(action.due_on),
        overdue=overdue,
    )


def _filters(args: MultiDict[str, str], person: Person) -> Filters:
    """The list's filters from query arguments; unknown values are ignored, a team outside a
    manager's subtree is a 404."""
    status = args.get("status", "")
    team_arg = args.get("team", "")
    team = None
    if team_arg and team_arg != ORG:
        team_id = _int(team_arg)
        team = db.session.get(Team, team_id) if team_id is not None else None
        if team is None or not can_log_for(person, team):
            abort(404)
    return Filters(
        status=ActionStatus(status) if status in {s.value for s in ActionStatus} else None,
        team=team,
        org_only=team_arg == ORG,
        dimension=args.get("dimension") if args.get("dimension") in DIMENSIONS else None,
        outcome=args.get("outcome") if args.get("outcome") in OUTCOMES else None,
        owner_id=_int(args.get("owner")),
        overdue=args.get("overdue") == "1",
    )


@bp.get("/actions")
@require_role(*ACTION_ROLES)
def index() -> str:
    """Managers: their actions, overdue first. Leaders and HR: the organisation's roll-up."""
    filters = _filters(request.args, current_user)
    today = utcnow().date()
    stmt = queries.actions_stmt(current_user, filters, today)
    page = db.paginate(
        queries.with_details(stmt),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    names = full_team_names()
    org = acts_for_organisation(current_user)
    summary = None
    if org:
        figures = impact.Figures(load_context(current_user), utcnow())
        summary = impact.rollup(queries.done_with_dimension(current_user), figures)
    return render_template(
        "actions/index.html",
        page=page,
        rows=[_row(a, names, today) for a in page.items],
        filters=filters,
        args=filters.args(),
        rollup=queries.rollup(stmt, today) if org else None,
        impact_summary=summary,
        team_choices=_team_choices(current_user),
        owners=queries.possible_owners(current_user),
        statuses=list(ActionStatus),
        dimensions=[(c, DIMENSIONS[c].name) for c in services.ACTION_DIMENSIONS],
        outcomes=list(OUTCOMES.items()),
        dimension_names={c: d.name for c, d in DIMENSIONS.items()},
        outcome_names=OUTCOMES,
        whole_org=org,
        csv_url=url_for(".export", **filters.args()),
        new_url=url_for(".new", source="actions"),
        results_url=url_for("results.index"),
    )


CSV_HEADER = (
    "id",
    "title",
    "team",
    "status",
    "overdue",
    "due_on",
    "completed_on",
    "owner",
    "dimension",
    "outcome",
    "pulse",
    "visible_to_employees",
    "score_at_pulse",
    "later_pulse",
    "score_later",
    "change",
    "change_low",
    "change_high",
    "verdict",
    "hidden_reason",
)


def _impact_cells(found: impact.Impact | None) -> tuple[exports.Cell, ...]:
    """Impact figures for the CSV: numbers only where the gate shows them, else the reason."""
    if found is None:
        return (None, None, None, None, None, None, None, None)
    before = charts.shown(found.code, found.before) if found.before else None
    after = charts.shown(found.code, found.after) if found.after else None
    comparison = found.change.comparison if found.change else None
    reasons = [
        r
        for r in (
            found.reason,
            found.before.reason if found.before and not found.before.visible else None,
            found.after.reason if found.after and not found.after.visible else None,
            found.after_reason,
        )
        if r
    ]
    return (
        before.value if before else None,
        found.after_title,
        after.value if after else None,
        comparison.diff if comparison else None,
        comparison.low if comparison else None,
        comparison.high if comparison else None,
        found.verdict,
        "; ".join(dict.fromkeys(reasons)) or None,
    )


@bp.get("/actions.csv")
@require_role(*ACTION_ROLES)
def export() -> Response:
    """The filtered list as CSV, with impact figures that passed the viewer's gate."""
    filters = _filters(request.args, current_user)
    today = utcnow().date()
    actions = db.session.scalars(
        queries.with_details(queries.actions_stmt(current_user, filters, today))
    ).all()
    names = full_team_names()
    figures = impact.Figures(load_context(current_user), utcnow())
    rows = []
    for action in actions:
        row = _row(action, names, today)
        rows.append(
            (
                action.id,
                action.title,
                row.team,
                row.status,
                row.overdue,
                action.due_on.isoformat() if action.due_on else None,
                action.completed_on.isoformat() if action.completed_on else None,
                row.owner,
                row.dimension,
                row.outcome,
                action.pulse.title if action.pulse else None,
                action.visible,
                *_impact_cells(impact.impact_for(action, figures)),
            )
        )
    return Response(
        exports.to_csv(rows, CSV_HEADER),
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
    flash(f"Added {seen}{asked.ratings} action rating question(s).", "success")
    return back


# --- "You said, we did" (public) -----------------------------------------------------------------


@dataclass(frozen=True)
class SharedUpdate:
    day: str
    note: str
    status: ActionStatus | None


@dataclass(frozen=True)
class SharedAction:
    title: str
    description: str
    scope: str | None  # team name, or None for the whole organisation
    due: str | None
    completed: str | None
    drop_reason: str | None
    updates: list[SharedUpdate]


def _local_day(value: date | None) -> str | None:
    return format_date(value, "long", locale=i18n.current_language()) if value else None


def _shared(action: Action) -> SharedAction:
    """What an employee sees: no owner, no author, no hidden update (the page is public)."""
    return SharedAction(
        title=action.title,
        description=action.description,
        scope=action.team.name if action.team is not None else None,
        due=_local_day(action.due_on),
        completed=_local_day(action.completed_on),
        drop_reason=action.drop_reason,
        updates=[
            SharedUpdate(_local_day(u.at.date()) or "", u.note, u.status_to)
            for u in reversed(action.updates)
            if u.visible
        ],
    )


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
    groups: dict[ActionStatus, list[SharedAction]] = {status: [] for status in ActionStatus}
    for action in actions:
        groups[action.status].append(_shared(action))
    return render_template(
        "actions/you_said.html",
        team_name=team.name,
        groups=[
            (status, groups[status])
            for status in (
                ActionStatus.IN_PROGRESS,
                ActionStatus.PLANNED,
                ActionStatus.DONE,
                ActionStatus.DROPPED,
            )
        ],
        empty=not actions,
        page_title=gettext("You said, we did"),
    )
