"""The pilots blueprint: setting up pilots and their schedules (HR)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pilots", __name__, url_prefix="/pilots")
