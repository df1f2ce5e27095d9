"""Question sets, pulses, invitations, anonymous responses and their tallies.

Anonymity by schema (DESIGN.md): a Response has a random id, its pulse, the team copied from the
invitation and the day only. Nothing links it to a person or an invitation; on SQLite the
response, answer and comment tables are WITHOUT ROWID so not even storage order is kept.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pulse.db import Base, UTCDateTime, str_enum
from pulse.org.models import Person, Team


class CustomQuestion(Base):
    """A question HR wrote or imported; built-in questions live in surveys/library.py."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    dimension: Mapped[str] = mapped_column(String(40))
    scale: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500))
    reverse: Mapped[bool] = mapped_column(Boolean, default=False)
    construct: Mapped[str] = mapped_column(String(200), default="")
    modelled_on: Mapped[str] = mapped_column(String(300), default="")
    licence_note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QuestionSet(Base):
    """A set HR composed or imported (built-in sets live in surveys/library.py)."""

    __tablename__ = "question_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    items: Mapped[list[QuestionSetItem]] = relationship(
        order_by="QuestionSetItem.position", cascade="all, delete-orphan"
    )


class QuestionSetItem(Base):
    __tablename__ = "question_set_item"

    set_id: Mapped[int] = mapped_column(
        ForeignKey("question_set.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_key: Mapped[str] = mapped_column(String(80))
    required: Mapped[bool] = mapped_column(Boolean, default=False)


class ReleaseMode(enum.StrEnum):
    AFTER_CLOSE = "after_close"  # team results appear only once the pulse has closed
    STEPS = "steps"  # or in steps of at least k new responses while open


class PulseState(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class Pulse(Base):
    """One wave of a survey. Its state comes from its timestamps, never from a stored flag."""

    __tablename__ = "pulse"
    __table_args__ = (
        CheckConstraint("min_group >= 3", name="min_group_at_least_3"),
        CheckConstraint("min_comment_group >= min_group", name="comment_group_at_least_k"),
        CheckConstraint(
            "closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at",
            name="closes_after_opening",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    set_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # When questions and thresholds froze and invitations were created.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    min_group: Mapped[int] = mapped_column(Integer, default=5)
    min_comment_group: Mapped[int] = mapped_column(Integer, default=10)
    release: Mapped[ReleaseMode] = mapped_column(
        str_enum(ReleaseMode, "release_mode"), default=ReleaseMode.AFTER_CLOSE
    )

    teams: Mapped[list[Team]] = relationship(secondary="pulse_team", order_by="Team.path")
    questions: Mapped[list[PulseQuestion]] = relationship(
        order_by="PulseQuestion.position", cascade="all, delete-orphan", back_populates="pulse"
    )

    def state(self, now: datetime) -> PulseState:
        if self.opens_at is None or self.closes_at is None:
            return PulseState.DRAFT
        if now < self.opens_at:
            return PulseState.SCHEDULED
        if now < self.closes_at:
            return PulseState.OPEN
        return PulseState.CLOSED

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class PulseTeam(Base):
    """A team chosen as audience; its whole subtree is invited."""

    __tablename__ = "pulse_team"

    pulse_id: Mapped[int] = mapped_column(
        ForeignKey("pulse.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True)


class PulseQuestion(Base):
    """A question as it was asked in one pulse: a frozen copy of the library item."""

    __tablename__ = "pulse_question"
    __table_args__ = (UniqueConstraint("pulse_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulse.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_key: Mapped[str] = mapped_column(String(80))
    builtin: Mapped[bool] = mapped_column(Boolean, default=True)
    dimension: Mapped[str] = mapped_column(String(40))
    scale: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500))
    reverse: Mapped[bool] = mapped_column(Boolean, default=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Asked only of respondents in this team's subtree (e.g. rating that team's follow-up
    # action); None asks everyone.
    audience_team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))

    pulse: Mapped[Pulse] = relationship(back_populates="questions")


class Delivery(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Invitation(Base):
    """One person's single-use link to one pulse. Records *that* they answered, never what,
    and only once settled in a batch (see UsedLink).

    The token is not stored: only its SHA-256 (for look-up) and a random nonce from which the
    server, holding the secret key, can re-derive the link for reminders and printed exports.
    """

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("pulse_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulse.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(32))
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery: Mapped[Delivery] = mapped_column(
        str_enum(Delivery, "delivery"), default=Delivery.PENDING
    )
    delivery_error: Mapped[str | None] = mapped_column(String(300))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)

    pulse: Mapped[Pulse] = relationship()
    person: Mapped[Person] = relationship()
    team: Mapped[Team] = relationship()


class UsedLink(Base):
    """A used invitation link: only a keyed hash of the link (see tokens.used_marker).

    The unique marker makes each link single-use: of two concurrent submissions of one link,
    exactly one inserts it. `Invitation.answered` is brought up to date later, for many
    invitations in one transaction (`services.settle_answers`), so no write to a person's row
    happens in the transaction that stores their answers.
    """

    __tablename__ = "used_link"
    __table_args__: ClassVar[dict[str, object]] = {"sqlite_with_rowid": False}

    marker: Mapped[str] = mapped_column(String(64), primary_key=True)
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulse.id", ondelete="CASCADE"), index=True)


class Response(Base):
    """An anonymous response: random id, pulse, team (from the invitation) and the day only."""

    __tablename__ = "response"
    __table_args__: ClassVar[dict[str, object]] = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulse.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    day: Mapped[date] = mapped_column(Date)


class Answer(Base):
    __tablename__ = "answer"
    __table_args__: ClassVar[dict[str, object]] = {"sqlite_with_rowid": False}

    response_id: Mapped[str] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_question.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int] = mapped_column(Integer)


class Comment(Base):
    __tablename__ = "comment"
    __table_args__: ClassVar[dict[str, object]] = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    response_id: Mapped[str] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("pulse_question.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)


# Tallies: updated in the same transaction as each response, so results never scan answers.
# Each shape is a mixin, shared by the live tallies and their step-release copies.


class _GroupColumns:
    # sort_order keeps (pulse_id, team_id, ...) first in each table and primary key, as the
    # migrations create them; mixin columns would otherwise come after the subclass's own.
    pulse_id: Mapped[int] = mapped_column(
        ForeignKey("pulse.id", ondelete="CASCADE"), primary_key=True, sort_order=-2
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True, sort_order=-1)


class _ResponseCount(_GroupColumns):
    count: Mapped[int] = mapped_column(Integer, default=0)


class _ValueCount(_GroupColumns):
    question_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_question.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class _DimensionSums(_GroupColumns):
    """Per team and dimension: respondents n, sum and sum of squares of 0-100 scores, at risk."""

    dimension: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    total_sq: Mapped[float] = mapped_column(Float, default=0.0)
    at_risk: Mapped[int] = mapped_column(Integer, default=0)


class ResponseTally(_ResponseCount, Base):
    __tablename__ = "tally_response"


class ValueTally(_ValueCount, Base):
    __tablename__ = "tally_value"


class DimensionTally(_DimensionSums, Base):
    __tablename__ = "tally_dimension"


# Step-wise release (DESIGN rule 4): while an open pulse releases "in steps", pages read these
# copies, refreshed for a team only when its responses reach the next multiple of k, so nobody
# can watch a team's numbers move one response at a time.


class ReleasedResponseTally(_ResponseCount, Base):
    __tablename__ = "release_response"


class ReleasedValueTally(_ValueCount, Base):
    __tablename__ = "release_value"


class ReleasedDimensionTally(_DimensionSums, Base):
    __tablename__ = "release_dimension"
