"""Shared fixtures: an app on a fresh SQLite file per test, a client, a CLI runner, login."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from pulse import create_app
from pulse.extensions import db
from tests.factories import PASSWORD


def build_app(database_url: str, instance: Path, **overrides: object) -> Flask:
    config: dict[str, object] = {
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),
    }
    config.update(overrides)
    return create_app(config, environ={"PULSE_INSTANCE_PATH": str(instance)})


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
