"""The employee side: invitation links, the answer form, thanks and the protection page."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("respond", __name__)
