"""Tags that managers put on comments: a topic and the business outcome it touches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
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
