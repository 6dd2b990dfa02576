"""the privacy notice as published, consent records, erasure requests, each account's
consent and erasure

Revision ID: 5e2d8b1c7f30
Revises: 9c3e5a7d2b14
Create Date: 2026-12-02 05:20:00

Accounts that exist have agreed to nothing yet: every one of them is asked at its next sign-in,
once a notice is published (``integritas content sync``).
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "5e2d8b1c7f30"
down_revision: Union[str, Sequence[str], None] = "9c3e5a7d2b14"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "privacy_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("text", sa.JSON(), nullable=False),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_notice")),
        sa.UniqueConstraint("version", name=op.f("uq_privacy_notice_version")),
    )
    op.create_table(
        "consent_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("notice_version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_consent_record_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_record")),
    )
    op.create_index(op.f("ix_consent_record_user_id"), "consent_record", ["user_id"])
    op.create_table(
        "erasure_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_erasure_request_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["received_by"],
            ["user_account.id"],
            name=op.f("fk_erasure_request_received_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["done_by"],
            ["user_account.id"],
            name=op.f("fk_erasure_request_done_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_request")),
    )
    op.create_index(op.f("ix_erasure_request_user_id"), "erasure_request", ["user_id"])
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("consent_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("erased_at", app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("consent_version")
    op.drop_index(op.f("ix_erasure_request_user_id"), table_name="erasure_request")
    op.drop_table("erasure_request")
    op.drop_index(op.f("ix_consent_record_user_id"), table_name="consent_record")
    op.drop_table("consent_record")
    op.drop_table("privacy_notice")
