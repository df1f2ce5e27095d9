"""Results views: the comments of a team's subtree, and tagging one comment with a topic."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from pulse.auth.permissions import require_role
from pulse.db import utcnow
from pulse.extensions import db
from pulse.results import comments as service
from pulse.results.forms import TagForm, back_params, comment_filters
from pulse.results.models import OUTCOMES
from pulse.results.routes import (
    RESULT_ROLES,
    bp,
    load_context,
    pick_pulse,
    require_team,
    scoped_pulses,
)
from pulse.surveys.models import Pulse, PulseState

# The team dashboard, linked when its page is registered (it lives in dashboard_routes.py).
DASHBOARD = "results.dashboard"


@dataclass(frozen=True)
class PulseChoice:
    id: int
    title: str
    open: bool


@dataclass(frozen=True)
class TeamLink:
    name: str
    url: str


def _log_action_urls(team_id: int, pulse: Pulse | None) -> dict[str, str]:
    """Links to log an action, per business outcome ("" for a topic: no outcome to prefill).

    Whoever may open a team's comments may log actions for it (actions.permissions)."""
    if pulse is None or "actions.new" not in current_app.view_functions:
        return {}
    urls = {
        code: url_for("actions.new", team=team_id, pulse=pulse.id, source="comments", outcome=code)
        for code in OUTCOMES
    }
    urls[""] = url_for("actions.new", team=team_id, pulse=pulse.id, source="comments")
    return urls


@bp.get("/teams/<int:team_id>/comments")
@require_role(*RESULT_ROLES)
def comments(team_id: int) -> str:
    """What people wrote, for a team and every team below it, when that group is large enough."""
    context = load_context(current_user)
    require_team(context, team_id)
    now = utcnow()
    scoped = scoped_pulses(context, [team_id])
    pulses = scoped.listed
    pulse_id = request.args.get("pulse", type=int)
    pulse = pick_pulse(pulses, pulse_id) if pulse_id is not None else None
    pulse = pulse or service.default_pulse(scoped.defaults, now)
    page = service.comments_page(
        tree=context.tree,
        groups=context.groups,
        openable=context.visible,
        team_id=team_id,
        pulse=pulse,
        filters=comment_filters(request.args),
        now=now,
    )
    choices = [
        PulseChoice(p.id, p.title, p.state(now) is PulseState.OPEN) for p in reversed(pulses)
    ]
    parent = context.tree.get(team_id)
    children = sorted(
        (t for t, p in context.tree.items() if p == team_id and t in context.visible),
        key=lambda t: context.names[t].lower(),
    )
    return render_template(
        "results/comments.html",
        page=page,
        team_name=context.names[team_id],
        pulses=choices,
        outcomes=OUTCOMES,
        log_action_urls=_log_action_urls(team_id, pulse),
        dashboard_url=_dashboard_url(team_id, pulse.id if pulse else None),
        parent=_team_link(parent, context.names, page)
        if parent is not None and parent in context.visible
        else None,
        children=[_team_link(t, context.names, page) for t in children],
    )


@bp.post("/comments/<comment_id>/tag")
@require_role(*RESULT_ROLES)
def tag_comment(comment_id: str) -> WerkzeugResponse:
    """Set, change or (with an empty topic) remove the tag of a comment the viewer can read."""
    context = load_context(current_user)
    now = utcnow()
    place = service.find_comment(comment_id)
    if place is None or not service.may_tag(
        place, tree=context.tree, groups=context.groups, openable=context.visible, now=now
    ):
        abort(404)  # outside the viewer's subtree or hidden by the gate: do not confirm it exists
    back = back_params(request.form)
    team_id = back.pop("team_id", None)
    if team_id not in context.visible:
        team_id = place.team_id
    form = TagForm()
    if form.validate_on_submit():
        try:
            tag = service.tag_comment(
                place.comment,
                topic=form.topic.data or "",
                outcome=form.outcome.data or None,
                actor=current_user,
                now=now,
            )
        except service.TagError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash("Tag saved." if tag else "Tag removed.", "success")
    else:
        flash(form.first_error(), "error")
    return redirect(
        url_for(
            ".comments",
            team_id=team_id,
            pulse=place.pulse.id,
            _anchor=f"comment-{comment_id}",
            **back,
        )
    )


def _dashboard_url(team_id: int, pulse_id: int | None) -> str | None:
    if DASHBOARD not in current_app.view_functions:
        return None
    return url_for(DASHBOARD, team_id=team_id, pulse=pulse_id)


def _team_link(team_id: int, names: dict[int, str], page: service.CommentsPage) -> TeamLink:
    pulse_id = page.pulse.id if page.pulse else None
    return TeamLink(names[team_id], url_for(".comments", team_id=team_id, pulse=pulse_id))
