"""Request dependencies, as ``Annotated`` types a route names in its signature.

- ``SettingsDep``, ``DbDep``, ``ClockDep`` / ``NowDep``: what ``create_app`` was given.
- ``ReadDep``: the request's read session — one transaction, one snapshot, shared by every
  dependency and the route (FastAPI caches it per request).
- ``WriteDep``: a write transaction around the route function: committed when it returns,
  rolled back when it raises (an ``AppError`` is then rendered by the one handler).
  Routes that must answer a refused change with their own form use ``DbDep`` and a
  ``with db.write()`` block, so the refusal is rolled back before the form is rendered.
- ``CurriculumDep``: the curriculum of the current content version.
  ``request_now`` and ``request_curriculum`` give the same values to dependencies built on
  top of these (``app.learning.deps``) without more dependency nodes on the hot pages.
- ``UserDep`` (anyone signed in), ``ParticipantDep``, ``FacilitatorDep`` (facilitator or
  admin), ``KpkDep`` (KPK or admin), ``AdminDep``: the signed-in user, or a redirect to
  /login, or 403.

Only this module, ``app.web`` and ``app.main`` read ``request.app.state``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from sqlmodel import Session

from app.accounts.models import CURRENT_USER_COLUMNS, CurrentUser, Role
from app.accounts.service import SESSION_USER, session_lookup
from app.config import Settings
from app.curriculum.outline import Curriculum
from app.curriculum.service import CONTENT_VERSION, CurriculumCache
from app.db import Database
from app.errors import ConsentRequired, Forbidden, LoginRequired
from app.i18n import LOCALES
from app.inputs import check_inputs
from app.learning.standing import with_learner
from app.privacy.models import CURRENT_NOTICE, consent_due
from app.web import check_csrf, cookie_name

Clock = Callable[[], datetime]


def attach(app: FastAPI, *, settings: Settings, db: Database, clock: Clock) -> None:
    """What the dependencies below hand out, kept on the application."""
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock
    app.state.curriculum = CurriculumCache()


def load_curriculum_now(app: FastAPI) -> None:
    """Load the curriculum before the first request (at start-up)."""
    with app.state.db.read() as session:
        app.state.curriculum.get(session)


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> Database:
    """The database, for a route that writes. Such a route first lets go of the request's
    read snapshot (what it read stays read): an open SQLite reader keeps the write-ahead log
    from being checkpointed, and every commit then tries again (+0.4 ms per quiz answer)."""
    reading: Session | None = getattr(request.state, "read_session", None)
    if reading is not None and reading.in_transaction():
        reading.commit()  # a read-only transaction; nothing expires (expire_on_commit=False)
    return request.app.state.db


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def request_now(request: Request) -> datetime:
    """One "now" for the whole request, whoever asks first."""
    now: datetime | None = getattr(request.state, "now", None)
    if now is None:
        now = request.state.now = request.app.state.clock()
    return now


async def get_now(request: Request) -> datetime:
    return request_now(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
ClockDep = Annotated[Clock, Depends(get_clock)]
NowDep = Annotated[datetime, Depends(get_now)]


async def read_session(request: Request) -> AsyncIterator[Session]:
    with request.app.state.db.read() as session:
        request.state.read_session = session
        yield session


async def write_session(db: DbDep) -> AsyncIterator[Session]:
    with db.write() as session:
        yield session


ReadDep = Annotated[Session, Depends(read_session)]
WriteDep = Annotated[Session, Depends(write_session, scope="function")]


def request_curriculum(request: Request, session: Session) -> Curriculum:
    """The curriculum of the current content version, looked up once per request."""
    state = request.state
    curriculum: Curriculum | None = getattr(state, "curriculum", None)
    if curriculum is None:
        cache: CurriculumCache = request.app.state.curriculum
        if hasattr(state, "content_version"):  # read with the signed-in user
            curriculum = cache.for_version(session, state.content_version)
        else:
            curriculum = cache.get(session)
        state.curriculum = curriculum
    return curriculum


async def get_curriculum(request: Request, session: ReadDep) -> Curriculum:
    return request_curriculum(request, session)


CurriculumDep = Annotated[Curriculum, Depends(get_curriculum)]


# ---------------------------------------------------------------- who is signed in


# who is signed in, the current content version (which most signed-in pages need), the
# newest privacy notice (to ask whoever has not agreed to it) and, for a participant, the
# couple, cohort and partner their pages depend on
IDENTITY = with_learner(
    SESSION_USER.add_columns(CONTENT_VERSION.scalar_subquery(), CURRENT_NOTICE.scalar_subquery())
)
_USER_WIDTH = len(CURRENT_USER_COLUMNS)


def identify(request: Request, session: Session) -> CurrentUser | None:
    """Who is signed in, which language they read, the current content version and a
    participant's couple columns (on ``request.state``); at most one statement per request."""
    state = request.state
    if getattr(state, "context_loaded", False):
        return state.user
    state.context_loaded = True
    app_state = request.app.state
    settings: Settings = app_state.settings
    token = request.cookies.get(cookie_name(settings, "kb_session"))
    row = session_lookup(session, token=token or "", now=request_now(request), statement=IDENTITY)
    user = None
    state.consent_due = False
    state.learner_row = None
    if row is not None:
        values = tuple(row)
        user = CurrentUser(*values[:_USER_WIDTH])
        state.content_version, notice = values[_USER_WIDTH : _USER_WIDTH + 2]
        state.consent_due = consent_due(user.consent_version, notice)
        state.learner_row = values[_USER_WIDTH + 2 :]
    state.user = user
    state.session_token = token if user else None
    lang = request.cookies.get("lang")
    if user is not None and user.locale in LOCALES:
        state.locale = user.locale
    elif lang in LOCALES:
        state.locale = lang
    else:
        state.locale = settings.default_locale
    return user


async def load_context(request: Request, session: ReadDep) -> CurrentUser | None:
    """Runs before every route: the signed-in user, the language, the CSRF check, and the
    input gate (``app.inputs``: no route or service sees a value it refuses)."""
    user = identify(request, session)
    await check_csrf(request)
    await check_inputs(request)
    return user


CurrentUserDep = Annotated[CurrentUser | None, Depends(load_context)]


def request_learner_row(request: Request) -> tuple[Any, ...] | None:
    """The signed-in participant's couple columns, read with the session (``with_learner``):
    ``None`` when no one is signed in."""
    return getattr(request.state, "learner_row", None)


def _agreed(request: Request, user: CurrentUser) -> CurrentUser:
    """The user, once they have agreed to the newest privacy notice (``ConsentRequired``
    otherwise: every page but the notice, the question, their own data and signing out)."""
    if request.state.consent_due:
        raise ConsentRequired
    return user


async def require_user(request: Request, user: CurrentUserDep) -> CurrentUser:
    if user is None:
        raise LoginRequired
    return _agreed(request, user)


UserDep = Annotated[CurrentUser, Depends(require_user)]


def require_role(
    *roles: Role,
) -> Callable[[Request, CurrentUser | None], Awaitable[CurrentUser]]:
    allowed = {r.value for r in roles}

    async def guard(request: Request, user: CurrentUserDep) -> CurrentUser:
        if user is None:
            raise LoginRequired
        if user.role not in allowed:
            raise Forbidden
        return _agreed(request, user)

    guard.__name__ = f"require_{'_'.join(sorted(allowed))}"
    return guard


ParticipantDep = Annotated[CurrentUser, Depends(require_role(Role.participant))]
FacilitatorDep = Annotated[CurrentUser, Depends(require_role(Role.facilitator, Role.admin))]
KpkDep = Annotated[CurrentUser, Depends(require_role(Role.kpk, Role.admin))]
AdminDep = Annotated[CurrentUser, Depends(require_role(Role.admin))]
