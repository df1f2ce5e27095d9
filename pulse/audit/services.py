"""Writing audit events."""

from __future__ import annotations

from datetime import datetime

from pulse.audit.models import AuditEvent
from pulse.extensions import db
from pulse.org.models import Person


def record(
    action: str,
    *,
    actor: Person | None,
    now: datetime,
    target: str = "",
    detail: dict[str, object] | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's commit makes it permanent)."""
    event = AuditEvent(
        at=now,
        actor_id=actor.id if actor else None,
        action=action,
        target=target,
        detail=detail or {},
    )
    db.session.add(event)
    return event
