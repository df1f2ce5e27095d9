"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, make_url

from pulse import ConfigError, create_app
from pulse.extensions import db
from tests.conftest import build_app


@contextmanager
def _migration_env() -> Iterator[None]:
    """Undo the logging set-up that migrations/env.py does with fileConfig.

    fileConfig disables every logger it does not name and replaces the root handlers, which would
    silently switch off application loggers (and pytest's log capture) for later tests.
    """
    root = logging.getLogger()
    root_state = (root.level, list(root.handlers))
    loggers = {
        name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
        for name, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    try:
        yield
    finally:
        root.setLevel(root_state[0])
        root.handlers[:] = root_state[1]
        for name, lg in logging.Logger.manager.loggerDict.items():
            if not isinstance(lg, logging.Logger):
                continue
            if name in loggers:
                lg.disabled, level, handlers, lg.propagate = loggers[name]
                lg.setLevel(level)
                lg.handlers[:] = handlers
            else:
                lg.disabled = False


def _upgrade(revision: str = "head") -> None:
    with _migration_env():
        upgrade(revision=revision)


def _downgrade(revision: str) -> None:
    with _migration_env():
        downgrade(revision=revision)


def _schema_diff() -> list[Any]:
    """What autogenerate would write for the models against the migrated database (want [])."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def _model_tables() -> set[str]:
    return set(db.metadata.tables)


def _migrated_app(database_url: str, tmp_path: Path) -> Flask:
    return build_app(database_url, tmp_path / "instance")


def test_sqlite_migrations_build_the_model_schema(tmp_path: Path) -> None:
    app = _migrated_app(f"sqlite:///{tmp_path / 'migrated.db'}", tmp_path)
    with app.app_context():
        _upgrade()
        assert _schema_diff() == []
        db.engine.dispose()


def test_sqlite_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    app = _migrated_app(f"sqlite:///{tmp_path / 'roundtrip.db'}", tmp_path)
    with app.app_context():
        _upgrade()
        _downgrade("base")
        left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        _upgrade()
        assert _model_tables() <= set(inspect(db.engine).get_table_names())
        assert _schema_diff() == []
        db.engine.dispose()


def test_sqlite_pragmas_apply_to_every_new_connection(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        engine.dispose()


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """A database of its own beside the test database, so pg_app's tables never collide."""
    base = make_url(postgres_url)
    name = f"{base.database}_migrations"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield base.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.mark.postgres
def test_postgres_migrations_build_the_model_schema(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    app = _migrated_app(fresh_postgres_url, tmp_path)
    with app.app_context():
        try:
            _upgrade()
            assert _schema_diff() == []
            _downgrade("base")
            left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert left == set()
            _upgrade()
            assert _schema_diff() == []
        finally:
            db.session.remove()
            db.engine.dispose()


# --- Production refuses to start unsafely --------------------------------------------------------


def _production_environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PULSE_ENV": "production",
        "PULSE_INSTANCE_PATH": str(tmp_path / "instance"),
        "PULSE_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        **extra,
    }


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PULSE_SECRET_KEY"):
        create_app(environ=_production_environ(tmp_path))


@pytest.mark.parametrize(
    "weak_key",
    ["changeme", "short-but-random-Xy7!", "a" * 64, "abababababababababababababababababab"],
)
def test_production_refuses_a_weak_secret_key(tmp_path: Path, weak_key: str) -> None:
    with pytest.raises(ConfigError):
        create_app(environ=_production_environ(tmp_path, PULSE_SECRET_KEY=weak_key))


def test_production_with_a_strong_key_uses_host_cookies_and_hsts(tmp_path: Path) -> None:
    key = secrets.token_urlsafe(48)
    app = create_app(environ=_production_environ(tmp_path, PULSE_SECRET_KEY=key))

    assert app.config["SECRET_KEY"] == key
    assert app.config["DEBUG"] is False
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["REMEMBER_COOKIE_NAME"].startswith("__Host-")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True

    # A static file needs no database, yet still carries the security headers.
    response = app.test_client().get("/static/pulse.css")
    assert response.status_code == 200
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    response.close()
