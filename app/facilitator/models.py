"""What the facilitator keeps: reminders sent (recorded, not sent by the server) and the
cohort's own reminder texts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import ts


class Reminder(SQLModel, table=True):
    """A facilitator reminded a participant (by WhatsApp, e-mail or in person) at a stage."""

    __table_args__ = (Index("ix_reminder_user_at", "user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cohort.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    sent_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    stage: str = Field(max_length=32)
    channel: str = Field(max_length=16)  # whatsapp | email | other
    at: datetime = Field(sa_column=ts())


class ReminderText(SQLModel, table=True):
    """A cohort's own reminder message for a stage and language (else the default)."""

    __tablename__ = "reminder_text"
    __table_args__ = (UniqueConstraint("cohort_id", "stage", "locale"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cohort.id", ondelete="CASCADE"), nullable=False)
    )
    stage: str = Field(max_length=32)
    locale: str = Field(max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    updated_at: datetime = Field(sa_column=ts())
