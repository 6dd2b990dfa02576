"""Accounts: passwords, sign-in sessions, throttling, users."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Row, Select, bindparam, delete, func, select, update
from sqlmodel import Session, col

from app.accounts.models import (
    CURRENT_USER_COLUMNS,
    AuthSession,
    CurrentUser,
    LoginFailure,
    Role,
    User,
)
from app.audit import audit_record
from app.cohorts.service import ActivationError, activation_find, activation_use
from app.config import Settings
from app.db import execute_core, saved_id, touch_learning
from app.errors import AppError
from app.i18n import N_

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
COMMON_PASSWORDS = frozenset(
    """
    password password1 password123 12345678 123456789 1234567890 qwerty123 qwertyuiop
    11111111 00000000 87654321 iloveyou abcd1234 admin123 welcome1 sayang123 bismillah
    indonesia merdeka45 rahasia123 jakarta123 tangerang katasandi passw0rd 1q2w3e4r
    asdfghjkl zxcvbnm123 12341234 11223344 admin1234 demo1234 letmein1
    """.split()
)


@lru_cache
def hasher(test: bool = False) -> PasswordHasher:
    """argon2id; the test settings use small costs so the suite stays quick."""
    if test:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def hash_password(password: str, settings: Settings) -> str:
    return hasher(settings.env == "test").hash(password)


def verify_password(password_hash: str | None, password: str, settings: Settings) -> bool:
    ph = hasher(settings.env == "test")
    if not password_hash:
        # Same work as a real check, so timing does not tell whether the account exists.
        ph.hash(password)
        return False
    try:
        return ph.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why a new password is refused (an English message id), or None when it is fine."""
    if len(password) < MIN_PASSWORD:
        return N_("The password must be at least 8 characters long.")
    if len(password) > MAX_PASSWORD:
        return N_("The password is too long (at most 256 characters).")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or (username and username.lower() in lowered):
        return N_("This password is too easy to guess. Choose another one.")
    if len(set(password)) < 4:
        return N_("This password is too easy to guess. Choose another one.")
    return None


def new_password_problem(password: str, again: str, *, username: str) -> str | None:
    """``password_problem``, and the second entry must match the first."""
    problem = password_problem(password, username=username)
    if problem is None and password != again:
        problem = N_("The two passwords are not the same.")
    return problem


def user_set_password(session: Session, *, user_id: int, password_hash: str) -> None:
    session.execute(update(User).where(col(User.id) == user_id).values(password_hash=password_hash))
    touch_learning(session, users=[user_id])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------- throttling


class Throttled(AppError):
    """Too many failures lately; ``retry_after`` seconds until the next try."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            message=N_("Too many failed attempts. Wait a few minutes, then try again."),
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


def _failure_keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username.lower()[:100]}", f"addr:{address[:100]}"


def throttle_check(
    session: Session, *, username: str, address: str, settings: Settings, now: datetime
) -> None:
    """Raise ``Throttled`` while too many recent failures stand against the account or address."""
    user_key, addr_key = _failure_keys(username, address)
    throttle_keys(
        session,
        limits={user_key: settings.login_max_per_account, addr_key: settings.login_max_per_address},
        window=timedelta(minutes=settings.login_window_minutes),
        now=now,
    )


def throttle_keys(
    session: Session, *, limits: dict[str, int], window: timedelta, now: datetime
) -> None:
    """Raise ``Throttled`` when any key has reached its limit of failures within the window."""
    rows = session.execute(
        select(col(LoginFailure.key), func.count(), func.min(col(LoginFailure.at)))
        .where(col(LoginFailure.key).in_(list(limits)), col(LoginFailure.at) > now - window)
        .group_by(col(LoginFailure.key))
    ).all()
    for key, count, oldest in rows:
        if count >= limits[key]:
            wait = oldest + window - now
            raise Throttled(retry_after=max(1, int(wait.total_seconds()) + 1))


def throttle_record_failure(
    session: Session, *, username: str, address: str, now: datetime
) -> None:
    for key in _failure_keys(username, address):
        session.add(LoginFailure(key=key, at=now))


def throttle_clear(session: Session, *, username: str) -> None:
    session.execute(delete(LoginFailure).where(col(LoginFailure.key) == f"user:{username.lower()}"))


# ---------------------------------------------------------------- sessions


def session_create(
    session: Session, *, user: User, settings: Settings, now: datetime, user_agent: str | None
) -> str:
    """A fresh random token for a new sign-in; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            user_id=saved_id(user),
            created_at=now,
            expires_at=now + timedelta(days=settings.session_days),
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    return token


SESSION_USER = (
    select(*CURRENT_USER_COLUMNS)
    .join(AuthSession, col(AuthSession.user_id) == User.id)
    .where(
        col(AuthSession.token_hash) == bindparam("token_hash"),
        col(AuthSession.expires_at) > bindparam("now"),
        col(User.is_active).is_(True),
    )
)


def session_lookup(
    session: Session, *, token: str, now: datetime, statement: Select = SESSION_USER
) -> Row[*tuple[Any, ...]] | None:
    """The row of ``statement`` (``SESSION_USER`` or a select that adds columns to it) for
    the active user behind a session token, in one statement."""
    if not token or len(token) > 100:
        return None
    return execute_core(session, statement, {"token_hash": token_hash(token), "now": now}).first()


def session_user(session: Session, *, token: str, now: datetime) -> CurrentUser | None:
    """The active user behind a session token, in one statement."""
    row = session_lookup(session, token=token, now=now)
    return CurrentUser(*row) if row else None


def session_end(session: Session, *, token: str) -> None:
    session.execute(delete(AuthSession).where(col(AuthSession.token_hash) == token_hash(token)))


def sessions_end_for_user(session: Session, *, user_id: int) -> None:
    session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user_id))


# ---------------------------------------------------------------- users


class UserError(AppError):
    """A user cannot be created or changed as asked; the message says why (English id)."""

    status = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message=message, field=field)


def user_by_username(session: Session, *, username: str) -> User | None:
    return session.execute(
        select(User).where(col(User.username) == username.strip().lower())
    ).scalar_one_or_none()


def user_create(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str | None,
    settings: Settings,
    password_hash: str | None = None,
    locale: str = "id",
    **extra: Any,
) -> User:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise UserError(
            N_("Username must be 2–64 characters: lowercase letters, digits, '.', '_' or '-'.")
        )
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise UserError(N_("Display name must be 1–200 characters."))
    if role not in Role.__members__:
        raise UserError(f"Unknown role {role!r}: choose one of {', '.join(Role.__members__)}.")
    if password is not None:
        problem = password_problem(password, username=username)
        if problem:
            raise UserError(problem)
        password_hash = hash_password(password, settings)
    if user_by_username(session, username=username) is not None:
        raise UserError(N_("This username is already taken."))
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        locale=locale,
        **extra,
    )
    session.add(user)
    session.flush()
    return user


def user_set_active(session: Session, *, user_id: int, active: bool) -> None:
    """Deactivating a user ends every session of theirs at once."""
    session.execute(update(User).where(col(User.id) == user_id).values(is_active=active))
    if not active:
        sessions_end_for_user(session, user_id=user_id)


def user_set_locale(session: Session, *, user_id: int, locale: str) -> None:
    session.execute(update(User).where(col(User.id) == user_id).values(locale=locale))


# ---------------------------------------------------------------- signing in, activation


@dataclass
class SignedIn:
    """The outcome of a sign-in, an activation or a password change: either a new session
    token for ``user``, or ``refused`` — a refusal whose failure record must still be kept
    (so the caller commits the transaction and shows the refusal)."""

    user: User | None = None
    token: str | None = None
    refused: AppError | None = None


def _new_session(
    session: Session, user: User, *, settings: Settings, now: datetime, user_agent: str | None
) -> SignedIn:
    return SignedIn(
        user=user,
        token=session_create(session, user=user, settings=settings, now=now, user_agent=user_agent),
    )


def sign_in(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    user_agent: str | None,
    previous_token: str | None,
    settings: Settings,
    now: datetime,
) -> SignedIn:
    """Check a username and password: a new session on success (the previous one of this
    browser ends), a recorded failure otherwise. Throttled while too many failures stand
    against the account or the address."""
    username = username.strip().lower()
    if not username or not password:
        raise AppError(422, N_("Fill in your username and password."))
    if len(username) > 64 or len(password) > MAX_PASSWORD:
        raise AppError(422, N_("The username or password is too long."))
    throttle_check(session, username=username, address=address, settings=settings, now=now)
    user = user_by_username(session, username=username)
    if (
        user is None
        or not user.is_active
        or not verify_password(user.password_hash, password, settings)
    ):
        throttle_record_failure(session, username=username, address=address, now=now)
        return SignedIn(refused=AppError(401, N_("The username or password is not right.")))
    throttle_clear(session, username=username)
    if previous_token:
        session_end(session, token=previous_token)
    return _new_session(session, user, settings=settings, now=now, user_agent=user_agent)


def password_change(
    session: Session,
    *,
    user: CurrentUser,
    current: str,
    password: str,
    again: str,
    address: str,
    user_agent: str | None,
    settings: Settings,
    now: datetime,
) -> SignedIn:
    """A new password for the signed-in user: the current one first (a wrong one counts as a
    failed sign-in); every other browser is signed out, this one gets a new session;
    audit-logged."""
    throttle_check(session, username=user.username, address=address, settings=settings, now=now)
    record = session.get(User, user.id)
    if record is None:
        raise AppError(404, N_("This account does not exist."))
    if len(current) > MAX_PASSWORD or not verify_password(record.password_hash, current, settings):
        throttle_record_failure(session, username=user.username, address=address, now=now)
        return SignedIn(
            refused=AppError(422, N_("Your current password is not right."), field="current")
        )
    problem = new_password_problem(password, again, username=user.username)
    if problem:
        raise AppError(422, problem, field="password")
    user_set_password(session, user_id=user.id, password_hash=hash_password(password, settings))
    sessions_end_for_user(session, user_id=user.id)
    audit_record(
        session, now=now, actor_id=user.id, action="account.password", target=f"user:{user.id}"
    )
    return _new_session(session, record, settings=settings, now=now, user_agent=user_agent)


def activate(
    session: Session,
    *,
    code: str,
    password: str,
    again: str,
    address: str,
    user_agent: str | None,
    settings: Settings,
    now: datetime,
) -> SignedIn:
    """A participant's first sign-in: the code from the printed card and a password of their
    own (audit ``account.activated``); for a participant who already had a password, the
    code from the facilitator replaces it (``account.reset_by_code``). Either way every other
    session of the account ends. Wrong codes count against the address (and are kept); a
    refused password is ``AppError`` with ``values["username"]`` so the form can say whose
    account it is."""
    key = f"activate:{address[:100]}"
    throttle_keys(
        session,
        limits={key: settings.login_max_per_account * 2},
        window=timedelta(minutes=settings.login_window_minutes),
        now=now,
    )
    try:
        activation, user = activation_find(session, code=code, now=now)
    except ActivationError as exc:
        session.add(LoginFailure(key=key, at=now))
        return SignedIn(refused=exc)
    problem = new_password_problem(password, again, username=user.username)
    if problem:
        raise AppError(422, problem, {"username": user.username}, field="password")
    # A code given to someone who already has a password (the facilitator's "new code")
    # resets it: the old password stops working and every other browser is signed out.
    reset = user.password_hash is not None
    activation_use(
        session,
        activation=activation,
        user=user,
        password_hash=hash_password(password, settings),
        now=now,
    )
    sessions_end_for_user(session, user_id=saved_id(user))
    audit_record(
        session,
        now=now,
        actor_id=saved_id(user),
        action="account.reset_by_code" if reset else "account.activated",
        target=f"user:{user.username}",
    )
    return _new_session(session, user, settings=settings, now=now, user_agent=user_agent)
