"""Results views: the results home and a team's dashboard.

Both read only what pulse.results.report returns for the viewer's whole family of groups, so
every figure on these pages has passed the anonymity gate; charts come from
pulse.results.charts. The `*_text` template filters registered here word single figures and are
shared by every results template (templates/results/_score.html).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from pulse.auth.permissions import require_role
from pulse.db import utcnow
from pulse.org.models import Role
from pulse.results import charts, gate, metrics, report
from pulse.results.routes import (
    RESULT_ROLES,
    Context,
    bp,
    history_until,
    load_context,
    pick_pulse,
    pulses_with_results,
    require_team,
    scoped_pulses,
)
from pulse.surveys.models import Pulse, PulseState, ReleaseMode

for _name in (
    "score_text",
    "score_interval_text",
    "percent_text",
    "share_interval_text",
    "change_text",
    "change_interval_text",
    "mean_text",
    "mean_interval_text",
):
    bp.add_app_template_filter(getattr(charts, _name), _name)


def optional_url(endpoint: str, **values: Any) -> str | None:
    """A link to a page another part of the app may not have registered yet (None if so)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@dataclass(frozen=True)
class PulseLine:
    """A pulse on the results home: when it ran and whether its results can be read yet."""

    pulse: Pulse
    state: PulseState
    note: str | None


def pulse_note(pulse: Pulse, state: PulseState) -> str | None:
    if state is not PulseState.OPEN:
        return None
    if pulse.release is ReleaseMode.STEPS:
        return (
            f"Still open: results are released in steps of {pulse.min_group} answers "
            "until it closes."
        )
    return "Still open: results appear when the pulse closes."


def default_pulse(pulses: list[Pulse], now: datetime) -> Pulse | None:
    """The newest pulse with something to read: closed, or releasing in steps while open."""
    for pulse in reversed(pulses):
        if pulse.state(now) is PulseState.CLOSED or pulse.release is ReleaseMode.STEPS:
            return pulse
    return pulses[-1] if pulses else None


@dataclass
class TeamNode:
    id: int
    name: str
    children: list[TeamNode] = field(default_factory=list)


def team_tree(context: Context) -> list[TeamNode]:
    """The viewer's teams nested as in the organisation, from the flat tree order."""
    roots: list[TeamNode] = []
    stack: list[tuple[int, TeamNode]] = []  # (depth, node) of the current branch
    for team_id, depth in context.team_order():
        node = TeamNode(team_id, context.names.get(team_id, "Team"))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((depth, node))
    return roots


@bp.get("/")
@require_role(*RESULT_ROLES)
def index() -> str:
    """Pulses with results and the teams this viewer may open."""
    context = load_context(current_user)
    now = utcnow()
    pulses = [
        PulseLine(p, p.state(now), pulse_note(p, p.state(now))) for p in pulses_with_results()
    ]
    return render_template(
        "results/index.html",
        pulses=list(reversed(pulses)),
        teams=team_tree(context),
        whole_org=context.viewer.whole_org,
        heatmap_url=optional_url("results.heatmap"),
    )


@bp.get("/teams/<int:team_id>")
@require_role(*RESULT_ROLES)
def dashboard(team_id: int) -> str:
    """One team's results, for it and every team inside it, for one pulse."""
    context = load_context(current_user)
    require_team(context, team_id)
    scoped = scoped_pulses(context, [team_id])
    pulses = scoped.listed
    latest = default_pulse(scoped.defaults, utcnow())
    requested = request.args.get("pulse", type=int)
    pulse = pick_pulse(pulses, requested) if requested else latest
    outcomes = _outcomes(context, team_id)
    if pulse is None or latest is None:
        return render_template(
            "results/dashboard.html",
            board=None,
            team_name=context.names.get(team_id, "Team"),
            **outcomes,
        )
    parent_id = context.tree.get(team_id)
    parent_is_org = parent_id is not None and gate.roots(context.tree) == [parent_id]
    board = report.dashboard(
        context.tree,
        context.names,
        context.groups,
        team_id,
        history_until(context, scoped.history(pulse), pulse),
    )
    return render_template(
        "results/dashboard.html",
        board=board,
        charts=charts.dashboard_charts(board, parent_is_org),
        parent_is_org=parent_is_org,
        team_id=team_id,
        team_name=board.title,
        pulse=pulse,
        pulses=list(reversed(pulses)),
        open_note=pulse_note(pulse, pulse.state(utcnow())),
        links={
            "heatmap": optional_url("results.heatmap", pulse=pulse.id),
            "comments": optional_url("results.comments", team_id=team_id, pulse=pulse.id),
            "csv": optional_url("results.dashboard_csv", team_id=team_id, pulse=pulse.id),
            "latest": url_for(".dashboard", team_id=team_id) if latest.id != pulse.id else None,
        },
        # Every viewer of this dashboard may log actions for this team (managers see only
        # their subtree; leaders and HR everything), so each dimension gets a link.
        log_action_urls={
            row.code: optional_url(
                "actions.new", team=team_id, pulse=pulse.id, dimension=row.code, source="dashboard"
            )
            for row in board.rows
        },
        **outcomes,
    )


def _outcomes(context: Context, team_id: int) -> dict[str, Any]:
    """The "Business outcomes" panel (gated on head counts) and, for HR, the import link."""
    is_hr = current_user.role is Role.HR
    return {
        "outcomes": metrics.team_outcomes(context.prepared(), context.tree, team_id),
        "outcomes_import_url": optional_url("results.metrics_import") if is_hr else None,
    }
