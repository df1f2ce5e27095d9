"""The actions blueprint: logging and following up actions, and "You said, we did"."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("actions", __name__)
