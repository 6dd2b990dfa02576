"""Personal data protection (UU No. 27 Tahun 2022): the published privacy notices and the
consent each person gave or withdrew."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, ForeignKey, Integer, String, func, select
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


CURRENT_NOTICE = select(func.max(PrivacyNotice.version))
"""The newest published notice version (``None`` before the first sync)."""


def consent_due(consent_version: int | None, current_version: int | None) -> bool:
    """Whether a person must agree to the notice before going on: a notice is published and
    they have not agreed to its newest version (never, withdrawn, or an older one)."""
    return current_version is not None and consent_version != current_version


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


class ErasureSource:
    participant = "participant"  # withdrawn on /account/data
    letter = "letter"  # received by letter, entered by an administrator
    retention = "retention"  # the retention period ended (``integritas retention run``)


class ErasureStatus:
    open = "open"
    done = "done"
    cancelled = "cancelled"  # the person agreed again before it was carried out


class ErasureRequest(SQLModel, table=True):
    """A request to erase a person's identifying data (withdrawn consent, a letter): due
    3 × 24 hours after it was received, carried out by an administrator in one action."""

    __tablename__ = "erasure_request"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    source: str = Field(sa_column=Column(String(16), nullable=False))
    received_at: datetime = Field(sa_column=ts())
    due_at: datetime = Field(sa_column=ts())
    received_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    note: str | None = Field(default=None, max_length=300)  # e.g. the letter's reference
    status: str = Field(default=ErasureStatus.open, sa_column=Column(String(16), nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    done_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
