"""Every feature's models, imported together so metadata (and Alembic) sees all tables."""

from pulse.actions.models import Action, ActionQuestion, ActionUpdate
from pulse.audit.models import AuditEvent
from pulse.notify.models import SentMail
from pulse.org.models import Person, Role, Team, team_managers
from pulse.pilots.models import Pilot, PilotPulse, PilotTeam
from pulse.results.models import CommentTag, OutcomeMetric
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
    "Action",
    "ActionQuestion",
    "ActionUpdate",
    "Answer",
    "AuditEvent",
    "Comment",
    "CommentTag",
    "CustomQuestion",
    "DimensionTally",
    "Invitation",
    "OutcomeMetric",
    "Person",
    "Pilot",
    "PilotPulse",
    "PilotTeam",
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
    "SentMail",
    "Team",
    "UsedLink",
    "ValueTally",
    "team_managers",
]
