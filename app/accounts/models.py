from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel, col

from app.db import ts, utcnow


class Role(StrEnum):
    participant = "participant"
    facilitator = "facilitator"
    kpk = "kpk"
    admin = "admin"


class PartnerRole(StrEnum):
    official = "official"
    spouse = "spouse"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    password_hash: str | None = Field(default=None, max_length=255)
    locale: str = Field(default="id", max_length=8)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    couple_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("couple.id", ondelete="RESTRICT"), index=True),
    )
    partner_role: str | None = Field(default=None, max_length=16)
    contact: str | None = Field(default=None, max_length=200)
    nip: str | None = Field(default=None, max_length=18)
    position: str | None = Field(default=None, max_length=200)
    # orders the choices of the lesson checks this participant sees (the same on every visit)
    check_seed: int = Field(
        default_factory=lambda: new_check_seed(), sa_column_kwargs={"server_default": "0"}
    )
    # the privacy notice version this person agreed to (None: never, or withdrawn); the
    # history is app.privacy.models.ConsentRecord
    consent_version: int | None = Field(default=None)
    # when the person's identifying data were erased (withdrawal, a letter, retention): the
    # account is a pseudonym since, its learning rows count in the aggregates only
    erased_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))


def new_check_seed() -> int:
    return secrets.randbelow(2**31)


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The signed-in user as a request sees it: read-only, without the password hash."""

    id: int
    username: str
    display_name: str
    role: str
    locale: str
    couple_id: int | None
    partner_role: str | None
    consent_version: int | None = None


CURRENT_USER_COLUMNS = (
    col(User.id),
    col(User.username),
    col(User.display_name),
    col(User.role),
    col(User.locale),
    col(User.couple_id),
    col(User.partner_role),
    col(User.consent_version),
)


class AuthSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; the table keeps only its hash."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    expires_at: datetime = Field(sa_column=ts())
    user_agent: str | None = Field(default=None, max_length=300)


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, kept in the database so throttling holds across workers."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_column=ts())


class AuditLog(SQLModel, table=True):
    """Who did what to whom, for every privileged action."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=ts(index=True))
    actor_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL"), index=True),
    )
    action: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    target: str | None = Field(default=None, max_length=200)
    detail: dict | None = Field(default=None, sa_column=Column(JSON))
