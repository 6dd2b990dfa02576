"""After the workshop: the reaction survey, the family's action plan and its check-ins, and the
retention check."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.db import ts


class SurveyResponse(SQLModel, table=True):
    """One participant's answers to the reaction survey, kept without them: no user, no time
    of day, and a random key, so neither the row order nor a join leads back to a person."""

    __tablename__ = "survey_response"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    cohort_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cohort.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    survey_version: int
    answered_on: date = Field(sa_column=Column(Date, nullable=False))
    # {item slug: 1..5 (likert) | option slug (choice) | text (open)}
    answers: dict = Field(sa_column=Column(JSON, nullable=False))


class SurveyTaken(SQLModel, table=True):
    """That a participant answered the survey (for the reminder), and nothing of what."""

    __tablename__ = "survey_taken"

    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
        )
    )
    cohort_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cohort.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    taken_on: date = Field(sa_column=Column(Date, nullable=False))


class ActionPlan(SQLModel, table=True):
    """The family's action plan: one partner drafts its commitments, the other confirms (an
    edit needs the other partner to confirm again)."""

    __tablename__ = "action_plan"

    couple_id: int = Field(
        sa_column=Column(Integer, ForeignKey("couple.id", ondelete="CASCADE"), primary_key=True)
    )
    drafted_by: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    drafted_at: datetime = Field(sa_column=ts())
    confirmed_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    confirmed_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))


class Commitment(SQLModel, table=True):
    """One concrete commitment of the plan: what, who, by when."""

    __tablename__ = "plan_commitment"
    __table_args__ = (UniqueConstraint("couple_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    couple_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("action_plan.couple_id", ondelete="CASCADE"), nullable=False
        )
    )
    position: int
    what: str = Field(sa_column=Column(Text, nullable=False))
    who: str = Field(max_length=100)
    by_when: date = Field(sa_column=Column(Date, nullable=False))


class CheckinMark(SQLModel, table=True):
    """A partner's mark on one commitment at a check-in (round 1: about 30 days after the
    workshop, round 2: about 90): done, partly or not yet, with an optional note."""

    __tablename__ = "checkin_mark"
    __table_args__ = (UniqueConstraint("commitment_id", "user_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("plan_commitment.id", ondelete="CASCADE"), nullable=False
        )
    )
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    round: int
    status: str = Field(max_length=8)  # done | partly | not_yet
    note: str | None = Field(default=None, sa_column=Column(Text))
    marked_at: datetime = Field(sa_column=ts())


class RetentionAttempt(SQLModel, table=True):
    """The retention check at the 90-day check-in: nine items of the pre/post pool, one per
    value, the same selection for the whole cohort; scored, no pass mark, one attempt."""

    __tablename__ = "retention_attempt"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    started_at: datetime = Field(sa_column=ts())
    submitted_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    score: float | None = Field(default=None, sa_column=Column(Float))  # percent


class RetentionItem(SQLModel, table=True):
    __tablename__ = "retention_item"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("retention_attempt.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    question_id: int = Field(
        sa_column=Column(Integer, ForeignKey("question.id", ondelete="RESTRICT"), nullable=False)
    )
    position: int
    selected: list | None = Field(default=None, sa_column=Column(JSON))
    score: float | None = Field(default=None, sa_column=Column(Float))
