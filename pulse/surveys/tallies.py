"""Atomic tally increments with INSERT ... ON CONFLICT DO UPDATE (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from pulse.extensions import db


@lru_cache(maxsize=64)
def _statement(
    dialect: str, table: Table, keys: tuple[str, ...], amounts: tuple[str, ...]
) -> Insert:
    """One statement per table and shape, built once: a submission updates ~20 tally rows, and
    building each statement afresh cost more than running it."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values({name: bindparam(name) for name in (*keys, *amounts)})
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + stmt.excluded[name] for name in amounts},
    )


def increment(table: Table, keys: Mapping[str, Any], amounts: Mapping[str, float]) -> None:
    """Add `amounts` to the row at `keys`, creating it when missing, in one statement."""
    dialect = db.session.get_bind().dialect.name
    stmt = _statement(dialect, table, tuple(keys), tuple(amounts))
    db.session.execute(stmt, {**keys, **amounts})
