"""Database engine and sessions.

SQLite (default) runs in WAL mode with foreign keys and a busy timeout; write transactions take
the write lock up front (``BEGIN IMMEDIATE``) so concurrent writers wait instead of failing.
PostgreSQL runs through psycopg 3 with the same code.

A request reads through one read session (``app.deps.ReadDep``): one transaction, so a page
sees one snapshot (``REPEATABLE READ`` on PostgreSQL; a deferred ``BEGIN`` on SQLite). Changes
go through ``db.write()``: all or nothing. Statements are SQLAlchemy Core or ORM, compiled once
and kept in SQLAlchemy's statement cache. The reads behind every participant page (who is
signed in, the couple, the progress) select columns, not objects, and run on the session's own
connection (``execute_core``): the same transaction, without the ORM's result
machinery, which took a fifth of a lesson page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    Engine,
    Executable,
    MetaData,
    Result,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

_WRITE = "integritas_write"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime (SQLite keeps
    no time zone, PostgreSQL does; both behave the same through this type)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC) if dialect.name != "sqlite" else value
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ts(*, nullable: bool = False, index: bool = False) -> Column:
    """An aware UTC timestamp column."""
    return Column(UTCDateTime(), nullable=nullable, index=index)


def utcnow() -> datetime:
    """The default clock: an aware UTC timestamp. Tests travel in time with time-machine."""
    return datetime.now(UTC)


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def saved_id(row: _HasId) -> int:
    """The primary key of a row that was loaded or flushed (``id`` is ``None`` only before
    the first flush): typed ``int``, and a clear error if the row was never saved."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush the session first")
    return row.id


TOUCHED_USERS = "learning_touched_users"
TOUCHED_COUPLES = "learning_touched_couples"
TOUCHED_ALL = "learning_touched_all"


def touch_learning(
    session: Any,
    *,
    users: Iterable[int | None] = (),
    couples: Iterable[int | None] = (),
    everyone: bool = False,
) -> None:
    """Note in the session that these participants' (or couples') learning changed: before
    the transaction commits, the reports' summary of them is brought up to date
    (``app.reports.summary``). Services that change learning with Core statements call it;
    rows written through the ORM are noticed by themselves. ``everyone``: what counts as
    learning changed (a content sync), so the whole summary is recomputed."""
    info = session.info
    if everyone:
        info[TOUCHED_ALL] = True
    info.setdefault(TOUCHED_USERS, set()).update(u for u in users if u is not None)
    info.setdefault(TOUCHED_COUPLES, set()).update(c for c in couples if c is not None)


def execute_core(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> Result[*tuple[Any, ...]]:
    """Run a statement that selects columns (not objects) on the session's own connection:
    the same transaction and SQLAlchemy's compiled cache, without the ORM's result machinery
    (the hot reads of every participant page). Like ``session.execute``, it first writes what
    the session holds (autoflush), so a read after a change in a write session sees it."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, dict(params or {}))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling is off).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    write = conn.get_execution_options().get(_WRITE, False)
    # straight on the driver: a transaction starts on every request, and SQLAlchemy's
    # execution path would cost more than the statement (query counters skip BEGIN anyway)
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        memory = ":memory:" in url or url in ("sqlite://", "sqlite:///")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 10}}
        if memory:
            from sqlalchemy.pool import StaticPool

            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)
    return create_engine(url, echo=echo, poolclass=NullPool)


class Database:
    """The engine and the two kinds of session the application uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # reads: one snapshot per request (PostgreSQL's default READ COMMITTED gives each
        # statement its own)
        self.read_engine = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self.write_engine = engine.execution_options(**{_WRITE: True})

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read session: its first statement opens one transaction that the rest share."""
        with Session(self.read_engine, expire_on_commit=False, autoflush=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error: all or nothing."""
        with Session(self.write_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT 1").scalar() == 1

    def dispose(self) -> None:
        self.engine.dispose()
