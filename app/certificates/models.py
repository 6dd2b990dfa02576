from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from app.db import ts


class Certificate(SQLModel, table=True):
    """A participant's certificate; ``/verify/{code}`` tells the public whether it is valid."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    code: str = Field(max_length=20, unique=True)
    issued_at: datetime = Field(sa_column=ts())
    revoked_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    revoked_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    revoke_reason: str | None = Field(default=None, max_length=300)
    # the e-learning's minutes when it was issued (the lessons may change later): an
    # official's JP are computed from them; None for a certificate issued before they were kept
    elearning_minutes: int | None = None


REVOKED_ON_ERASURE = "erasure"
"""``revoke_reason`` of a certificate revoked because its holder's data were erased: it was
received all the same, and the aggregates keep counting it."""
