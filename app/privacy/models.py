"""Personal data protection (UU No. 27 Tahun 2022): the published privacy notices and the
consent each person gave or withdrew."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from app.db import ts, utcnow


class PrivacyNotice(SQLModel, table=True):
    """A version of the privacy notice as it was published (``content sync``): the exact text
    a consent record refers to. A version's text never changes; a new meaning is a new
    version."""

    __tablename__ = "privacy_notice"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    effective: date = Field(sa_column=Column(Date, nullable=False))
    digest: str = Field(max_length=64)
    text: dict = Field(sa_column=Column(JSON, nullable=False))  # the notice as in privacy.yaml
    published_at: datetime = Field(default_factory=utcnow, sa_column=ts())


class ConsentAction:
    given = "given"
    withdrawn = "withdrawn"


class ConsentRecord(SQLModel, table=True):
    """One consent given (to a notice version) or withdrawn, by the person themself. Kept
    as a history: the person's current state is ``user_account.consent_version``."""

    __tablename__ = "consent_record"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    notice_version: int
    action: str = Field(sa_column=Column(String(16), nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=ts())
