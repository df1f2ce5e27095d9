"""The pilot report pages: the report itself and its CSV export.

HR and leaders may read any pilot's report; a manager only a pilot with an arm team inside, or
containing, a team they manage (anyone else gets 404, so a pilot's existence is not confirmed).
Every figure comes from pulse.pilots.report, which passes each unit's figures through the
organisation-wide anonymity gate; rows for single teams appear only for teams the viewer may
open.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, abort, current_app, render_template, request, url_for
from flask_login import current_user

from pulse.auth.permissions import require_role
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.models import Role
from pulse.pilots import analysis, charts, report
from pulse.pilots.analysis import Analysis
from pulse.pilots.models import Arm, Pilot
from pulse.pilots.queries import may_view
from pulse.pilots.routes import bp
from pulse.results import exports
from pulse.results.routes import load_context

REPORT_ROLES = (Role.MANAGER, Role.LEADER, Role.HR)


@bp.app_template_filter("pilot_score")
def pilot_score(value: float | None) -> str:
    """A 0-100 score in whole points; a dash where there is none."""
    return "\u2014" if value is None else str(round(value))


@bp.app_template_filter("pilot_signed")
def pilot_signed(value: float) -> str:
    return analysis.signed(value)


@bp.app_template_filter("pilot_interval")
def pilot_interval(interval: analysis.Interval) -> str:
    return analysis.interval_text(interval)


@bp.app_template_filter("pilot_metric")
def pilot_metric(value: float) -> str:
    """A metric to one decimal (two below 1, where per-person figures often are)."""
    return f"{value:.2f}" if abs(value) < 1 else f"{value:.1f}"


def _pilot_for_viewer(pilot_id: int) -> Pilot:
    pilot = db.session.get(Pilot, pilot_id)
    if pilot is None or not may_view(pilot, current_user):
        abort(404)
    return pilot


def _build(pilot: Pilot) -> report.PilotReport:
    context = load_context(current_user)
    return report.build(pilot, utcnow(), viewer=context.viewer, visible=context.visible)


def action_url(built: report.PilotReport, code: str) -> str | None:
    """ "Log an action" for a dimension, when the actions feature is installed: for the pilot
    team when there is exactly one, else for the whole organisation."""
    if "actions.new" not in current_app.view_functions:
        return None
    with_results = [p for p in built.pulses if p.has_results]
    values: dict[str, Any] = {"dimension": code, "source": "pilot"}
    if with_results:
        values["pulse"] = with_results[-1].pulse_id
    pilots = [u for u in built.units if u.arm is Arm.PILOT]
    if len(pilots) == 1:
        values["team"] = pilots[0].team_id
    return url_for("actions.new", **values)


# The endpoint is "pilots.report"; the function has another name so as not to hide the module.
@bp.get("/<int:pilot_id>/report", endpoint="report")
@require_role(*REPORT_ROLES)
def report_page(pilot_id: int) -> str:
    """Pilot versus comparison teams, per dimension, with the effect and how sure it is."""
    pilot = _pilot_for_viewer(pilot_id)
    built = _build(pilot)
    codes = [d.code for d in built.dimensions]
    chosen = request.args.get("dimension")
    if chosen not in codes:
        chosen = "burnout" if "burnout" in codes else (codes[0] if codes else None)
    detail = built.dimension(chosen)
    return render_template(
        "pilots/report.html",
        pilot=pilot,
        built=built,
        detail=detail,
        chart=charts.event_chart(detail, built.pulses) if detail else None,
        actions={d.code: action_url(built, d.code) for d in built.dimensions},
        csv_url=url_for("pilots.report_csv", pilot_id=pilot.id),
        outside_note=(
            f"{built.outside} of its teams {'is' if built.outside == 1 else 'are'} outside them."
        ),
    )


@bp.get("/<int:pilot_id>/report.csv")
@require_role(*REPORT_ROLES)
def report_csv(pilot_id: int) -> Response:
    """The report's gated figures, one per row, safe to open in a spreadsheet."""
    pilot = _pilot_for_viewer(pilot_id)
    built = _build(pilot)
    text = exports.to_csv(csv_rows(built), CSV_HEADER)
    response = Response(text, mimetype="text/csv")
    name = exports.export_filename("pilot-report", pilot.name)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


CSV_HEADER = ("section", "dimension", "group", "pulse", "measure", "value", "low", "high", "note")
Cell = str | int | float | None


def _effect_rows(name: str, result: Analysis) -> Iterator[tuple[Cell, ...]]:
    effect = result.effect
    after = result.after.title if result.after else None
    if effect is not None:
        for arm, before, later in (
            ("pilot", effect.pilot_before, effect.pilot_after),
            ("comparison", effect.comparison_before, effect.comparison_after),
        ):
            yield ("arm", name, arm, "baseline", "score", before.mean, None, None, None)
            yield ("arm", name, arm, after, "score", later.mean, None, None, None)
        yield (
            "effect",
            name,
            "pilot minus comparison",
            after,
            "difference in differences",
            effect.estimate,
            effect.interval.low,
            effect.interval.high,
            result.verdict,
        )
    elif result.before_after is not None:
        plain = result.before_after
        yield ("arm", name, "pilot", "baseline", "score", plain.before.mean, None, None, None)
        yield ("arm", name, "pilot", after, "score", plain.after.mean, None, None, None)
        yield (
            "effect",
            name,
            "pilot",
            after,
            "before/after change",
            plain.change,
            None,
            None,
            result.verdict,
        )
    else:
        yield ("effect", name, None, None, "verdict", None, None, None, result.verdict)
    if result.pre_trend is not None:
        trend = result.pre_trend.did
        yield (
            "pre-pilot trend",
            name,
            "pilot minus comparison",
            None,
            "difference in trend between baselines",
            trend.estimate,
            trend.interval.low,
            trend.interval.high,
            result.pre_trend.verdict,
        )
    for point in result.events:
        if point.did is None:
            continue
        yield (
            "event study",
            name,
            "pilot minus comparison",
            point.pulse.title,
            "gap against the baseline gap",
            point.did.estimate,
            point.did.interval.low,
            point.did.interval.high,
            None,
        )


def csv_rows(built: report.PilotReport) -> Iterator[tuple[Cell, ...]]:
    for line in built.pulses:
        for arm, count in (("pilot", line.pilot), ("comparison", line.comparison)):
            yield ("participation", None, arm, line.title, "teams", count.teams, None, None, None)
            yield (
                "participation",
                None,
                arm,
                line.title,
                "respondents",
                count.respondents,
                None,
                None,
                None,
            )
    for dimension in built.dimensions:
        yield from _effect_rows(dimension.name, dimension.result)
        for row in dimension.units:
            for measure, value in (
                ("baseline", row.baseline),
                ("latest", row.after),
                ("change", row.change),
            ):
                if value is not None:
                    yield (
                        "team",
                        dimension.name,
                        row.name,
                        None,
                        measure,
                        value,
                        None,
                        None,
                        row.arm.value,
                    )
    for metric in built.metrics:
        for arm, when, figure in (
            ("pilot", "before", metric.pilot_before),
            ("pilot", "during", metric.pilot_during),
            ("comparison", "before", metric.comparison_before),
            ("comparison", "during", metric.comparison_during),
        ):
            yield (
                "outcome",
                metric.label,
                arm,
                when,
                metric.unit,
                figure.value,
                None,
                None,
                figure.reason,
            )
