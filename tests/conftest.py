"""Shared fixtures: an app on a fresh SQLite file per test, a client, a CLI runner, login."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner

from pulse import create_app
from pulse.extensions import db
from tests.factories import PASSWORD


class IsolatedClient(FlaskClient):
    """Runs every request in a fresh context, as a real server would.

    Without this, a request made while the test holds an app context would reuse that context:
    the same database session and the same `g` (where Flask-Login caches the signed-in user), so
    a test could not see, for example, that a deactivated person's cookie stops working.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            # End the test's own transaction first: what it built becomes visible to the
            # request, and its SQLite write lock (BEGIN IMMEDIATE) does not block the request.
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


def build_app(database_url: str, instance: Path, **overrides: object) -> Flask:
    config: dict[str, object] = {
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),
    }
    config.update(overrides)
    app = create_app(config, environ={"PULSE_INSTANCE_PATH": str(instance)})
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(f"sqlite:///{tmp_path / 'pulse.db'}", tmp_path / "instance")
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form and check that it worked."""
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert "/login" not in response.headers["Location"]


# --- PostgreSQL ---------------------------------------------------------------------------------
# `make test` starts a local server, creates a fresh database and sets PULSE_TEST_POSTGRES_URL;
# it also sets PULSE_REQUIRE_POSTGRES=1 so a missing server fails the run instead of skipping.


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("PULSE_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("PULSE_REQUIRE_POSTGRES") == "1":
            pytest.fail(
                "PULSE_REQUIRE_POSTGRES=1 but PULSE_TEST_POSTGRES_URL is not set; "
                "run the suite with make test, which starts PostgreSQL and sets it"
            )
        pytest.skip("PostgreSQL not configured: run make test")
    return url


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Like `app`, on PostgreSQL: every table dropped and created again for each test."""
    app = build_app(postgres_url, tmp_path / "instance")
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()
