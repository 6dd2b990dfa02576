"""Schema migrations (Alembic), run by ``integritas migrate`` and the tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from app.config import ROOT


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config(toml_file=str(ROOT / "pyproject.toml"))
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str | None = None) -> None:
    """Raises when the models and the migrations disagree."""
    command.check(alembic_config(database_url))
