"""Every feature's models, imported together so metadata (and Alembic) sees all tables."""

from pulse.audit.models import AuditEvent
from pulse.org.models import Person, Role, Team, team_managers

__all__ = ["AuditEvent", "Person", "Role", "Team", "team_managers"]
