"""Schema migrations (Alembic), run by ``integritas migrate`` and the tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

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


def expected_heads() -> set[str]:
    """The schema revisions this version of the code migrates to."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps
CURRENT_HEADS = text("SELECT version_num FROM alembic_version")


def current_heads(connection) -> set[str]:  # noqa: ANN001 — a SQLAlchemy Connection
    """The schema revisions the database is at (empty before the first migration): Alembic's
    version table read straight (``/healthz`` asks on every call; Alembic's migration context
    would cost more than the rest of the check)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    return {row[0] for row in connection.execute(CURRENT_HEADS)}
