"""Security headers and error pages."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from pulse.extensions import db
from pulse.org.models import Role
from tests.conftest import login
from tests.factories import make_staff


def test_every_page_sends_the_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # development: plain HTTP


def test_static_files_may_be_cached(client: FlaskClient) -> None:
    response = client.get("/static/pulse.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_server_error_shows_no_traceback(app: Flask, client: FlaskClient) -> None:
    def explode() -> str:
        raise RuntimeError("SELECT secret FROM table")

    app.add_url_rule("/explode", "explode", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/explode")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "SELECT" not in body and "Traceback" not in body


def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused(tmp_path: object) -> None:
    from pathlib import Path

    from tests.conftest import build_app

    base = Path(str(tmp_path))
    app = build_app(f"sqlite:///{base / 'csrf.db'}", base / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        hr = make_staff(Role.HR, email="hr@example.com")
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert 'name="csrf_token"' in page
        refused = client.post("/login", data={"email": hr.email, "password": "x"})
        assert refused.status_code == 400
        assert "This form has expired" in refused.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_html_in_names_is_escaped(client: FlaskClient) -> None:
    make_staff(Role.HR, email="hr@example.com", name='<script>alert(1)</script>"><img onerror=x>')
    login(client, "hr@example.com")
    body = client.get("/directory/people").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
