from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Integer, LargeBinary, UniqueConstraint
from sqlalchemy.orm import deferred
from sqlmodel import Field, SQLModel

from app.db import ts


class Region(SQLModel, table=True):
    """A regional government (pemerintah daerah), e.g. Kota Tangerang."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    province: str = Field(max_length=100)


class Organization(SQLModel, table=True):
    """An OPD (organisasi perangkat daerah) of a region."""

    __table_args__ = (UniqueConstraint("region_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(
        sa_column=Column(Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=False)
    )
    name: str = Field(max_length=200)


_SIGNATURE_IMAGE = Column("signature_image", LargeBinary, nullable=True)


class Cohort(SQLModel, table=True):
    """An angkatan: one workshop with the windows before and after it."""

    # the signature image stays in the database until a certificate needs it
    __mapper_args__ = {"properties": {"signature_image": deferred(_SIGNATURE_IMAGE)}}

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    region_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    title: str = Field(max_length=200)
    venue: str = Field(max_length=200)
    # couples are numbered <prefix>-001, <prefix>-002, …
    code_prefix: str = Field(max_length=12)
    workshop_start: date = Field(sa_column=Column(Date, nullable=False))
    workshop_end: date = Field(sa_column=Column(Date, nullable=False))
    pre_opens: datetime = Field(sa_column=ts())
    post_closes: datetime = Field(sa_column=ts())
    # the check-ins after the workshop: days after its last day, and how long each stays open
    checkin_first_days: int = Field(default=30, sa_column_kwargs={"server_default": "30"})
    checkin_second_days: int = Field(default=90, sa_column_kwargs={"server_default": "90"})
    checkin_open_days: int = Field(default=21, sa_column_kwargs={"server_default": "21"})
    # What the certificates state (``app.certificates``): the workshop's training hours (JP,
    # jam pelajaran of 45 minutes), how the e-learning's minutes are rounded to whole JP, the
    # organizing institutions and who signs.
    jp_workshop: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    jp_rounding: str = Field(
        default="nearest", max_length=8, sa_column_kwargs={"server_default": "nearest"}
    )
    organizers: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    signatory_name: str | None = Field(default=None, max_length=200)
    signatory_title: str | None = Field(default=None, max_length=200)
    # a PNG or JPEG (``signature_type`` its media type); loaded only when asked for
    signature_image: bytes | None = Field(default=None, sa_column=_SIGNATURE_IMAGE)
    signature_type: str | None = Field(default=None, max_length=16)


class CohortFacilitator(SQLModel, table=True):
    __tablename__ = "cohort_facilitator"

    cohort_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
        )
    )


class Couple(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    cohort_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cohort.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    organization_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("organization.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    # raised in every transaction that changes what the partners' stages, flags or last
    # activity are computed from (``app.reports.summary``'s hooks): the facilitator's pages
    # keep each couple's facts until it changes
    learning_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )


class ActivationCode(SQLModel, table=True):
    """A one-time code printed on a participant's card. The code itself is never stored:
    ``code_seed`` is a random value from which the code is derived with the server's secret
    (so cards can be printed again until it is used, then the seed is cleared), and
    ``code_hash`` a keyed hash the typed code is looked up by. A copy of the database alone
    gives no code. A reissue retires the old one."""

    __tablename__ = "activation_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    code_hash: str = Field(max_length=64, unique=True)
    code_seed: str | None = Field(default=None, max_length=32)
    issued_at: datetime = Field(sa_column=ts())
    expires_at: datetime = Field(sa_column=ts())
    used_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    retired_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))


class Attendance(SQLModel, table=True):
    """A participant present or absent on one day of the cohort's workshop; marked (and
    corrected) by a facilitator."""

    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    day: date = Field(sa_column=Column(Date, nullable=False))
    present: bool
    marked_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    marked_at: datetime = Field(sa_column=ts())
