"""The ``integritas`` command.

Every command reaches the database through ``_open_database``: all tables registered
(``app.models``, the registry Alembic's environment loads too), so foreign keys between
domains resolve whichever services the command imports. An operator never sees a traceback:
``main`` turns the project's own errors and the known operational ones (settings, a database
that cannot be reached or is not migrated, files) into one line on standard error and exit
status 1; anything else is named in one line too, with its traceback only under
``APP_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from app.config import ConfigError, get_settings

if TYPE_CHECKING:
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    from app.db import Database

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Keluarga Berintegritas",
    # a traceback under APP_DEBUG=1 must not print local variables (passwords, secrets)
    pretty_exceptions_show_locals=False,
)
content_app = typer.Typer(no_args_is_help=True, help="Check and sync the curriculum files.")
app.add_typer(content_app, name="content")

# the database the command opened, named (without its password) when it fails
_opened_url: str | None = None


def _open_database(url: str) -> Database:
    """The database at ``url``, with every table of the application registered. A URL that
    is not one, a driver that is not installed and a SQLite file whose folder does not exist
    are refused at once (SQLite would first wait out its busy timeout)."""
    from sqlalchemy.exc import ArgumentError

    from app.db import Database, make_engine

    global _opened_url
    _opened_url = url
    try:
        engine = make_engine(url)
    except (ArgumentError, ImportError) as exc:
        fail(f"{_shown(url)} is not a database URL the application can use: {exc}.")
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        folder = Path(engine.url.database).parent
        if not folder.is_dir():
            fail(f"The folder of the SQLite database {_shown(url)} does not exist: {folder}.")
    import app.models  # noqa: F401 — every table, so foreign keys between domains resolve

    return Database(engine)


def _database() -> Database:
    """The database of ``APP_DATABASE_URL`` (see ``_open_database``)."""
    return _open_database(get_settings().resolved_database_url())


def _shown(url: str) -> str:
    """A database URL as an error message names it: without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    reload: bool = False,
) -> None:
    """Serve the web application. X-Forwarded-For and X-Forwarded-Proto are believed only
    from the addresses and networks of APP_TRUSTED_PROXIES (none by default)."""
    import uvicorn

    settings = get_settings()
    try:
        settings.secret()
    except ConfigError as exc:
        fail(str(exc))
    db = _database()
    _require_current_schema(db)
    db.dispose()
    proxies = [p for p in settings.trusted_proxies.split(",") if p]
    typer.echo(
        f"X-Forwarded-For and X-Forwarded-Proto are believed from {', '.join(proxies)}."
        if proxies
        else "X-Forwarded-For and X-Forwarded-Proto are ignored (APP_TRUSTED_PROXIES is empty).",
        err=True,
    )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        # without trusted proxies the headers are ignored: uvicorn would otherwise believe
        # them from 127.0.0.1, and anyone on the machine could pose as any address
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_level="info",
        # the application writes its own access log: one JSON line per request, without
        # addresses or query strings (app.edge.RequestLogMiddleware)
        access_log=False,
    )


def _require_current_schema(db: Database) -> None:
    """Exit 1 unless the database answers and its schema is the one this version migrates
    to (a server on an older schema would fail on its first page, not at start)."""
    from app.migrate import current_heads, expected_heads

    expected = expected_heads()
    with db.engine.connect() as conn:
        current = current_heads(conn)
    if current != expected:
        where = db.engine.url.render_as_string(hide_password=True)
        fail(
            f"The database {where} is not migrated to this version "
            f"(schema {', '.join(sorted(current)) or 'none'}, expected "
            f"{', '.join(sorted(expected))}): run `integritas migrate` first."
        )


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from app import migrate as m

    settings = get_settings()
    if settings.sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = _database()
    m.upgrade(settings.resolved_database_url())
    typer.echo("Database schema is up to date.")
    from app.reports.summary import summary_is_built

    with db.write() as session:
        if not summary_is_built(session):
            from app.reports.summary import rebuild

            typer.echo(f"Report summary rebuilt: {rebuild(session)} participants.")


@content_app.command("check")
def content_check(
    folder: Annotated[
        Path | None, typer.Argument(help="Content folder (default: modules/)")
    ] = None,
) -> None:
    """Validate every curriculum file and the item-writing rules; problems are named with
    file and line, and a table shows each question pool's shape."""
    from app.curriculum.item_rules import review_items

    content = _valid_content(folder, "")
    review = review_items(content)
    for finding in review.findings:
        typer.echo(str(finding), err=finding.error)
    typer.echo(content.describe())
    typer.echo("")
    typer.echo(review.table())
    typer.echo("")
    typer.echo(
        f"Item rules: {len(review.errors)} error(s), {len(review.warnings)} warning(s), "
        f"{len(review.accepted)} accepted warning(s)."
    )
    if review.errors:
        fail(f"{len(review.errors)} item-writing error(s) in {folder or 'modules'}.")


def _valid_content(folder: Path | None, consequence: str):
    """The content of the folder, or exit 1 after listing every problem with file and line."""
    from app.curriculum.content import load_content

    folder = folder or get_settings().content_dir
    content, problems = load_content(folder)
    if problems:
        for p in problems:
            typer.echo(str(p), err=True)
        fail(f"{len(problems)} problem(s) found in {folder}{consequence}.")
    return content


@content_app.command("sync")
def content_sync(
    folder: Annotated[
        Path | None, typer.Argument(help="Content folder (default: modules/)")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Remove lessons even if someone completed them")
    ] = False,
) -> None:
    """Load the curriculum files into the database (by stable slug)."""
    from app.curriculum.sync import SyncRefused, sync_content

    content = _valid_content(folder, "; nothing was synced")
    db = _database()
    try:
        report = sync_content(db, content, force=force, settings=get_settings())
    except SyncRefused as exc:
        fail(str(exc))
    typer.echo(report)


@content_app.command("stats")
def content_stats(
    cohort: Annotated[
        str | None, typer.Option(help="Only this cohort's participants (its slug)")
    ] = None,
) -> None:
    """Item statistics for authors, from the database: per question of every quiz the
    facility, discrimination and the reasons to revise it (the facilitator's item analysis),
    and the pre/post facility before and after."""
    from app.quizzes.stats import content_stats_report

    db = _database()
    with db.read() as session:
        try:
            typer.echo(content_stats_report(session, cohort_slug=cohort))
        except LookupError as exc:
            fail(str(exc))


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write")],
    force: Annotated[bool, typer.Option(help="Overwrite the file if it exists")] = False,
) -> None:
    """Copy the whole database to PATH while the site runs (SQLite's online backup;
    PostgreSQL: pg_dump's custom format)."""
    from app.backup import BackupError
    from app.backup import backup as run

    try:
        typer.echo(run(get_settings().resolved_database_url(), path, force=force).message)
    except BackupError as exc:
        fail(str(exc))


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A file written by `integritas backup`")],
    force: Annotated[
        bool, typer.Option(help="Replace a database that holds data (stop the site first)")
    ] = False,
) -> None:
    """Put a backup back into the database of APP_DATABASE_URL."""
    from app.backup import BackupError
    from app.backup import restore as run

    try:
        typer.echo(run(get_settings().resolved_database_url(), path, force=force).message)
    except BackupError as exc:
        fail(str(exc))


@app.command("seed-demo")
def seed_demo() -> None:
    """Create the demo accounts, cohorts and history (safe to run again)."""
    from app.demo import seed_demo as run

    typer.echo(run(_database(), get_settings()))


@app.command("create-user")
def create_user(
    username: str,
    role: Annotated[str, typer.Option(help="participant, facilitator, kpk or admin")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the username)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a staff account. The password is asked for, or read from standard input."""
    from app.accounts.models import Role
    from app.accounts.service import UserError, user_create

    if role not in Role.__members__:
        fail(f"Unknown role {role!r}: choose one of {', '.join(Role.__members__)}.", 2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        except typer.Abort:
            fail("No password was given: type it when asked, or pass --password-stdin.", 2)
    settings = get_settings()
    db = _database()
    try:
        with db.write() as session:
            user = user_create(
                session,
                username=username,
                display_name=name or username,
                role=role,
                password=password,
                settings=settings,
            )
            from app.audit import audit_record
            from app.db import utcnow

            audit_record(
                session,
                now=utcnow(),
                actor_id=None,
                action="user.create",
                target=f"user:{user.username}",
                detail={"role": role, "via": "cli"},
            )
    except UserError as exc:
        fail(str(exc), 2)
    typer.echo(f"Created {role} {user.username!r}.")


@app.command("import-roster")
def import_roster(
    file: Annotated[Path, typer.Argument(help="Roster file: CSV (, or ;) or XLSX")],
    cohort: Annotated[str, typer.Option("--cohort", help="Cohort slug, e.g. tng-2024")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only check; write nothing")] = False,
    create_organizations: Annotated[
        bool,
        typer.Option(
            "--create-organizations",
            help="Create the organizations (OPD) the cohort's region does not have yet",
        ),
    ] = False,
) -> None:
    """Import the couples of a roster into a cohort. Nothing is written if any row is invalid;
    an organization the region does not have is a problem unless --create-organizations."""
    from app.cohorts.roster import parse_roster
    from app.cohorts.service import cohort_by_slug, roster_import
    from app.db import utcnow
    from app.i18n import translations

    settings = get_settings()
    tr = translations(settings.default_locale)
    if not file.is_file():
        fail(f"{file}: file not found.", 2)
    with file.open("rb") as f:
        # more than the limit is refused; read no further
        data = f.read(settings.max_upload_bytes + 1)
    parsed = parse_roster(
        data, file.name, max_bytes=settings.max_upload_bytes, max_rows=settings.max_roster_rows
    )
    db = _database()
    with db.write() as session:
        target = cohort_by_slug(session, slug=cohort)
        if target is None:
            fail(f"Unknown cohort {cohort!r}.", 2)
        result = roster_import(
            session,
            cohort=target,
            parsed=parsed,
            actor_id=None,
            now=utcnow(),
            activation_days=settings.activation_days,
            secret=settings.secret(),
            dry_run=dry_run,
            create_organizations=create_organizations,
        )
    if result.problems:
        for p in sorted(result.problems, key=lambda p: (p.row, p.column or "")):
            column = f" [{p.column}]" if p.column else ""
            typer.echo(f"{file.name}:{p.row}{column}: {tr.gettext(p.message) % p.values}", err=True)
        if result.unknown_organizations:
            typer.echo(
                "Organizations that are not in the cohort's region yet are created only with "
                "--create-organizations.",
                err=True,
            )
        fail(f"{len(result.problems)} problem(s); nothing was imported.")
    verb = "Would import" if dry_run else "Imported"
    typer.echo(
        f"{verb}: {len(result.created)} new couples, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged."
    )
    if result.new_organizations:
        verb = "Would create" if dry_run else "Created"
        typer.echo(
            f"{verb} {len(result.new_organizations)} organization(s): "
            + ", ".join(result.new_organizations)
        )


# ---------------------------------------------------------------- retention

retention_app = typer.Typer(no_args_is_help=True, help="Personal data past their retention.")
app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would be erased; change nothing")
    ] = False,
) -> None:
    """Pseudonymize the participants of every cohort whose learning closed more than
    APP_RETENTION_YEARS years ago (their learning figures stay, without their names).
    Schedule it, e.g. once a month."""
    from app.db import utcnow
    from app.privacy.erasure import retention_run as run

    settings = get_settings()
    db = _database()
    with db.read() if dry_run else db.write() as session:
        done = run(session, years=settings.retention_years, now=utcnow(), dry_run=dry_run)
    people = sum(n for _, n in done)
    verb = "would be pseudonymized" if dry_run else "pseudonymized"
    typer.echo(
        f"Retention {settings.retention_years} years: {len(done)} cohort(s) past it, "
        f"{people} participant(s) {verb}."
    )
    for slug, n in done:
        typer.echo(f"  {slug}: {n}")


privacy_app = typer.Typer(no_args_is_help=True, help="Personal data: who was reached.")
app.add_typer(privacy_app, name="privacy")


def _day_option(value: str | None, name: str) -> datetime | None:
    from datetime import date, datetime, time

    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        fail(f"{name} {value!r} is not a date like 2026-12-01.", 2)
    return datetime.combine(day, time(0), tzinfo=get_settings().tz)


@privacy_app.command("affected")
def privacy_affected(
    actor: Annotated[
        str | None, typer.Option("--actor", help="The staff account's username")
    ] = None,
    since: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD)")] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Last day, included (YYYY-MM-DD)")
    ] = None,
    cohort: Annotated[str | None, typer.Option("--cohort", help="Only this cohort")] = None,
) -> None:
    """Whose personal data a staff account's views and exports reached (the audit log's
    access.* and export.* records), or a whole cohort's participants: for a breach notice
    (UU 27/2022 Pasal 46: within 3 × 24 hours). Tab-separated: username, name, contact,
    cohort, how."""
    from datetime import timedelta

    from app.privacy.service import affected_by

    if actor is None and since is None and until is None and cohort is None:
        fail("Name --actor, --from/--to or --cohort: whose data to look for.", 2)
    start = _day_option(since, "--from")
    end = _day_option(until, "--to")
    db = _database()
    with db.read() as session:
        rows = affected_by(
            session,
            actor=actor,
            since=start,
            until=end + timedelta(days=1) if end else None,
            cohort=cohort,
        )
    typer.echo(f"{len(rows)} participant account(s) reached.", err=True)
    for r in rows:
        fields = (r.username, r.name, r.contact or "", r.cohort or "", ",".join(r.how))
        typer.echo("\t".join(fields))


# ---------------------------------------------------------------- api-token

api_token_app = typer.Typer(no_args_is_help=True, help="Tokens for the JSON API (/api/v1).")
app.add_typer(api_token_app, name="api-token")


@api_token_app.command("create")
def api_token_create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses it; each name once")],
) -> None:
    """Make a token. Its secret is printed this once, alone on standard output; only its
    hash is stored."""
    from app.api.service import ApiTokenError, token_create
    from app.db import utcnow

    db = _database()
    try:
        with db.write() as session:
            token, secret = token_create(session, actor=None, name=name, now=utcnow())
    except ApiTokenError as exc:
        fail(f"{exc.message} ({name!r})", 2)
    typer.echo(
        f"Created API token {token.name!r}. Copy it now: it is shown only this once.", err=True
    )
    typer.echo(secret)


@api_token_app.command("list")
def api_token_list() -> None:
    """Every token: name, first characters, created, last used, revoked."""
    from app.api.service import tokens_list

    tz = get_settings().tz

    def when(value) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "-"

    with _database().read() as session:
        tokens = tokens_list(session, actor=None)
    if not tokens:
        typer.echo("No API tokens yet.")
        return
    rows = [("NAME", "BEGINS", "CREATED", "LAST USED", "STATUS")]
    for t in tokens:
        status = "active" if t.active else f"revoked {when(t.revoked_at)}"
        rows.append((t.name, t.prefix + "…", when(t.created_at), when(t.last_used_at), status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@api_token_app.command("revoke")
def api_token_revoke(name: Annotated[str, typer.Argument(help="The token's name")]) -> None:
    """Revoke a token: from now on it opens nothing."""
    from app.api.service import token_revoke
    from app.db import utcnow
    from app.errors import NotFound

    db = _database()
    try:
        with db.write() as session:
            revoked = token_revoke(session, actor=None, now=utcnow(), name=name)
    except NotFound:
        fail(f"No API token is named {name!r}.", 2)
    typer.echo(f"Revoked API token {name!r}." if revoked else f"{name!r} was already revoked.")


# ---------------------------------------------------------------- seed-synthetic


@app.command("seed-synthetic")
def seed_synthetic(
    couples: Annotated[int, typer.Option("--couples", min=1, help="How many couples")],
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same data")] = 2024,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Write here instead of APP_DATABASE_URL"),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Write even into a database with real (non-syn-) cohorts"),
    ] = False,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Nothing happens on or after this day (YYYY-MM-DD)"),
    ] = None,
) -> None:
    """Build a synthetic country for KPK's dashboards and benchmarks: ~70 local governments,
    their OPDs, cohorts 2022–2026 (slugs start with syn-) and COUPLES couples with their
    progress. Deterministic; refuses a database with real cohorts unless --force; the
    database must be migrated and the curriculum synced first."""
    from datetime import date

    from app.synthetic import SyntheticRefused, describe
    from app.synthetic import seed_synthetic as run

    settings = get_settings()
    if database_url is None:
        db = _database()
    else:
        settings = settings.model_copy(update={"database_url": database_url})
        db = _open_database(settings.resolved_database_url())
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today {today!r} is not a date like 2026-12-01.", 2)
    try:
        result = run(
            db, settings, couples=couples, seed=seed, today=day, force=force, progress=typer.echo
        )
    except SyntheticRefused as exc:
        fail(str(exc))
    typer.echo(describe(result))


def main() -> None:
    """The ``integritas`` entry point: what stops a command is one line on standard error
    and exit status 1, never a traceback (``APP_DEBUG=1`` shows it, for a developer)."""
    try:
        app()
    except Exception as exc:
        if os.environ.get("APP_DEBUG") == "1":
            raise
        explained = _explain(exc)
        if explained is None:
            first = (str(exc).strip().splitlines() or [""])[0]
            explained = (
                f"Unexpected error: {type(exc).__name__}: {first} "
                "(run again with APP_DEBUG=1 to see where it happened)."
            )
        typer.secho(explained, fg=typer.colors.RED, err=True)
        sys.exit(1)


def _explain(exc: Exception) -> str | None:
    """One line about an error an operator can act on, or ``None`` for an unexpected one."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return _settings_problem(exc)
    if isinstance(exc, DBAPIError):
        return _database_problem(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}."
    return None


def _settings_problem(exc: ValidationError) -> str:
    """The settings that cannot be read, each named by its environment variable."""
    parts = []
    for error in exc.errors():
        name = "APP_" + "_".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        if name not in message:
            got = "" if "SECRET" in name else f" (got {error.get('input')!r})"  # never shown
            message = f"{name}: {message}{got}"
        parts.append(message)
    return "Settings cannot be used: " + "; ".join(parts) + "."


# SQLSTATEs of PostgreSQL that mean "the schema is not this version's": undefined table, column
_NOT_MIGRATED_STATES = {"42P01", "42703"}


def _database_problem(exc: DBAPIError) -> str:
    """A database error in one line: the database (without its password) and the driver's
    first line; a missing table or column sends the operator to ``integritas migrate``."""
    where = _shown(_opened_url) if _opened_url else "the database"
    lines = str(exc.orig).strip().splitlines()
    reason = lines[0].strip() if lines else type(exc.orig).__name__
    if (
        getattr(exc.orig, "sqlstate", None) in _NOT_MIGRATED_STATES
        or reason.startswith(("no such table", "no such column"))
        or "has no column named" in reason
    ):
        return (
            f"The database {where} is not migrated to this version ({reason}): "
            "run `integritas migrate` first."
        )
    return f"Cannot use the database {where}: {reason}."


if __name__ == "__main__":
    main()
