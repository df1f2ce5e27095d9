"""Declarative base with a constraint naming convention, shared column types and engine tuning."""

from __future__ import annotations

import enum
import os
from datetime import UTC, datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import DateTime, Engine, Enum, MetaData, event
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC; pass it to services explicitly as `now`."""
    return datetime.now(UTC)


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A Python enum stored as its values in a VARCHAR(20) with a CHECK constraint (named after
    `name`, so each column needs its own), the same on SQLite and PostgreSQL."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone (portable across SQLite and PostgreSQL), returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# How long a writer waits for another writer's lock before giving up (SECURITY.md: >= 5 s). Under
# a burst, SQLite's waiting is not first-come-first-served, so leave headroom above the minimum.
BUSY_TIMEOUT_MS = 10_000

# SQLite tuning (SECURITY.md, durability): WAL, synchronous=FULL, foreign keys, a 5 s busy
# timeout, and BEGIN IMMEDIATE for every transaction that may write, so two writers queue on the
# busy timeout instead of failing half-way with "database is locked".


@event.listens_for(Engine, "do_connect")
def _sqlite_make_folder(dialect: Any, conn_rec: Any, cargs: Any, cparams: Any) -> None:
    if dialect.name != "sqlite" or not cargs:
        return
    path = str(cargs[0])
    if path and path != ":memory:" and not path.startswith("file:"):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    if type(dbapi_connection).__module__.split(".")[0] not in {"sqlite3", "pysqlite2"}:
        return
    # Take over transaction control from the driver so BEGIN is ours (SQLAlchemy's recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Any) -> None:
    if conn.dialect.name != "sqlite":
        return
    read_only = has_request_context() and request.method in {"GET", "HEAD", "OPTIONS"}
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
