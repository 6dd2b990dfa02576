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


def expected_heads() -> set[str]:
    """The schema revisions this version of the code migrates to."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_heads(connection) -> set[str]:  # noqa: ANN001 — a SQLAlchemy Connection
    """The schema revisions the database is at (empty before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())
