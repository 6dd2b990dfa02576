"""after the workshop: the reaction survey (answers kept without their author), the family's
action plan and its check-ins, the retention check, and each cohort's check-in days

Revision ID: 7a1f0c2e9d41
Revises: 8b2e1d3f0a52
Create Date: 2026-12-02 07:40:00

Existing cohorts get check-ins 30 and 90 days after their workshop, each open for 21 days.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "7a1f0c2e9d41"
down_revision: Union[str, Sequence[str], None] = "8b2e1d3f0a52"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "survey_response",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("survey_version", sa.Integer(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohort.id"],
            name=op.f("fk_survey_response_cohort_id_cohort"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_response")),
    )
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_response_cohort_id"), ["cohort_id"], unique=False
        )

    op.create_table(
        "action_plan",
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("drafted_by", sa.Integer(), nullable=False),
        sa.Column("drafted_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["confirmed_by"],
            ["user_account.id"],
            name=op.f("fk_action_plan_confirmed_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["couple.id"],
            name=op.f("fk_action_plan_couple_id_couple"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["drafted_by"],
            ["user_account.id"],
            name=op.f("fk_action_plan_drafted_by_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("couple_id", name=op.f("pk_action_plan")),
    )
    op.create_table(
        "retention_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_retention_attempt_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_attempt")),
        sa.UniqueConstraint("user_id", name=op.f("uq_retention_attempt_user_id")),
    )
    op.create_table(
        "survey_taken",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohort.id"],
            name=op.f("fk_survey_taken_cohort_id_cohort"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_survey_taken_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_survey_taken")),
    )
    with op.batch_alter_table("survey_taken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_taken_cohort_id"), ["cohort_id"], unique=False)

    op.create_table(
        "plan_commitment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("who", sa.String(length=100), nullable=False),
        sa.Column("by_when", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["couple_id"],
            ["action_plan.couple_id"],
            name=op.f("fk_plan_commitment_couple_id_action_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_commitment")),
        sa.UniqueConstraint(
            "couple_id", "position", name=op.f("uq_plan_commitment_couple_id_position")
        ),
    )
    op.create_table(
        "retention_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("selected", sa.JSON(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["retention_attempt.id"],
            name=op.f("fk_retention_item_attempt_id_retention_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
            name=op.f("fk_retention_item_question_id_question"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_item")),
        sa.UniqueConstraint(
            "attempt_id", "question_id", name=op.f("uq_retention_item_attempt_id_question_id")
        ),
    )
    with op.batch_alter_table("retention_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retention_item_attempt_id"), ["attempt_id"], unique=False
        )

    op.create_table(
        "checkin_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("marked_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["plan_commitment.id"],
            name=op.f("fk_checkin_mark_commitment_id_plan_commitment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_checkin_mark_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_mark")),
        sa.UniqueConstraint(
            "commitment_id",
            "user_id",
            "round",
            name=op.f("uq_checkin_mark_commitment_id_user_id_round"),
        ),
    )
    with op.batch_alter_table("checkin_mark", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkin_mark_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checkin_first_days", sa.Integer(), server_default="30", nullable=False)
        )
        batch_op.add_column(
            sa.Column("checkin_second_days", sa.Integer(), server_default="90", nullable=False)
        )
        batch_op.add_column(
            sa.Column("checkin_open_days", sa.Integer(), server_default="21", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_column("checkin_open_days")
        batch_op.drop_column("checkin_second_days")
        batch_op.drop_column("checkin_first_days")

    with op.batch_alter_table("checkin_mark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_mark_user_id"))

    op.drop_table("checkin_mark")
    with op.batch_alter_table("retention_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_item_attempt_id"))

    op.drop_table("retention_item")
    op.drop_table("plan_commitment")
    with op.batch_alter_table("survey_taken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_taken_cohort_id"))

    op.drop_table("survey_taken")
    op.drop_table("retention_attempt")
    op.drop_table("action_plan")
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_response_cohort_id"))

    op.drop_table("survey_response")
