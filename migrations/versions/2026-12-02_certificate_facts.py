"""what the certificates state: each cohort's training hours (JP) and their rounding, the
organizing institutions, the signatory and a signature image

Revision ID: 8b2e1d3f0a52
Revises: 5e2d8b1c7f30
Create Date: 2026-12-02 09:00:00

Existing cohorts get no workshop JP, rounding to the nearest JP, no organizers and no
signatory until an administrator sets them on the cohort's page.
"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "8b2e1d3f0a52"
down_revision: Union[str, Sequence[str], None] = "5e2d8b1c7f30"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("cohort") as batch:
        batch.add_column(sa.Column("jp_workshop", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column(
                "jp_rounding",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                server_default="nearest",
                nullable=False,
            )
        )
        batch.add_column(
            sa.Column(
                "organizers",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                server_default="",
                nullable=False,
            )
        )
        batch.add_column(
            sa.Column("signatory_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "signatory_title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
            )
        )
        batch.add_column(sa.Column("signature_image", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column("signature_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("cohort") as batch:
        batch.drop_column("signature_type")
        batch.drop_column("signature_image")
        batch.drop_column("signatory_title")
        batch.drop_column("signatory_name")
        batch.drop_column("organizers")
        batch.drop_column("jp_rounding")
        batch.drop_column("jp_workshop")
