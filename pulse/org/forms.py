"""Directory forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SubmitField


class PersonStatusForm(FlaskForm):
    """Deactivate or reactivate one person (a single button)."""

    submit = SubmitField("Save")


class ImportUploadForm(FlaskForm):
    """Choose a people CSV; the file itself is checked by pulse.org.importer, not here."""

    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to import.")])
    deactivate_missing = BooleanField("Deactivate people who are not in this file")
    submit = SubmitField("Preview import")


class ImportApplyForm(FlaskForm):
    """Confirm a previewed import (a single button, with its CSRF token)."""

    submit = SubmitField("Apply import")
