"""HR's directory import: upload a people CSV, preview what would change, then apply it.

The uploaded bytes wait under instance/imports/<token>.csv between the preview and the apply, so
nothing reaches the directory before HR has seen the preview; the token is remembered in the
session, and the file is checked again against the directory as it is when HR applies it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from pulse.auth.permissions import require_role
from pulse.core.uploads import UploadStore
from pulse.db import utcnow
from pulse.extensions import db
from pulse.org import services
from pulse.org.forms import ImportApplyForm, ImportUploadForm
from pulse.org.importer import ERROR_LIMIT, ImportPlan, capped
from pulse.org.models import Role
from pulse.org.routes import bp

_SESSION_KEY = "directory_import"
_uploads = UploadStore("")
LIST_LIMIT = 100
STALE_MESSAGE = (
    "That import is no longer available: it was applied, replaced by a newer upload, or it "
    "expired. Please upload the file again."
)


@bp.route("/directory/import", methods=["GET", "POST"])
@require_role(Role.HR)
def import_upload() -> Response | str | tuple[str, int]:
    """Upload a file; if every line is valid, keep it and show the preview."""
    form = ImportUploadForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("org/import_upload.html", form=form, errors=None), status
    data = form.file.data.read()
    deactivate_missing = bool(form.deactivate_missing.data)
    plan = services.preview_import(data, deactivate_missing=deactivate_missing, **_import_options())
    if plan.errors:
        errors = capped(plan.errors, ERROR_LIMIT)
        return render_template("org/import_upload.html", form=form, errors=errors), 400
    token = _store_upload(data)
    session[_SESSION_KEY] = {"token": token, "deactivate_missing": deactivate_missing}
    return redirect(url_for(".import_preview", token=token))


@bp.get("/directory/import/<token>")
@require_role(Role.HR)
def import_preview(token: str) -> Response | str:
    """What the import would do, checked against the directory as it is now."""
    pending = _pending_upload(token)
    if pending is None:
        flash(STALE_MESSAGE, "warning")
        return redirect(url_for(".import_upload"))
    data, deactivate_missing = pending
    plan = services.preview_import(data, deactivate_missing=deactivate_missing, **_import_options())
    return render_template(
        "org/import_preview.html", token=token, form=ImportApplyForm(), **_preview(plan)
    )


@bp.post("/directory/import/<token>/apply")
@require_role(Role.HR)
def import_apply(token: str) -> Response | tuple[str, int]:
    """Check the stored file once more and apply all of it, or nothing."""
    pending = _pending_upload(token)
    if pending is None or not ImportApplyForm().validate_on_submit():
        flash(STALE_MESSAGE, "warning")
        return redirect(url_for(".import_upload"))
    data, deactivate_missing = pending
    plan = services.import_directory(
        data, deactivate_missing=deactivate_missing, now=utcnow(), **_import_options()
    )
    if plan.errors:  # the directory changed since the preview and the file no longer fits
        db.session.rollback()
        html = render_template(
            "org/import_preview.html", token=token, form=ImportApplyForm(), **_preview(plan)
        )
        return html, 409
    db.session.commit()
    _discard_upload(token)
    session.pop(_SESSION_KEY, None)
    if plan.has_changes:
        flash(f"Imported: {plan.counts}.", "success")
    else:
        flash("Nothing to change: the directory already matched the file.", "info")
    return redirect(url_for(".directory"))


def _import_options() -> dict[str, Any]:
    config = current_app.config
    return {
        "actor": current_user,
        "max_rows": config["IMPORT_MAX_ROWS"],
        "max_bytes": config.get("MAX_CONTENT_LENGTH"),
    }


def _preview(plan: ImportPlan) -> dict[str, Any]:
    """Counts and capped lists for the preview page (long lists end with "and N more")."""
    return {
        "plan": plan,
        "counts": plan.counts,
        "errors": capped(plan.errors, ERROR_LIMIT),
        "new": capped(plan.new, LIST_LIMIT),
        "changed": capped(plan.changed, LIST_LIMIT),
        "reactivated": capped(plan.reactivated, LIST_LIMIT),
        "deactivated": capped(plan.deactivated, LIST_LIMIT),
        "teams": capped([plan.label(key) for key in plan.teams_to_create], LIST_LIMIT),
    }


# --- Stored uploads ----------------------------------------------------------------------------


def _store_upload(data: bytes) -> str:
    """Keep the bytes until HR applies them (this session's previous upload is dropped)."""
    previous = session.get(_SESSION_KEY)
    replacing = str(previous.get("token", "")) if isinstance(previous, dict) else None
    return _uploads.store(data, replacing=replacing)


def _pending_upload(token: str) -> tuple[bytes, bool] | None:
    """The stored file and options for `token`, if this session uploaded it and it still exists."""
    pending = session.get(_SESSION_KEY)
    if not isinstance(pending, dict) or pending.get("token") != token:
        return None
    data = _uploads.read(token)
    return None if data is None else (data, bool(pending.get("deactivate_missing")))


def _discard_upload(token: str) -> None:
    _uploads.discard(token)
