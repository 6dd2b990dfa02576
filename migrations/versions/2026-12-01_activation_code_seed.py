"""activation codes are no longer stored: a seed and a keyed hash

Revision ID: 4b1f0c9e7a21
Revises: 73d8c56ac35c
Create Date: 2026-12-01 19:00:00

A code still unused keeps working: its keyed hash is computed here from the readable code
(with the server's secret, APP_SECRET_KEY or var/secret_key) and the readable code is
dropped. Such a code cannot be printed again (it has no seed): the cards page shows it no
more, and a facilitator gives a new code if a card was lost.
"""

import hashlib
import hmac
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import app.db  # noqa: F401

revision: str = "4b1f0c9e7a21"
down_revision: Union[str, Sequence[str], None] = "73d8c56ac35c"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("activation_code") as batch:
        batch.add_column(
            sa.Column("code_seed", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    table = sa.table(
        "activation_code",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("code_hash", sa.String),
    )
    connection = op.get_bind()
    readable = connection.execute(
        sa.select(table.c.id, table.c.code).where(table.c.code.is_not(None))
    ).all()
    if readable:
        from app.cohorts.service import code_hash
        from app.config import get_settings

        secret = get_settings().secret()
        for id_, code in readable:
            connection.execute(
                table.update()
                .where(table.c.id == id_)
                .values(code_hash=code_hash(code, secret), code=None)
            )
    with op.batch_alter_table("activation_code") as batch:
        batch.drop_column("code")


def downgrade() -> None:
    with op.batch_alter_table("activation_code") as batch:
        batch.add_column(sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch.drop_column("code_seed")
