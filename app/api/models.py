from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from app.db import ts


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API, made by an administrator (on ``/admin/api-tokens``
    or with ``integritas api-token create``). The secret is shown once and never stored:
    only its SHA-256 (``token_hash``) and its first characters (``prefix``), by which people
    recognize it. A revoked token stays, so the audit log and the list keep its name."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=8)
    created_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    created_at: datetime = Field(sa_column=ts())
    last_used_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=ts(nullable=True))
    revoked_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
