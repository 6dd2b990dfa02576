"""Personal data protection: the privacy notice as published, and consent.

A notice is published by ``content sync`` from ``modules/privacy.yaml`` (``notice_publish``):
each version once, its text never changed afterwards, so that a consent record names exactly
what the person agreed to. A person's current consent is ``user_account.consent_version``; the
history is ``consent_record``. Whoever signs in without having agreed to the newest version is
asked first (``consent_due``, checked with the signed-in user in ``app.deps``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import select, update
from sqlmodel import Session, col

from app.accounts.models import AuditLog, CurrentUser, User
from app.audit import audit_record
from app.curriculum.render import render_markdown
from app.errors import AppError
from app.i18n import N_, pick
from app.privacy.models import (  # noqa: F401
    CURRENT_NOTICE,
    ConsentAction,
    ConsentRecord,
    ErasureRequest,
    ErasureStatus,
    PrivacyNotice,
    consent_due,
)


class NoticeChanged(RuntimeError):
    """A published version's text was changed without a new version number."""


def notice_digest(text: dict[str, Any]) -> str:
    raw = json.dumps(text, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


def notice_publish(
    session: Session, *, version: int, effective: date, text: dict[str, Any], now: datetime
) -> bool:
    """Publish ``version`` of the notice (True), or find it published with the same text
    (False). A different text under a published version is refused (``NoticeChanged``): the
    people who agreed to it agreed to its words."""
    digest = notice_digest(text)
    existing = session.execute(
        select(PrivacyNotice).where(col(PrivacyNotice.version) == version)
    ).scalar_one_or_none()
    if existing is not None:
        if existing.digest != digest:
            raise NoticeChanged(
                f"privacy.yaml: version {version} of the privacy notice is already published "
                "with another text; raise its version so that everyone is asked again"
            )
        return False
    newest = session.execute(CURRENT_NOTICE).scalar()
    if newest is not None and version < newest:
        raise NoticeChanged(
            f"privacy.yaml: version {version} is older than the published version {newest}"
        )
    session.add(
        PrivacyNotice(
            version=version, effective=effective, digest=digest, text=text, published_at=now
        )
    )
    return True


def notice_current(session: Session) -> PrivacyNotice | None:
    return session.execute(
        select(PrivacyNotice).order_by(col(PrivacyNotice.version).desc()).limit(1)
    ).scalar_one_or_none()


# ---------------------------------------------------------------- the notice as read


@dataclass(frozen=True)
class Section:
    heading: str
    body: Markup


@dataclass(frozen=True)
class NoticeView:
    version: int
    effective: date
    title: str
    summary: list[str]
    sections: list[Section]
    contact: str


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


PLACEHOLDERS = ("years", "k")


def notice_view(notice: PrivacyNotice, *, locale: str, years: int, k: int) -> NoticeView:
    """The notice in the reader's language, its placeholders filled (``{years}``: how long
    data are kept, ``{k}``: the smallest group KPK sees). Rendered once per published text
    (its digest), language and settings: a version's words never change."""
    return _view(
        notice.digest,
        notice.version,
        notice.effective,
        json.dumps(notice.text, sort_keys=True),
        locale,
        years,
        k,
    )


@lru_cache(maxsize=32)
def _view(
    digest: str, version: int, effective: date, text: str, locale: str, years: int, k: int
) -> NoticeView:
    values = {"years": str(years), "k": str(k)}
    t = json.loads(text)

    def say(text: dict[str, str]) -> str:
        return _fill(pick(text, locale), values)

    return NoticeView(
        version=version,
        effective=effective,
        title=say(t["title"]),
        summary=[say(s) for s in t["summary"]],
        sections=[
            # render_markdown sanitizes its HTML (nh3)
            Section(say(s["heading"]), Markup(render_markdown(say(s["body"]))))  # noqa: S704
            for s in t["sections"]
        ],
        contact=say(t["contact"]),
    )


def notice_shown(session: Session, *, locale: str, years: int, k: int) -> NoticeView | None:
    """The newest notice as its reader reads it (None before the first publication)."""
    notice = notice_current(session)
    return None if notice is None else notice_view(notice, locale=locale, years=years, k=k)


# ---------------------------------------------------------------- consent


class ConsentMissing(AppError):
    def __init__(self) -> None:
        super().__init__(
            422,
            N_("Tick the box to say that you have read the privacy notice and agree to it."),
            field="consent",
        )


def consent_give(session: Session, *, user_id: int, version: int, now: datetime) -> None:
    """The person agrees to notice ``version`` (in the transaction of the step that asked:
    an activation, or the question at sign-in)."""
    session.add(
        ConsentRecord(user_id=user_id, notice_version=version, action=ConsentAction.given, at=now)
    )
    session.execute(update(User).where(col(User.id) == user_id).values(consent_version=version))
    request_cancel_on_consent(session, user_id=user_id, now=now)
    audit_record(
        session,
        now=now,
        actor_id=user_id,
        action="privacy.consent",
        target=f"user:{user_id}",
        detail={"notice_version": version},
    )


def consent_history(session: Session, *, user_id: int) -> list[ConsentRecord]:
    return list(
        session.execute(
            select(ConsentRecord)
            .where(col(ConsentRecord.user_id) == user_id)
            .order_by(col(ConsentRecord.at), col(ConsentRecord.id))
        ).scalars()
    )


def request_open(session: Session, user_id: int) -> ErasureRequest | None:
    return session.execute(
        select(ErasureRequest).where(
            col(ErasureRequest.user_id) == user_id,
            col(ErasureRequest.status) == ErasureStatus.open,
        )
    ).scalar_one_or_none()


def request_cancel_on_consent(session: Session, *, user_id: int, now: datetime) -> None:
    """The person agreed again before their request was carried out: it is cancelled."""
    request = request_open(session, user_id)
    if request is not None:
        request.status = ErasureStatus.cancelled
        request.done_at = now
        audit_record(
            session,
            now=now,
            actor_id=user_id,
            action="privacy.erasure_cancelled",
            target=f"user:{user_id}",
            detail={"request": request.id},
        )


# ---------------------------------------------------------------- access records

ACCESS_NAMES = {
    "access.couple": N_("opened your couple's page"),
    "access.cards": N_("printed activation cards"),
    "access.reflections": N_("read the cohort's family reflections"),
    "export.csv": N_("downloaded the cohort's list (CSV)"),
    "export.xlsx": N_("downloaded the cohort's list (Excel)"),
}
"""What a staff member did with a person's data, as the person reads it (the facilitators'
exports keep their own audit action, ``export.<kind>``)."""


def access_record(
    session: Session,
    *,
    actor: CurrentUser,
    what: str,
    now: datetime,
    users: Iterable[int] = (),
    cohort: str | None = None,
) -> None:
    """A staff member opened personal data: who (the actor), whose (each user, or a whole
    cohort's participants), what, when — in the audit log, action ``access.<what>``."""
    action = f"access.{what}"
    assert action in ACCESS_NAMES
    for user_id in users:
        audit_record(session, now=now, actor_id=actor.id, action=action, target=f"user:{user_id}")
    if cohort is not None:
        audit_record(session, now=now, actor_id=actor.id, action=action, target=f"cohort:{cohort}")


@dataclass(frozen=True)
class Access:
    at: datetime
    who: str
    role: str
    what: str  # a message id of ACCESS_NAMES


def accesses_of(session: Session, *, user_id: int, cohort: str | None) -> list[Access]:
    """Who on the staff opened this person's data (their own pages, or their cohort's
    lists), newest first."""
    targets = [f"user:{user_id}", *([f"cohort:{cohort}"] if cohort else [])]
    return [
        Access(at, name or "?", role or "", ACCESS_NAMES[action])
        for at, action, name, role in session.execute(
            select(col(AuditLog.at), col(AuditLog.action), col(User.display_name), col(User.role))
            .outerjoin(User, col(User.id) == AuditLog.actor_id)
            .where(
                col(AuditLog.action).in_(list(ACCESS_NAMES)),
                col(AuditLog.target).in_(targets),
                col(AuditLog.actor_id) != user_id,
            )
            .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
            .limit(500)
        ).all()
    ]


def controller_of(session: Session, *, user: CurrentUser | None) -> str | None:
    """The local government whose cohort the signed-in participant is in (the notice's data
    controller, with KPK), or None."""
    if user is None or user.couple_id is None:
        return None
    from app.cohorts.models import Cohort, Couple, Region

    return session.execute(
        select(col(Region.name))
        .join(Cohort, col(Cohort.region_id) == Region.id)
        .join(Couple, col(Couple.cohort_id) == Cohort.id)
        .where(col(Couple.id) == user.couple_id)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Affected:
    user_id: int
    username: str
    name: str
    contact: str | None
    cohort: str | None
    how: list[str]  # the audit actions that reached the account


def affected_by(
    session: Session,
    *,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cohort: str | None = None,
) -> list[Affected]:
    """Whose personal data a set of staff accesses and exports reached (for a breach notice):
    the access records (``access.*``, ``export.*``) by ``actor`` (a username) between
    ``since`` and ``until``; a record about a cohort reaches each of its participants. With
    ``cohort`` alone, every participant of that cohort (a lost list of it)."""
    from app.cohorts.models import Cohort, Couple

    query = select(col(AuditLog.action), col(AuditLog.target)).where(
        col(AuditLog.action).in_(list(ACCESS_NAMES))
    )
    if actor is not None:
        query = query.join(User, col(User.id) == AuditLog.actor_id).where(
            col(User.username) == actor.strip().lower()
        )
    if since is not None:
        query = query.where(col(AuditLog.at) >= since)
    if until is not None:
        query = query.where(col(AuditLog.at) < until)
    how: dict[int, set[str]] = {}
    cohorts: dict[str, set[str]] = {}
    if cohort is not None and actor is None and since is None and until is None:
        cohorts[cohort] = {"cohort"}
    else:
        for action, target in session.execute(query).all():
            kind, _, value = (target or "").partition(":")
            if kind == "user" and value.isdigit():
                how.setdefault(int(value), set()).add(action)
            elif kind == "cohort" and (cohort is None or value == cohort):
                cohorts.setdefault(value, set()).add(action)
    for slug, actions in cohorts.items():
        for user_id in session.execute(
            select(col(User.id))
            .join(Couple, col(Couple.id) == User.couple_id)
            .join(Cohort, col(Cohort.id) == Couple.cohort_id)
            .where(col(Cohort.slug) == slug)
        ).scalars():
            how.setdefault(user_id, set()).update(actions)
    if not how:
        return []
    rows = session.execute(
        select(User, col(Cohort.slug))
        .outerjoin(Couple, col(Couple.id) == User.couple_id)
        .outerjoin(Cohort, col(Cohort.id) == Couple.cohort_id)
        .where(col(User.id).in_(list(how)), col(User.erased_at).is_(None))
        .order_by(col(Cohort.slug), col(User.username))
    ).all()
    return [
        Affected(u.id or 0, u.username, u.display_name, u.contact, slug, sorted(how[u.id or 0]))
        for u, slug in rows
        if cohort is None or slug == cohort
    ]
