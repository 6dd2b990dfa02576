"""The ``integritas`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from app.config import ConfigError, get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Keluarga Berintegritas")
content_app = typer.Typer(no_args_is_help=True, help="Check and sync the curriculum files.")
app.add_typer(content_app, name="content")


def _database():
    import app.models  # noqa: F401 — every table, so foreign keys between domains resolve
    from app.db import Database, make_engine

    return Database(make_engine(get_settings().resolved_database_url()))


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
    """Serve the web application."""
    import uvicorn

    try:
        get_settings().secret()
    except ConfigError as exc:
        fail(str(exc))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        log_level="info",
    )


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from app import migrate as m

    settings = get_settings()
    if settings.sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    m.upgrade(settings.resolved_database_url())
    typer.echo("Database schema is up to date.")
    from app.reports.summary import summary_is_built

    db = _database()
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
    """Validate every curriculum file; problems are named with file and line."""
    typer.echo(_valid_content(folder, "").describe())


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
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
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
    from app.cohorts.roster import MAX_BYTES, parse_roster
    from app.cohorts.service import cohort_by_slug, roster_import
    from app.db import utcnow
    from app.i18n import translations

    settings = get_settings()
    tr = translations(settings.default_locale)
    if not file.is_file():
        fail(f"{file}: file not found.", 2)
    data = file.read_bytes()[: MAX_BYTES + 1]
    parsed = parse_roster(data, file.name)
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
        import app.models  # noqa: F401 — every table, so foreign keys between domains resolve
        from app.db import Database, make_engine

        settings = settings.model_copy(update={"database_url": database_url})
        db = Database(make_engine(settings.resolved_database_url()))
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
    try:
        app()
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
