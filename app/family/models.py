"""The couple's family space: reflections per module and the family pledge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import ts


class FamilyReflection(SQLModel, table=True):
    """The family's reflection on a module: one partner writes, the other confirms (or edits,
    which then needs the first to confirm); the facilitator may reply."""

    __tablename__ = "family_reflection"
    __table_args__ = (UniqueConstraint("couple_id", "module_id"),)

    id: int | None = Field(default=None, primary_key=True)
    couple_id: int = Field(
        sa_column=Column(Integer, ForeignKey("couple.id", ondelete="CASCADE"), nullable=False)
    )
    module_id: int = Field(
        sa_column=Column(Integer, ForeignKey("module.id", ondelete="RESTRICT"), nullable=False)
    )
    text: str = Field(sa_column=Column(Text, nullable=False))
    written_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    written_at: datetime = Field(sa_column=ts())
    confirmed_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    confirmed_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    reply: str | None = Field(default=None, sa_column=Column(Text))
    replied_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    replied_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))


class PledgeSignature(SQLModel, table=True):
    """A partner's signature under the family pledge; signed once, never undone."""

    __tablename__ = "pledge_signature"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    couple_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("couple.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    signed_at: datetime = Field(sa_column=ts())
    content_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("content_version.id"), nullable=False)
    )
