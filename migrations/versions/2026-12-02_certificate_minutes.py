"""each certificate keeps the e-learning's minutes as they were when it was issued

Revision ID: 9d3c2b1a0e64
Revises: 7a1f0c2e9d41
Create Date: 2026-12-02 08:20:00

An official's JP are computed from them, so a later change of the lessons does not change a
certificate already given. Certificates issued before keep None: their JP follow the current
lessons, as they did.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "9d3c2b1a0e64"
down_revision: Union[str, Sequence[str], None] = "7a1f0c2e9d41"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("elearning_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.drop_column("elearning_minutes")
