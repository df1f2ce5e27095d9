"""Atomic tally increments with INSERT ... ON CONFLICT DO UPDATE (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from pulse.extensions import db


def increment(table: Table, keys: Mapping[str, Any], amounts: Mapping[str, float]) -> None:
    """Add `amounts` to the row at `keys`, creating it when missing, in one statement."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values({**keys, **amounts})
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + stmt.excluded[name] for name in amounts},
    )
    db.session.execute(stmt)
