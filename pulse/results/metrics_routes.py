"""Outcome metric pages (HR): import a CSV with a preview first, and list what is stored.

The flow mirrors the directory import (pulse/org/import_routes.py): a valid upload waits under
instance/imports/metrics-<token>.csv between the preview and the apply, the token is kept in the
session, and the file is checked again against the database when HR applies it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import SubmitField

from pulse.auth.permissions import require_role
from pulse.core.pagination import clamped_page, plural
from pulse.core.uploads import UploadStore
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org.importer import ERROR_LIMIT, Capped, LineError, capped
from pulse.org.models import Role
from pulse.org.queries import full_team_names
from pulse.results import metrics as outcome_metrics
from pulse.results import metrics_import as importer
from pulse.results.models import OutcomeMetric
from pulse.results.routes import bp

_SESSION_KEY = "metrics_import"
_uploads = UploadStore("metrics-")
LIST_LIMIT = 100
PER_PAGE = 50
STALE_MESSAGE = (
    "That import is no longer available: it was applied, replaced by a newer upload, or it "
    "expired. Please upload the file again."
)


class MetricsUploadForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to import.")])
    submit = SubmitField("Preview import")


class MetricsApplyForm(FlaskForm):
    submit = SubmitField("Apply import")


def _limits() -> dict[str, int | None]:
    config = current_app.config
    return {"max_rows": config["IMPORT_MAX_ROWS"], "max_bytes": config.get("MAX_CONTENT_LENGTH")}


@bp.route("/metrics/import", methods=["GET", "POST"])
@require_role(Role.HR)
def metrics_import() -> Response | str | tuple[str, int]:
    """Upload a file; if every line is valid, keep it and show the preview."""
    form = MetricsUploadForm()
    token = request.args.get("token", "")
    if not form.is_submitted() and token:
        data = _pending(token)
        if data is None:
            flash(STALE_MESSAGE, "warning")
            return redirect(url_for(".metrics_import"))
        plan = importer.preview_metrics(data, **_limits())  # type: ignore[arg-type]
        return render_template(
            "results/metrics_preview.html",
            plan=plan,
            token=token,
            form=MetricsApplyForm(),
            errors=capped(plan.errors, ERROR_LIMIT),
            new=capped(plan.new, LIST_LIMIT),
            changed=capped(plan.changed, LIST_LIMIT),
            labels=outcome_metrics.METRICS,
            rows_in_file=plural(plan.rows, "figure", "figures"),
            problems=plural(len(plan.errors), "problem", "problems"),
        )
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return _upload_page(form, None), status
    data = form.file.data.read()
    plan = importer.preview_metrics(data, **_limits())  # type: ignore[arg-type]
    if plan.errors:
        errors = capped(plan.errors, ERROR_LIMIT)
        return _upload_page(form, errors), 400
    token = _store(data)
    session[_SESSION_KEY] = token
    return redirect(url_for(".metrics_import", token=token))


@bp.post("/metrics/import/<token>/apply")
@require_role(Role.HR)
def metrics_import_apply(token: str) -> Response | tuple[str, int]:
    """Check the stored file once more and write all of it, or nothing."""
    data = _pending(token)
    if data is None or not MetricsApplyForm().validate_on_submit():
        flash(STALE_MESSAGE, "warning")
        return redirect(url_for(".metrics_import"))
    plan = importer.import_metrics(
        data,
        now=utcnow(),
        actor=current_user,
        **_limits(),  # type: ignore[arg-type]
    )
    if plan.errors:  # the teams changed since the preview
        db.session.rollback()
        return _upload_page(MetricsUploadForm(), capped(plan.errors, ERROR_LIMIT)), 409
    db.session.commit()
    _discard(token)
    session.pop(_SESSION_KEY, None)
    if plan.has_changes:
        flash(f"Imported outcome figures: {plan.summary()}.", "success")
    else:
        flash("Nothing to change: every figure in the file was already stored.", "info")
    return redirect(url_for(".metrics"))


@bp.get("/metrics")
@require_role(Role.HR)
def metrics() -> str:
    """Stored figures by metric and period, newest period first."""
    metric = request.args.get("metric", "")
    metric = metric if metric in outcome_metrics.METRICS else ""
    page = clamped_page(
        lambda n: outcome_metrics.stored_page(metric=metric, page=n, per_page=PER_PAGE),
        request.args.get("page"),
    )
    return render_template(
        "results/metrics_list.html",
        page=page,
        definitions=outcome_metrics.METRICS,
        lines=_lines(page.items, full_team_names()),
        metric=metric,
        args={"metric": metric} if metric else {},
        min_people=outcome_metrics.OUTCOME_K,
    )


@dataclass(frozen=True)
class StoredLine:
    """One stored figure as the list shows it."""

    metric: str
    period: str
    team: str
    value: str
    imported_at: datetime


def _lines(rows: Iterable[OutcomeMetric], names: Mapping[int, str]) -> list[StoredLine]:
    lines = []
    for row in rows:
        known = outcome_metrics.METRICS.get(row.metric)
        value = f"{row.value:g} {known.unit}" if known else f"{row.value:g}"
        lines.append(
            StoredLine(
                metric=known.label if known else row.metric,
                period=f"{row.period_start.isoformat()} to {row.period_end.isoformat()}",
                team=names.get(row.team_id, "Team"),
                value=value,
                imported_at=row.imported_at,
            )
        )
    return lines


def _upload_page(form: MetricsUploadForm, errors: Capped[LineError] | None) -> str:
    return render_template(
        "results/metrics_import.html",
        form=form,
        errors=errors,
        problems=plural(errors.total, "problem", "problems") if errors else None,
        definitions=outcome_metrics.METRICS,
        min_people=outcome_metrics.OUTCOME_K,
    )


# --- Stored uploads -----------------------------------------------------------------------------


def _store(data: bytes) -> str:
    """Keep the bytes until HR applies them (this session's previous upload is dropped)."""
    previous = session.get(_SESSION_KEY)
    return _uploads.store(data, replacing=previous if isinstance(previous, str) else None)


def _pending(token: str) -> bytes | None:
    """The stored file for `token`, if this session uploaded it and it still exists."""
    return _uploads.read(token) if session.get(_SESSION_KEY) == token else None


def _discard(token: str) -> None:
    _uploads.discard(token)
