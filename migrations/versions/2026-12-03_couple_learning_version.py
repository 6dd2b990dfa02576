"""each couple carries a learning version, raised whenever its partners' learning changes

Revision ID: 2c7e4a9b5d13
Revises: 9d3c2b1a0e64
Create Date: 2026-12-03 13:30:00

The facilitator's working list and home keep each couple's facts (lessons, quizzes, tests,
reflections, pledge, last activity) between requests and read again only the couples whose
version moved.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "2c7e4a9b5d13"
down_revision: Union[str, Sequence[str], None] = "9d3c2b1a0e64"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("couple") as batch:
        batch.add_column(
            sa.Column("learning_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("couple") as batch:
        batch.drop_column("learning_version")
