"""The notify blueprint: the unsubscribe-from-reminders page employees reach from an email."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notify", __name__)
