"""Curriculum tables, filled from ``modules/`` by ``integritas content sync``.

Questions and their choices are immutable versions: when a question's text changes, sync adds a
new revision and retires the old one, so an attempt keeps exactly what it was given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import ts, utcnow


class ContentVersion(SQLModel, table=True):
    __tablename__ = "content_version"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64)
    synced_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    summary: dict | None = Field(default=None, sa_column=Column(JSON))


class IntegrityValue(SQLModel, table=True):
    __tablename__ = "integrity_value"

    slug: str = Field(max_length=64, primary_key=True)
    position: int
    title: dict = Field(sa_column=Column(JSON, nullable=False))
    kpk: str | None = Field(default=None, max_length=64)


class Module(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    position: int
    phase: str = Field(max_length=8)
    title: dict = Field(sa_column=Column(JSON, nullable=False))
    summary: dict = Field(sa_column=Column(JSON, nullable=False))
    discussion: list = Field(sa_column=Column(JSON, nullable=False))
    active: bool = True


class Lesson(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    module_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("module.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    position: int
    phase: str = Field(max_length=8)
    minutes: int
    title: dict = Field(sa_column=Column(JSON, nullable=False))
    # Markdown rendered and sanitized once per content version: {"id": html, "en": html}
    html: dict = Field(sa_column=Column(JSON, nullable=False))
    values: list = Field(sa_column=Column(JSON, nullable=False))
    sources: list = Field(sa_column=Column(JSON, nullable=False))
    discussion: list = Field(sa_column=Column(JSON, nullable=False))
    words: int = 0
    digest: str = Field(max_length=64)
    content_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("content_version.id"), nullable=False)
    )
    active: bool = True


class Quiz(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    kind: str = Field(max_length=8)  # module | pre | post
    module_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("module.id", ondelete="RESTRICT"))
    )
    title: dict = Field(sa_column=Column(JSON, nullable=False))
    pass_mark: int = 70
    max_attempts: int = 3


class Question(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("slug", "revision"),
        Index("ix_question_current_pool", "current", "pool"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100)
    revision: int = 1
    current: bool = True
    # where the question is asked: "check" (inside a lesson), "quiz" (a module quiz),
    # "prepost" (the pre-test / post-test pool)
    pool: str = Field(max_length=8)
    lesson_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("lesson.id", ondelete="RESTRICT"))
    )
    module_id: int = Field(
        sa_column=Column(Integer, ForeignKey("module.id", ondelete="RESTRICT"), nullable=False)
    )
    position: int
    type: str = Field(max_length=16)
    text: dict = Field(sa_column=Column(JSON, nullable=False))
    explanation: dict = Field(sa_column=Column(JSON, nullable=False))
    source: str = Field(sa_column=Column(Text, nullable=False))
    digest: str = Field(max_length=64)


class QuestionValue(SQLModel, table=True):
    """The value tags of a question version, for gain by value in SQL."""

    __tablename__ = "question_value"

    question_id: int = Field(
        sa_column=Column(Integer, ForeignKey("question.id", ondelete="CASCADE"), primary_key=True)
    )
    value_slug: str = Field(
        sa_column=Column(String(64), ForeignKey("integrity_value.slug"), primary_key=True)
    )


class Choice(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("question.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    position: int
    text: dict = Field(sa_column=Column(JSON, nullable=False))
    feedback: dict = Field(sa_column=Column(JSON, nullable=False))
    correct: bool = False


class LessonProgress(SQLModel, table=True):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    lesson_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("lesson.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    viewed_at: datetime = Field(default_factory=utcnow, sa_column=ts())
    completed_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    late: bool = False
