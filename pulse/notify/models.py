"""Claims on notification emails, so that a message goes out once however many schedulers run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pulse.db import Base, UTCDateTime


class SentMail(Base):
    """One claimed notification, e.g. "digest:pulse:12:person:5" or "weekly:2026-W48:person:5".

    `flask pulse tick` inserts the key (INSERT ... ON CONFLICT DO NOTHING) and commits before it
    sends; only the copy whose insert went in sends the message. A failed send deletes the claim
    so the next tick retries. Never used for anything about respondents.
    """

    __tablename__ = "sent_mail"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
