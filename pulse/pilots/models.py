"""A pilot (a four-day week, a hybrid policy ...), its two arms of teams and its pulses.

Pulses stay plain survey pulses; `PilotPulse` says which pilot a pulse belongs to and in which
phase (baseline, during, final), so surveys never depend on pilots.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pulse.db import Base, UTCDateTime, str_enum
from pulse.org.models import Person, Team
from pulse.surveys.models import Pulse


class Arm(enum.StrEnum):
    PILOT = "pilot"
    COMPARISON = "comparison"


class Phase(enum.StrEnum):
    BASELINE = "baseline"
    DURING = "during"
    FINAL = "final"


class Pilot(Base):
    """A change tried out in some teams, compared with teams that carry on as before."""

    __tablename__ = "pilot"
    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="ends_after_start"),
        CheckConstraint("cadence_weeks IN (1, 2, 4)", name="known_cadence"),
        CheckConstraint("baseline_pulses >= 1", name="at_least_one_baseline"),
        CheckConstraint("open_days >= 1", name="open_at_least_a_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    hypothesis: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(60), default="UTC")
    set_ref: Mapped[str] = mapped_column(String(60), default="builtin:four_day_week")
    cadence_weeks: Mapped[int] = mapped_column(Integer, default=2)
    baseline_pulses: Mapped[int] = mapped_column(Integer, default=2)
    open_days: Mapped[int] = mapped_column(Integer, default=7)  # how long each pulse stays open
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))

    teams: Mapped[list[PilotTeam]] = relationship(
        cascade="all, delete-orphan", back_populates="pilot"
    )
    pulses: Mapped[list[PilotPulse]] = relationship(
        cascade="all, delete-orphan", back_populates="pilot", order_by="PilotPulse.position"
    )
    created_by: Mapped[Person | None] = relationship()

    def arm_teams(self, arm: Arm) -> list[Team]:
        return sorted((pt.team for pt in self.teams if pt.arm is arm), key=lambda t: t.path)


class PilotTeam(Base):
    """A team (with its whole subtree) in one arm of a pilot: the unit that was assigned."""

    __tablename__ = "pilot_team"

    pilot_id: Mapped[int] = mapped_column(
        ForeignKey("pilot.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True, index=True)
    arm: Mapped[Arm] = mapped_column(str_enum(Arm, "pilot_arm"))

    pilot: Mapped[Pilot] = relationship(back_populates="teams")
    team: Mapped[Team] = relationship()


class PilotPulse(Base):
    """One of a pilot's pulses and its phase; `position` orders them in time."""

    __tablename__ = "pilot_pulse"

    pulse_id: Mapped[int] = mapped_column(
        ForeignKey("pulse.id", ondelete="CASCADE"), primary_key=True
    )
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id", ondelete="CASCADE"), index=True)
    phase: Mapped[Phase] = mapped_column(str_enum(Phase, "pilot_phase"))
    position: Mapped[int] = mapped_column(Integer)

    pilot: Mapped[Pilot] = relationship(back_populates="pulses")
    pulse: Mapped[Pulse] = relationship()
