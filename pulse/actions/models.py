"""Follow-up actions, their dated updates, and the pulse questions that ask about them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pulse.db import Base, UTCDateTime, str_enum
from pulse.org.models import Person, Team
from pulse.surveys.models import Pulse


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return {
            "planned": "Planned",
            "in_progress": "In progress",
            "done": "Done",
            "dropped": "Dropped",
        }[self.value]

    @property
    def is_open(self) -> bool:
        return self in (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


class Action(Base):
    """Something leadership does in answer to a result: for one team (and its subtree) or, with
    no team, for the whole organisation; linked to the pulse and dimension that prompted it."""

    __tablename__ = "action"
    __table_args__ = (
        CheckConstraint(
            "status != 'dropped' OR drop_reason IS NOT NULL", name="dropped_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    pulse_id: Mapped[int | None] = mapped_column(
        ForeignKey("pulse.id", ondelete="SET NULL"), index=True
    )
    dimension: Mapped[str | None] = mapped_column(String(40))
    # Where it was logged from: dashboard, heatmap, comments, pilot or actions (the list page).
    source: Mapped[str] = mapped_column(String(20), default="actions")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # what will change
    outcome: Mapped[str | None] = mapped_column(String(40))  # a key of results.models.OUTCOMES
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, "action_status"), default=ActionStatus.PLANNED
    )
    drop_reason: Mapped[str | None] = mapped_column(String(500))
    visible: Mapped[bool] = mapped_column(Boolean, default=True)  # shown on "You said, we did"
    completed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Reminder claims: set (by one conditional UPDATE) before the owner is emailed, so two
    # schedulers running at once never send the same reminder twice.
    due_soon_reminded_for: Mapped[date | None] = mapped_column(Date)
    overdue_reminded_for: Mapped[date | None] = mapped_column(Date)

    team: Mapped[Team | None] = relationship()
    pulse: Mapped[Pulse | None] = relationship()
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])
    updates: Mapped[list[ActionUpdate]] = relationship(
        cascade="all, delete-orphan", back_populates="action", order_by="ActionUpdate.at"
    )


class ActionUpdate(Base):
    """A dated entry on an action's timeline: a note, a status change, or both."""

    __tablename__ = "action_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    status_from: Mapped[ActionStatus | None] = mapped_column(
        str_enum(ActionStatus, "action_status_from")
    )
    status_to: Mapped[ActionStatus | None] = mapped_column(
        str_enum(ActionStatus, "action_status_to")
    )
    visible: Mapped[bool] = mapped_column(Boolean, default=True)  # shown to employees

    action: Mapped[Action] = relationship(back_populates="updates")
    author: Mapped[Person | None] = relationship()


class ActionQuestion(Base):
    """A pulse question asking the action's team to rate it (asked only in that team's subtree,
    see PulseQuestion.audience_team_id); its answers go through the same tallies and gate."""

    __tablename__ = "action_question"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_question.id", ondelete="CASCADE"), primary_key=True
    )
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id", ondelete="CASCADE"), index=True)
