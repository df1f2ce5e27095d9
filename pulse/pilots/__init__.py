"""Pilots: pilot and comparison teams, their scheduled pulses, and the pilot report."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from pulse.pilots import report_routes  # noqa: F401  (adds the report views to bp)
    from pulse.pilots.routes import bp

    app.register_blueprint(bp)
