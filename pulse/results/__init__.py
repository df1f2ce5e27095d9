"""Team results: tallies, statistics, the anonymity gate, dashboards, heatmap, comments, exports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from pulse.results import (  # noqa: F401  (each adds its views to bp)
        comment_routes,
        dashboard_routes,
        heatmap_routes,
        metrics_routes,
    )
    from pulse.results.routes import bp

    app.register_blueprint(bp)
