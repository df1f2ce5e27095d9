"""Comment tags (a topic and the business outcome it touches) and imported outcome metrics."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulse.db import Base, UTCDateTime

# The business outcomes a comment (and later a follow-up action) can touch.
OUTCOMES: dict[str, str] = {
    "retention": "Retention",
    "productivity": "Productivity",
    "customer_experience": "Customer experience",
    "wellbeing": "Wellbeing",
    "quality": "Quality",
    "safety": "Safety",
    "cost": "Cost",
}


class CommentTag(Base):
    """One topic and one outcome per comment. The tagger is recorded: a staff action, never a
    fact about the respondent."""

    __tablename__ = "comment_tag"

    comment_id: Mapped[str] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str | None] = mapped_column(String(40))
    tagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutcomeMetric(Base):
    """A business figure for one team and period (absence days, leavers ...), imported by HR to
    sit beside survey results. The metric keys and how they combine are in results/metrics.py."""

    __tablename__ = "outcome_metric"
    __table_args__ = (
        UniqueConstraint("team_id", "metric", "period_start"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    metric: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
