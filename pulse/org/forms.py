"""Directory forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField


class PersonStatusForm(FlaskForm):
    """Deactivate or reactivate one person (a single button)."""

    submit = SubmitField("Save")
