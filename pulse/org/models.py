"""Teams (a tree with a materialised id path) and people (employees and staff accounts)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pulse.db import Base, UTCDateTime, str_enum


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    LEADER = "leader"
    HR = "hr"

    @property
    def label(self) -> str:
        return "HR" if self is Role.HR else self.value.capitalize()

    @property
    def is_staff(self) -> bool:
        """Staff can log in; employees only ever use invitation links."""
        return self is not Role.EMPLOYEE


team_managers = Table(
    "team_manager",
    Base.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Team(Base):
    """A node of the organisation tree.

    `path` is the chain of ids from the root, e.g. "/1/7/42/", so a whole subtree is one indexed
    prefix query (`path LIKE '/1/7/%'`) however deep the company is.
    """

    __tablename__ = "team"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        # varchar_pattern_ops lets PostgreSQL use the index for the prefix LIKE in any locale.
        Index("ix_team_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000), default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    parent: Mapped[Team | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Team]] = relationship(back_populates="parent", order_by="Team.name")
    managers: Mapped[list[Person]] = relationship(
        secondary=team_managers, back_populates="managed_teams", order_by="Person.name"
    )

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this team, itself included."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def __repr__(self) -> str:
        return f"<Team {self.id} {self.name!r}>"


class Person(Base):
    """Someone in the directory. Staff (manager, leader, hr) may also have a password."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed, lower case), which makes the unique index case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.EMPLOYEE)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    line_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str | None] = mapped_column(String(10))
    # Set from the unsubscribe link in reminder emails: invitations still come, reminders not.
    no_reminders: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Bumped on logout-everywhere, password change, deactivation and role change; it is part of
    # the login cookie's user id, so every older cookie (remember-me included) stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])
    line_manager: Mapped[Person | None] = relationship(remote_side=[id])
    managed_teams: Mapped[list[Team]] = relationship(
        secondary=team_managers, back_populates="managers", order_by="Team.name"
    )

    # Flask-Login protocol -------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active and self.role.is_staff and self.password_hash is not None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.email}>"
