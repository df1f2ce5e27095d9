"""Every feature's models, imported together so metadata (and Alembic) sees all tables."""

from pulse.audit.models import AuditEvent
from pulse.org.models import Person, Role, Team, team_managers
from pulse.results.models import CommentTag
from pulse.surveys.models import (
    Answer,
    Comment,
    CustomQuestion,
    DimensionTally,
    Invitation,
    Pulse,
    PulseQuestion,
    PulseTeam,
    QuestionSet,
    QuestionSetItem,
    ReleasedDimensionTally,
    ReleasedResponseTally,
    ReleasedValueTally,
    Response,
    ResponseTally,
    UsedLink,
    ValueTally,
)

__all__ = [
    "Answer",
    "AuditEvent",
    "Comment",
    "CommentTag",
    "CustomQuestion",
    "DimensionTally",
    "Invitation",
    "Person",
    "Pulse",
    "PulseQuestion",
    "PulseTeam",
    "QuestionSet",
    "QuestionSetItem",
    "ReleasedDimensionTally",
    "ReleasedResponseTally",
    "ReleasedValueTally",
    "Response",
    "ResponseTally",
    "Role",
    "Team",
    "UsedLink",
    "ValueTally",
    "team_managers",
]
