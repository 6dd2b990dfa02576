"""Accounts: passwords, sign-in sessions, throttling, users."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial
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
from app.db import Database, execute_core, saved_id, touch_learning
from app.errors import AppError
from app.i18n import N_
from app.privacy.models import CURRENT_NOTICE
from app.privacy.service import ConsentMissing, consent_give

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
    """argon2id with OWASP's recommended costs (Password Storage Cheat Sheet: 19 MiB, two
    passes, one lane — about 30 ms of one core); the test settings use small costs so the
    suite stays quick. Hashes made with other costs still verify, and are renewed at the
    next sign-in."""
    if test:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


# At most this many password hashes at once (they run in worker threads): one core is left to
# answer every other page while a room of sixty signs in.
HASHING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))


def hash_password(password: str, settings: Settings) -> str:
    with HASHING:
        return hasher(settings.env == "test").hash(password)


def needs_rehash(password_hash: str | None, settings: Settings) -> bool:
    """Whether a stored hash was made with other costs than today's."""
    if not password_hash:
        return False
    try:
        return hasher(settings.env == "test").check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def verify_password(password_hash: str | None, password: str, settings: Settings) -> bool:
    ph = hasher(settings.env == "test")
    with HASHING:
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


ACTIVATION_ALL = "activate:*"  # failed activations from every address


class Throttled(AppError):
    """Too many failures lately; ``retry_after`` seconds until the next try."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            message=N_("Too many failed attempts. Wait a few minutes, then try again."),
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


# A browser that has signed in to an account holds a signed "device" entry for it (OWASP's
# device cookie): failures from that browser count against the browser, not the account, so
# an attacker guessing a username's password from elsewhere slows down only anonymous
# browsers (429 with Retry-After) and never locks the owner out of their own phone. The
# per-address limit holds for everyone.

DEVICE_ENTRIES = 5  # accounts one browser remembers (a couple may share one phone)


def _device_signature(settings: Settings, username: str, nonce: str) -> str:
    message = f"device:{username}:{nonce}".encode()
    return hmac.new(settings.secret().encode(), message, hashlib.sha256).hexdigest()[:32]


def device_entries(settings: Settings, cookie: str | None) -> dict[str, str]:
    """The accounts a device cookie vouches for: username → the browser's nonce (entries
    whose signature does not hold are dropped)."""
    entries: dict[str, str] = {}
    for entry in (cookie or "")[:1000].split("~")[:DEVICE_ENTRIES]:
        username, _, rest = entry.partition("!")
        nonce, _, signature = rest.partition("!")
        if username and nonce and signature and username not in entries:
            expected = _device_signature(settings, username, nonce)
            if hmac.compare_digest(signature, expected):
                entries[username] = nonce
    return entries


def device_cookie(settings: Settings, cookie: str | None, username: str) -> str:
    """The device cookie after a successful sign-in: this account first (its nonce kept if
    it had one), then the others this browser knows."""
    entries = device_entries(settings, cookie)
    nonce = entries.pop(username, None) or secrets.token_urlsafe(12)
    ordered = [(username, nonce), *entries.items()][:DEVICE_ENTRIES]
    return "~".join(f"{u}!{n}!{_device_signature(settings, u, n)}" for u, n in ordered)


def _failure_keys(username: str, address: str, device: str | None) -> tuple[str, str]:
    """The account's key — the browser's own when it is a known device of the account — and
    the address's key."""
    first = f"device:{device}" if device else f"user:{username.lower()[:100]}"
    return first, f"addr:{address[:100]}"


def throttle_check(
    session: Session,
    *,
    username: str,
    address: str,
    settings: Settings,
    now: datetime,
    device: str | None = None,
) -> None:
    """Raise ``Throttled`` while too many recent failures stand against the account (or the
    known device) or the address."""
    account_key, addr_key = _failure_keys(username, address, device)
    throttle_keys(
        session,
        limits={
            account_key: settings.login_max_per_account,
            addr_key: settings.login_max_per_address,
        },
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
    session: Session, *, username: str, address: str, now: datetime, device: str | None = None
) -> None:
    for key in _failure_keys(username, address, device):
        session.add(LoginFailure(key=key, at=now))


def throttle_clear(session: Session, *, username: str, device: str | None = None) -> None:
    """After a successful sign-in: the failures of this browser (a known device) or of the
    account (an anonymous browser that passed the account's limit)."""
    key = _failure_keys(username, "", device)[0]
    session.execute(delete(LoginFailure).where(col(LoginFailure.key) == key))


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
    token for ``user``, or ``refused`` — a refusal to show (its failure record is kept)."""

    user: User | None = None
    token: str | None = None
    refused: AppError | None = None
    device: str | None = None  # the device cookie to keep, after a sign-in


def _new_session(
    session: Session,
    user: User,
    *,
    settings: Settings,
    now: datetime,
    user_agent: str | None,
    device_cookie_sent: str | None = None,
) -> SignedIn:
    """A new session, and the browser becomes (or stays) a known device of the account."""
    return SignedIn(
        user=user,
        token=session_create(session, user=user, settings=settings, now=now, user_agent=user_agent),
        device=device_cookie(settings, device_cookie_sent, user.username),
    )


def sign_in(
    db: Database,
    *,
    username: str,
    password: str,
    address: str,
    user_agent: str | None,
    previous_token: str | None,
    settings: Settings,
    now: datetime,
    device_cookie_sent: str | None = None,
) -> SignedIn:
    """Check a username and password: a new session on success (the previous one of this
    browser ends), a recorded failure otherwise. Throttled while too many failures stand
    against the address, or against the account from browsers it does not know — a browser
    that signed in to it before counts its own failures only.

    The password is checked outside any transaction (argon2 takes tens of milliseconds; a
    write transaction held meanwhile would make sixty sign-ins at once wait for each other's
    lock), then a short write keeps the failure or makes the session — after checking the
    limits again, since guesses sent at the same moment all passed the first check."""
    username = username.strip().lower()
    if not username or not password:
        raise AppError(422, N_("Fill in your username and password."))
    if len(username) > 64 or len(password) > MAX_PASSWORD:
        raise AppError(422, N_("The username or password is too long."))
    device = device_entries(settings, device_cookie_sent).get(username)
    check = partial(
        throttle_check, username=username, address=address, device=device, settings=settings
    )
    record = partial(throttle_record_failure, username=username, address=address, device=device)
    with db.read() as session:
        check(session, now=now)
        user = user_by_username(session, username=username)
    stored = user.password_hash if user is not None and user.is_active else None
    right = verify_password(stored, password, settings)
    renewed = None
    if right and needs_rehash(stored, settings):  # made with other costs: renewed now
        renewed = hash_password(password, settings)
    with db.write() as session:
        if not right or user is None:
            record(session, now=now)
            return SignedIn(refused=AppError(401, N_("The username or password is not right.")))
        check(session, now=now)
        current = session.get(User, user.id)
        if current is None or not current.is_active or current.password_hash != stored:
            # deactivated, or the password changed, while it was being checked
            return SignedIn(refused=AppError(401, N_("The username or password is not right.")))
        throttle_clear(session, username=username, device=device)
        if renewed:
            user_set_password(session, user_id=saved_id(current), password_hash=renewed)
        if previous_token:
            session_end(session, token=previous_token)
        return _new_session(
            session,
            current,
            settings=settings,
            now=now,
            user_agent=user_agent,
            device_cookie_sent=device_cookie_sent,
        )


def password_change(
    db: Database,
    *,
    user: CurrentUser,
    current: str,
    password: str,
    again: str,
    address: str,
    user_agent: str | None,
    settings: Settings,
    now: datetime,
    device_cookie_sent: str | None = None,
) -> SignedIn:
    """A new password for the signed-in user: the current one first (a wrong one counts as a
    failed sign-in of this browser); every other browser is signed out, this one gets a new
    session; audit-logged. Both passwords are hashed outside any transaction."""
    device = device_entries(settings, device_cookie_sent).get(user.username)
    check = partial(
        throttle_check, username=user.username, address=address, device=device, settings=settings
    )
    failed = partial(
        throttle_record_failure, username=user.username, address=address, device=device
    )
    with db.read() as session:
        check(session, now=now)
        account = session.get(User, user.id)
    if account is None:
        raise AppError(404, N_("This account does not exist."))
    stored = account.password_hash
    if len(current) > MAX_PASSWORD or not verify_password(stored, current, settings):
        with db.write() as session:
            failed(session, now=now)
        return SignedIn(
            refused=AppError(422, N_("Your current password is not right."), field="current")
        )
    problem = new_password_problem(password, again, username=user.username)
    if problem:
        raise AppError(422, problem, field="password")
    new_hash = hash_password(password, settings)
    with db.write() as session:
        check(session, now=now)
        account = session.get(User, user.id)
        if account is None or account.password_hash != stored:
            raise AppError(409, N_("Your password was just changed elsewhere. Try again."))
        user_set_password(session, user_id=user.id, password_hash=new_hash)
        sessions_end_for_user(session, user_id=user.id)
        audit_record(
            session, now=now, actor_id=user.id, action="account.password", target=f"user:{user.id}"
        )
        return _new_session(
            session,
            account,
            settings=settings,
            now=now,
            user_agent=user_agent,
            device_cookie_sent=device_cookie_sent,
        )


def _activation_limits(session: Session, *, key: str, settings: Settings, now: datetime) -> None:
    """Failed activations per address, and across every address: however many addresses
    guess, the 40-bit code space is not walked (200 failures an hour by default: years for
    one code in a million)."""
    throttle_keys(
        session,
        limits={key: settings.login_max_per_account * 2},
        window=timedelta(minutes=settings.login_window_minutes),
        now=now,
    )
    throttle_keys(
        session,
        limits={ACTIVATION_ALL: settings.activation_max_failures_per_hour},
        window=timedelta(hours=1),
        now=now,
    )


def activate(
    db: Database,
    *,
    code: str,
    password: str,
    again: str,
    address: str,
    user_agent: str | None,
    settings: Settings,
    now: datetime,
    consent: bool,
    device_cookie_sent: str | None = None,
) -> SignedIn:
    """A participant's first sign-in: the code from the printed card, a password of their
    own and their consent to the privacy notice (audit ``account.activated``); for a
    participant who already had a password, the code from the facilitator replaces it
    (``account.reset_by_code``). Either way every other session of the account ends.
    Without the consent nothing is looked up or written (``ConsentMissing``); with it, the
    consent to the newest notice is recorded in the activation's transaction. Wrong codes
    count against the address (and are kept); a refused password is ``AppError`` with
    ``values["username"]`` so the form can say whose account it is. The new password is
    hashed outside any transaction; the code is looked up again in the write, so a code
    used meanwhile in another tab is not used twice."""
    if not consent:
        raise ConsentMissing
    key = f"activate:{address[:100]}"
    secret = settings.secret()
    refused: ActivationError | None = None
    with db.read() as session:
        _activation_limits(session, key=key, settings=settings, now=now)
        try:
            _, user = activation_find(session, code=code, now=now, secret=secret)
        except ActivationError as exc:
            refused = exc
    if refused is not None:
        with db.write() as session:
            session.add_all(
                [LoginFailure(key=key, at=now), LoginFailure(key=ACTIVATION_ALL, at=now)]
            )
        return SignedIn(refused=refused)
    problem = new_password_problem(password, again, username=user.username)
    if problem:
        raise AppError(422, problem, {"username": user.username}, field="password")
    new_hash = hash_password(password, settings)
    with db.write() as session:
        try:
            activation, user = activation_find(session, code=code, now=now, secret=secret)
        except ActivationError as exc:
            return SignedIn(refused=exc)
        # A code given to someone who already has a password (the facilitator's "new code")
        # resets it: the old password stops working and every other browser is signed out.
        reset = user.password_hash is not None
        activation_use(session, activation=activation, user=user, password_hash=new_hash, now=now)
        notice = session.execute(CURRENT_NOTICE).scalar()
        if notice is not None:
            consent_give(session, user_id=saved_id(user), version=notice, now=now)
            user.consent_version = notice
        sessions_end_for_user(session, user_id=saved_id(user))
        audit_record(
            session,
            now=now,
            actor_id=saved_id(user),
            action="account.reset_by_code" if reset else "account.activated",
            target=f"user:{user.username}",
        )
        return _new_session(
            session,
            user,
            settings=settings,
            now=now,
            user_agent=user_agent,
            device_cookie_sent=device_cookie_sent,
        )
