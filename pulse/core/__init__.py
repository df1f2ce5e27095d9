"""Cross-cutting web concerns: security headers, error pages, the front door."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from pulse.core import errors, nav, security
from pulse.core.routes import bp


def init_app(app: Flask) -> None:
    if app.config.get("PROXY_COUNT"):
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )
    security.init_app(app)
    errors.init_app(app)
    nav.init_app(app)
    app.register_blueprint(bp)
