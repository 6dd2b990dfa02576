"""Quiz attempts and answers, and lesson-check answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Float, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import ts, utcnow


class QuizAttempt(SQLModel, table=True):
    """One try at a quiz. ``number`` counts the user's attempts at that quiz (1, 2, 3); the
    unique key makes starting an attempt idempotent across tabs and retries."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (UniqueConstraint("user_id", "quiz_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    quiz_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("quiz.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    number: int = 1
    seed: int
    started_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    submitted_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    score: float | None = Field(default=None, sa_column=Column(Float))
    passed: bool | None = None


class AttemptItem(SQLModel, table=True):
    """A question version served in an attempt, with the answer as it was given."""

    __tablename__ = "attempt_item"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("quiz_attempt.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    question_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("question.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    position: int
    selected: list | None = Field(default=None, sa_column=Column(JSON))  # choice ids
    answered_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    score: float | None = Field(default=None, sa_column=Column(Float))  # 0..1, set at submit


class CheckAnswer(SQLModel, table=True):
    """The latest answer to a lesson-check question (unlimited tries)."""

    __tablename__ = "check_answer"
    __table_args__ = (UniqueConstraint("user_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    question_id: int = Field(
        sa_column=Column(Integer, ForeignKey("question.id", ondelete="RESTRICT"), nullable=False)
    )
    selected: list = Field(sa_column=Column(JSON, nullable=False))
    correct: bool = False
    tries: int = 1
    answered_at: datetime = Field(default_factory=utcnow, sa_column=ts())


class ExtraAttempts(SQLModel, table=True):
    """Attempts a facilitator granted beyond the three of a module quiz."""

    __tablename__ = "extra_attempts"
    __table_args__ = (UniqueConstraint("user_id", "quiz_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    quiz_id: int = Field(
        sa_column=Column(Integer, ForeignKey("quiz.id", ondelete="CASCADE"), nullable=False)
    )
    extra: int = 0
