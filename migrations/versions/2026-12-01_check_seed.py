"""a seed per person for the order of the lesson checks' choices

Revision ID: 9c3e5a7d2b14
Revises: 4b1f0c9e7a21
Create Date: 2026-12-01 21:30:00

Every existing account gets its own random seed, so the choices of the lesson checks (until
now always in the file's order) are shuffled for everyone from the next visit on.
"""

import secrets
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "9c3e5a7d2b14"
down_revision: Union[str, Sequence[str], None] = "4b1f0c9e7a21"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("check_seed", sa.Integer(), server_default="0", nullable=False)
        )
    users = sa.table("user_account", sa.column("id", sa.Integer), sa.column("check_seed"))
    connection = op.get_bind()
    ids = connection.scalars(sa.select(users.c.id)).all()
    for id_ in ids:
        connection.execute(
            users.update().where(users.c.id == id_).values(check_seed=secrets.randbelow(2**31))
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("check_seed")
