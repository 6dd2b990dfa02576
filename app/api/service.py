"""API tokens, their throttle, and the lists the JSON API answers with.

Tokens: an administrator makes one (``token_create``: on ``/admin/api-tokens`` or with
``integritas api-token create``); its secret (``kbt_…``) is shown once and only its SHA-256
is stored, so a request is authenticated by looking its hash up (``token_authenticate``):
no comparison of secrets character by character, nothing an attacker can time. Creating and
revoking are audit-logged.

Throttle: at most ``RATE_PER_MINUTE`` requests per token in any 60 seconds, counted **in
process memory** (``TokenThrottle``), so the hot path of the API writes nothing. With several
server processes each counts for itself (``workers × RATE_PER_MINUTE`` at most); the service
runs one process by default. ``last_used_at`` is written at most once a minute per token
(``TOUCH_EVERY``) for the same reason.

Lists (``regions_page``, ``organizations_page``, ``cohorts_page``): aggregates and names of
places, organizations and cohorts only — never a person's name, username or contact.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app.accounts.models import CurrentUser, Role, User
from app.api.models import ApiToken
from app.api.schemas import (
    CohortOut,
    CohortPage,
    OrganizationOut,
    OrganizationPage,
    RegionOut,
    RegionPage,
)
from app.audit import audit_record
from app.cohorts.models import Cohort, Couple, Organization, Region
from app.errors import AppError, Forbidden, NotFound
from app.i18n import N_

SECRET_PREFIX = "kbt_"  # noqa: S105 — the mark of our tokens, not a secret
PREFIX_LENGTH = 8  # "kbt_" and four random characters: enough to tell tokens apart
SECRET_MAX_LENGTH = 100  # a real secret is 47 characters; anything much longer is refused unread
NAME_MAX_LENGTH = 100
TOUCH_EVERY = timedelta(minutes=1)
RATE_PER_MINUTE = 120
WINDOW = timedelta(minutes=1)


class ApiTokenError(AppError):
    """Input the token forms refuse; ``field`` names the form field."""

    status = 422

    def __init__(self, field: str, message: str, status: int | None = None) -> None:
        super().__init__(status, message=message, field=field)


def _admin(actor: CurrentUser | None) -> int | None:
    """The acting administrator's id; ``None`` is the command line (the server's operator)."""
    if actor is None:
        return None
    if actor.role != Role.admin:
        raise Forbidden
    return actor.id


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _valid_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ApiTokenError("name", N_("This field is required."))
    if len(name) > NAME_MAX_LENGTH:
        raise ApiTokenError("name", N_("This field is too long."))
    if not name.isprintable():
        raise ApiTokenError("name", N_("Use letters, digits, spaces and punctuation only."))
    return name


def token_create(
    session: Session, *, actor: CurrentUser | None, name: str, now: datetime
) -> tuple[ApiToken, str]:
    """A new token and its secret. The secret is returned only here, once: the table keeps
    its hash and its first eight characters."""
    actor_id = _admin(actor)
    name = _valid_name(name)
    taken = session.execute(select(col(ApiToken.id)).where(col(ApiToken.name) == name)).first()
    if taken:
        raise ApiTokenError("name", N_("A token with this name already exists."))
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=secret_hash(secret),
        prefix=secret[:PREFIX_LENGTH],
        created_by=actor_id,
        created_at=now,
    )
    session.add(token)
    session.flush()
    audit_record(
        session,
        now=now,
        actor_id=actor_id,
        action="api_token.create",
        target=f"api_token:{token.name}",
        detail={"name": name, "prefix": token.prefix, "via": "web" if actor else "cli"},
    )
    return token, secret


def token_revoke(
    session: Session,
    *,
    actor: CurrentUser | None,
    now: datetime,
    token_id: int | None = None,
    name: str | None = None,
) -> bool:
    """Revoke a token (by id or by name): from now on it opens nothing. True when it was
    revoked now, False when it already was (nothing changes, nothing is logged again)."""
    actor_id = _admin(actor)
    query = select(ApiToken)
    if token_id is not None:
        query = query.where(col(ApiToken.id) == token_id)
    elif name is not None:
        query = query.where(col(ApiToken.name) == " ".join(name.split()))
    else:
        raise TypeError("token_revoke needs token_id or name")
    token = session.execute(query).scalar_one_or_none()
    if token is None:
        raise NotFound(message=N_("This token does not exist."))
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    token.revoked_by = actor_id
    session.add(token)
    session.flush()
    audit_record(
        session,
        now=now,
        actor_id=actor_id,
        action="api_token.revoke",
        target=f"api_token:{token.name}",
        detail={"name": token.name, "prefix": token.prefix, "via": "web" if actor else "cli"},
    )
    return True


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    created_at: datetime
    created_by: str | None  # the administrator's username; None for the command line
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def tokens_list(session: Session, *, actor: CurrentUser | None) -> list[TokenRow]:
    """Every token, active ones first, newest first; never a secret or a hash."""
    _admin(actor)
    rows = session.execute(
        select(
            col(ApiToken.id),
            col(ApiToken.name),
            col(ApiToken.prefix),
            col(ApiToken.created_at),
            col(User.username),
            col(ApiToken.last_used_at),
            col(ApiToken.revoked_at),
        )
        .outerjoin(User, col(User.id) == ApiToken.created_by)
        .order_by(col(ApiToken.revoked_at).is_not(None), col(ApiToken.id).desc())
    ).all()
    return [TokenRow(*row) for row in rows]


@dataclass
class TokensView:
    """The administrator's token page: every token, and the one just made with its secret
    (shown on this one answer only)."""

    tokens: list[TokenRow]
    created: str | None = None
    secret: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def tokens_view(session: Session, *, actor: CurrentUser) -> TokensView:
    return TokensView(tokens=tokens_list(session, actor=actor))


def token_lookup(session: Session, *, secret: str) -> ApiToken | None:
    """The active token whose secret this is, or None (read only)."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > SECRET_MAX_LENGTH:
        return None
    return session.execute(
        select(ApiToken).where(
            col(ApiToken.token_hash) == secret_hash(secret), col(ApiToken.revoked_at).is_(None)
        )
    ).scalar_one_or_none()


def token_needs_touch(token: ApiToken, *, now: datetime) -> bool:
    """Whether ``last_used_at`` is old enough to be written again."""
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY


def token_authenticate(session: Session, *, secret: str, now: datetime) -> ApiToken | None:
    """The active token whose secret this is, or None; its ``last_used_at`` moved to ``now``
    when it is a minute old or more (in this session, which must be able to write then).
    The hot path reads with ``token_lookup`` first and comes here only when
    ``token_needs_touch``, so a token in steady use costs one write a minute, not one a
    request."""
    token = token_lookup(session, secret=secret)
    if token is None or not token_needs_touch(token, now=now):
        return token
    session.execute(
        update(ApiToken)
        .where(col(ApiToken.id) == token.id)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    token.last_used_at = now
    return token


class TokenThrottle:
    """At most ``rate`` requests per token in any ``WINDOW`` (a sliding log of the times of
    the last ``rate`` requests), in this process's memory. Thread-safe."""

    def __init__(self, rate: int = RATE_PER_MINUTE) -> None:
        self.rate = rate
        self._hits: dict[int, deque[datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, token_id: int, *, now: datetime) -> int | None:
        """Count a request; ``None`` when allowed, else the seconds to wait (Retry-After)."""
        with self._lock:
            hits = self._hits.setdefault(token_id, deque())
            while hits and now - hits[0] >= WINDOW:
                hits.popleft()
            if len(hits) >= self.rate:
                wait = (hits[0] + WINDOW - now).total_seconds()
                return max(1, math.ceil(wait))
            hits.append(now)
            if len(self._hits) > 10_000:  # forget tokens idle for a window
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= WINDOW]:
                    del self._hits[key]
            return None


# ---------------------------------------------------------------- what the API lists


def _region_id(session: Session, slug: str | None) -> int | None:
    if slug is None:
        return None
    found = session.execute(select(col(Region.id)).where(col(Region.slug) == slug)).scalar()
    if found is None:
        raise NotFound(message=N_("This region does not exist."))
    return found


def regions_page(session: Session, *, page: int, per_page: int) -> RegionPage:
    """Regions by slug, each with how many organizations and cohorts it has."""
    organizations = (
        select(func.count()).where(col(Organization.region_id) == Region.id).correlate(Region)
    ).scalar_subquery()
    cohorts = (
        select(func.count()).where(col(Cohort.region_id) == Region.id).correlate(Region)
    ).scalar_subquery()
    total = session.execute(select(func.count()).select_from(Region)).scalar_one()
    rows = session.execute(
        select(col(Region.slug), col(Region.name), col(Region.province), organizations, cohorts)
        .order_by(col(Region.slug))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        RegionOut(slug=slug, name=name, province=province, organizations=orgs, cohorts=n)
        for slug, name, province, orgs, n in rows
    ]
    return RegionPage(items=items, page=page, per_page=per_page, total=total)


def organizations_page(
    session: Session, *, region: str | None, page: int, per_page: int
) -> OrganizationPage:
    """Organizations (OPD) by region and name; of one region if asked."""
    region_id = _region_id(session, region)
    query = select(col(Organization.id), col(Organization.name), col(Region.slug)).join(
        Region, col(Region.id) == Organization.region_id
    )
    count = select(func.count()).select_from(Organization)
    if region_id is not None:
        query = query.where(col(Organization.region_id) == region_id)
        count = count.where(col(Organization.region_id) == region_id)
    total = session.execute(count).scalar_one()
    rows = session.execute(
        query.order_by(col(Region.slug), col(Organization.name), col(Organization.id))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [OrganizationOut(id=id_, name=name, region=slug) for id_, name, slug in rows]
    return OrganizationPage(items=items, page=page, per_page=per_page, total=total)


def cohorts_page(
    session: Session, *, region: str | None, year: int | None, page: int, per_page: int
) -> CohortPage:
    """Cohorts, the latest workshop first; of one region and one workshop year if asked;
    each with its number of couples."""
    region_id = _region_id(session, region)
    conditions = []
    if region_id is not None:
        conditions.append(col(Cohort.region_id) == region_id)
    if year is not None:
        conditions += [
            col(Cohort.workshop_start) >= date(year, 1, 1),
            col(Cohort.workshop_start) < date(year + 1, 1, 1),
        ]
    couples = (
        select(func.count()).where(col(Couple.cohort_id) == Cohort.id).correlate(Cohort)
    ).scalar_subquery()
    total = session.execute(
        select(func.count()).select_from(Cohort).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        select(
            col(Cohort.slug),
            col(Cohort.title),
            col(Region.slug),
            col(Cohort.workshop_start),
            col(Cohort.workshop_end),
            couples,
        )
        .join(Region, col(Region.id) == Cohort.region_id)
        .where(*conditions)
        .order_by(col(Cohort.workshop_start).desc(), col(Cohort.slug))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        CohortOut(
            slug=slug,
            title=title,
            region=region_slug,
            workshop_start=start,
            workshop_end=end,
            couples=n,
        )
        for slug, title, region_slug, start, end, n in rows
    ]
    return CohortPage(items=items, page=page, per_page=per_page, total=total)
