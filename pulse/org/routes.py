"""Directory pages for HR and the manager's home page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from pulse.auth.permissions import STAFF, require_role
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org import queries, services
from pulse.org.forms import PersonStatusForm
from pulse.org.models import Person, Role, Team
from pulse.org.permissions import can_view_team

bp = Blueprint("org", __name__)


@bp.get("/home")
@require_role(*STAFF)
def home() -> str:
    """The teams this person looks after, with head counts."""
    visible = queries.visible_team_ids(current_user)
    tree = queries.team_tree(visible)
    return render_template(
        "org/home.html",
        tree=tree,
        whole_org=visible is None,
        total=sum(node.total_count for node in tree),
    )


@bp.get("/directory")
@require_role(Role.HR)
def directory() -> str:
    tree = queries.team_tree()
    return render_template(
        "org/directory.html",
        tree=tree,
        people_count=queries.count_active_people(),
        team_count=len(queries.flatten(tree)),
    )


@bp.get("/directory/people")
@require_role(Role.HR)
def people() -> str:
    search = request.args.get("q", "").strip()[:200]
    team_id = request.args.get("team", type=int)
    role_value = request.args.get("role", "")
    role = Role(role_value) if role_value in {r.value for r in Role} else None
    include_inactive = request.args.get("inactive") == "1"
    team = db.session.get(Team, team_id) if team_id else None
    stmt = queries.people_query(
        search=search, team=team, role=role, include_inactive=include_inactive
    )
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], max_per_page=200)
    return render_template(
        "org/people.html",
        page=page,
        search=search,
        team=team,
        role=role,
        include_inactive=include_inactive,
        team_names=queries.full_team_names(),
        teams=queries.flatten(queries.team_tree()),
        roles=list(Role),
    )


@bp.get("/directory/teams/<int:team_id>")
@require_role(*STAFF)
def team(team_id: int) -> str:
    team = db.get_or_404(Team, team_id)
    if not can_view_team(current_user, team):
        abort(404)  # do not confirm that a team outside one's scope exists
    names = queries.full_team_names()
    members = db.session.scalars(
        queries.people_query(team=team).where(Person.team_id == team.id)
    ).all()
    subtree = queries.team_tree({c.id for c in team.children})
    return render_template(
        "org/team.html",
        team=team,
        full_name=names[team.id],
        members=members,
        subteams=subtree,
        can_manage=current_user.role is Role.HR,
    )


@bp.get("/directory/people/<int:person_id>")
@require_role(Role.HR)
def person(person_id: int) -> str:
    person = db.get_or_404(Person, person_id)
    return render_template(
        "org/person.html",
        person=person,
        team_names=queries.full_team_names(),
        form=PersonStatusForm(),
    )


@bp.post("/directory/people/<int:person_id>/deactivate")
@require_role(Role.HR)
def deactivate(person_id: int) -> Response:
    person = db.get_or_404(Person, person_id)
    if PersonStatusForm().validate_on_submit():
        if person.id == current_user.id:
            flash("You cannot deactivate your own account.", "error")
        else:
            services.deactivate_person(person, now=utcnow(), actor=current_user)
            db.session.commit()
            flash(f"{person.name} is deactivated. Their history is kept.", "success")
    return redirect(url_for(".person", person_id=person.id))


@bp.post("/directory/people/<int:person_id>/reactivate")
@require_role(Role.HR)
def reactivate(person_id: int) -> Response:
    person = db.get_or_404(Person, person_id)
    if PersonStatusForm().validate_on_submit():
        services.reactivate_person(person, now=utcnow(), actor=current_user)
        db.session.commit()
        flash(f"{person.name} is active again.", "success")
    return redirect(url_for(".person", person_id=person.id))
