"""Database engine and sessions.

SQLite (default) runs in WAL mode with foreign keys and a busy timeout; write transactions take
the write lock up front (``BEGIN IMMEDIATE``) so concurrent writers wait instead of failing.
PostgreSQL runs through psycopg 3 with the same code.

Routes use ``db.read()`` for pages and ``db.write()`` for changes, inside ``async def``
handlers: short, lean queries, no per-request session generator in a thread pool. The few
queries behind every participant page (who is signed in, the couple, the progress) are
``Query`` objects run through ``db.reader()``: compiled once per database, executed straight on
the driver with SQLAlchemy's own type conversion, at a tenth of the cost of a Session query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Select,
    TypeDecorator,
    Update,
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


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware UTC datetime (SQLite keeps
    no time zone, PostgreSQL does; both behave the same through this type)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC) if dialect.name != "sqlite" else value
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The default clock: an aware UTC timestamp. Tests travel in time with time-machine."""
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling is off).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:  # noqa: ANN001
    write = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        memory = ":memory:" in url or url in ("sqlite://", "sqlite:///")
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 10}}
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


@dataclass
class _Plan:
    sql: str
    names: tuple[str, ...] | None  # parameter order for a positional driver (SQLite)
    defaults: dict[str, Any]
    required: frozenset[str]
    binds: dict[str, Callable | None]
    types: list[Any]  # the selected columns' types for this dialect
    # (column index, result processor), known after the first run: a driver may need the
    # column's type code from the cursor (PostgreSQL's numeric types)
    converted: list[tuple[int, Callable]] | None = None


class Query:
    """A Core ``select`` (or ``update``) compiled once per database dialect and executed on the
    driver's cursor.

    Values are converted exactly as SQLAlchemy converts them (the column types' bind and result
    processors, ``UTCDateTime`` included). Parameters are ``bindparam("name")``; a list for
    ``IN`` is not supported: name each value."""

    def __init__(self, statement: Select | Update) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self.statement.compile(dialect=dialect)
            if "POSTCOMPILE" in compiled.string:
                raise ValueError("Query does not take expanding (IN list) parameters")
            plan = self._plans[dialect.name] = _Plan(
                sql=compiled.string,
                names=tuple(compiled.positiontup) if compiled.positional else None,
                defaults={
                    name: bind.effective_value
                    for name, bind in compiled.binds.items()
                    if not bind.required
                },
                required=frozenset(name for name, bind in compiled.binds.items() if bind.required),
                binds={
                    name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                    for name, bind in compiled.binds.items()
                },
                types=[
                    column.type.dialect_impl(dialect)
                    for column in getattr(self.statement, "selected_columns", ())
                ],
            )
        return plan


class Reader:
    """Runs ``Query`` objects on one pooled driver connection (no ORM session): the reads of
    the pages every participant opens. ``SessionReader`` runs them inside a Session."""

    def __init__(self, db: Database, connection: Any) -> None:  # noqa: ANN401 — DBAPI
        self.db = db
        self.connection = connection
        self.dialect = db.engine.dialect

    def _run(self, sql: str, args: Any) -> tuple[list, Any, int]:  # noqa: ANN401
        """(rows, cursor description, row count) of one statement."""
        for hook in self.db.statement_hooks:
            hook(sql)
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, args)
            description = cursor.description
            rows = cursor.fetchall() if description else []
            return rows, description, cursor.rowcount
        finally:
            cursor.close()

    def _execute(self, query: Query, params: dict) -> tuple[list, _Plan, int]:
        plan = query.plan(self.dialect)
        if missing := plan.required - params.keys():
            raise TypeError(f"Query parameters missing: {', '.join(sorted(missing))}")
        values = {**plan.defaults, **params}
        for name, process in plan.binds.items():
            if process is not None:
                values[name] = process(values[name])
        args = values if plan.names is None else tuple(values[name] for name in plan.names)
        rows, description, count = self._run(plan.sql, args)
        if plan.converted is None and description:
            plan.converted = [
                (i, process)
                for i, (type_, described) in enumerate(zip(plan.types, description, strict=True))
                if (process := type_.result_processor(self.dialect, described[1]))
            ]
        return rows, plan, count

    def rows(self, query: Query, **params: Any) -> list:  # noqa: ANN401 — rows are tuples
        rows, plan, _ = self._execute(query, params)
        if not plan.converted:
            return rows
        out = []
        for row in rows:
            values = list(row)
            for i, process in plan.converted:
                values[i] = process(values[i])
            out.append(tuple(values))
        return out

    def first(self, query: Query, **params: Any) -> tuple | None:  # noqa: ANN401
        rows = self.rows(query, **params)
        return rows[0] if rows else None

    def scalar(self, query: Query, **params: Any) -> Any:  # noqa: ANN401
        row = self.first(query, **params)
        return row[0] if row else None

    def execute(self, query: Query, **params: Any) -> int:  # noqa: ANN401
        """An UPDATE or DELETE; returns the number of rows it changed."""
        return self._execute(query, params)[2]


class SessionReader(Reader):
    """``Query`` objects inside an ORM session's transaction: they see its uncommitted changes
    and go through SQLAlchemy's events (so query counters see them too)."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.dialect = self.connection.dialect

    def _run(self, sql: str, args: Any) -> tuple[list, Any, int]:  # noqa: ANN401
        result = self.connection.exec_driver_sql(sql, args)
        description = result.cursor.description if result.returns_rows else None
        rows = [tuple(r) for r in result.fetchall()] if description else []
        return rows, description, result.rowcount


class Database:
    """The engine and the kinds of session the application uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write_engine = engine.execution_options(**{_WRITE: True})
        # called with each ``Query`` statement a Reader runs (SQLAlchemy's own events do not
        # see them): the tests count a page's queries with it
        self.statement_hooks: list[Callable[[str], None]] = []

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error: all or nothing."""
        with Session(self.write_engine, expire_on_commit=False) as session:
            with session.begin():
                yield session

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """Reads straight on a pooled driver connection, for ``Query`` objects."""
        connection = self.engine.raw_connection()
        try:
            yield Reader(self, connection)
        finally:
            connection.close()  # back to the pool, which rolls back anything left open

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT 1").scalar() == 1

    def dispose(self) -> None:
        self.engine.dispose()
