"""The migrations build exactly the models' schema, and undo cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, inspect

from app import migrate
from tests.conftest import scratch_pg_database

PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture
def empty_url(tmp_path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    with scratch_pg_database("integritas_migrate_test") as url:
        yield url


def test_upgrade_check_downgrade(empty_url):
    migrate.upgrade(empty_url)
    engine = create_engine(empty_url)
    tables = set(inspect(engine).get_table_names())
    assert {"user_account", "auth_session", "cohort", "couple", "lesson", "question"} <= tables
    migrate.check(empty_url)  # raises when models and migrations differ
    migrate.downgrade(empty_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_migration_files_are_named_by_date():
    from app.config import ROOT

    names = [p.name for p in (ROOT / "migrations/versions").glob("*.py")]
    assert names
    for name in names:
        assert name[:4].isdigit() and name[4] == "-" and name[10] == "_", name
