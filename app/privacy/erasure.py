"""Withdrawal of consent and erasure (UU No. 27 Tahun 2022: processing stops within 3 × 24
hours of a withdrawal).

A participant withdraws on ``/account/data`` (``consent_withdraw``); an administrator enters a
request received by letter (``request_by_letter``). Either opens an ``ErasureRequest`` due 72
hours later, listed for the administrators and the cohort's facilitators with the time left.
``erase_person`` carries it out in one transaction: every identifying field of the account is
replaced by a pseudonym or emptied, the texts of the reflections the person wrote and their
replies are removed, sessions, activation codes and sign-in failures are deleted, the
certificate is revoked, and audit entries that named the person name the pseudonym. The
learning rows stay, keyed by the account's number only, so KPK's aggregates stay equal; the
partner's account keeps working. ``retention_due`` / ``retention_run`` do the same for every
participant of a cohort whose learning closed more than ``APP_RETENTION_YEARS`` years ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, or_, select
from sqlmodel import Session, col

from app.accounts.models import AuditLog, AuthSession, CurrentUser, LoginFailure, Role, User
from app.audit import audit_record
from app.certificates.models import REVOKED_ON_ERASURE, Certificate
from app.cohorts.models import ActivationCode, Cohort, Couple
from app.errors import AppError, NotFound
from app.family.models import FamilyReflection
from app.i18n import N_
from app.privacy.models import (
    ConsentAction,
    ConsentRecord,
    ErasureRequest,
    ErasureSource,
    ErasureStatus,
)
from app.privacy.service import request_open

DEADLINE = timedelta(hours=72)  # 3 × 24 hours
ERASED_NAME = "Peserta (data dihapus)"
"""The name an erased account shows (kept in the data, so in Indonesian, like the data)."""


ERASED_PASSWORD = "!erased"  # noqa: S105 — not a hash: no password verifies against it


def pseudonym(user_id: int) -> str:
    return f"dihapus-{user_id}"


class ErasureError(AppError):
    status = 409


def request_of(session: Session, *, user_id: int) -> ErasureRequest | None:
    """The person's open erasure request, if any."""
    return request_open(session, user_id)


def _request(
    session: Session,
    *,
    user_id: int,
    source: str,
    now: datetime,
    received_by: int | None,
    note: str | None = None,
) -> ErasureRequest:
    existing = request_open(session, user_id)
    if existing is not None:
        return existing
    request = ErasureRequest(
        user_id=user_id,
        source=source,
        received_at=now,
        due_at=now + DEADLINE,
        received_by=received_by,
        note=note,
    )
    session.add(request)
    session.flush()
    return request


def consent_withdraw(session: Session, *, user: CurrentUser, now: datetime) -> ErasureRequest:
    """The person withdraws their consent: recorded, their processing stops (every page but
    their own data asks for consent again, their other sessions end) and an erasure request
    is due in 72 hours."""
    account = session.get(User, user.id)
    if account is None or account.erased_at is not None:
        raise NotFound(message=N_("This account does not exist."))
    version = account.consent_version or 0
    session.add(
        ConsentRecord(
            user_id=user.id, notice_version=version, action=ConsentAction.withdrawn, at=now
        )
    )
    account.consent_version = None
    request = _request(
        session,
        user_id=user.id,
        source=ErasureSource.participant,
        now=now,
        received_by=user.id,
    )
    audit_record(
        session,
        now=now,
        actor_id=user.id,
        action="privacy.withdrawn",
        target=f"user:{user.id}",
        detail={"request": request.id},
    )
    return request


def request_by_letter(
    session: Session, *, actor: CurrentUser, username: str, note: str, now: datetime
) -> ErasureRequest:
    """An administrator enters a request received by letter (or in person)."""
    note = " ".join(note.split())
    if not note:
        raise AppError(
            422, N_("Write where the request came from, e.g. the letter's number."), field="note"
        )
    if len(note) > 300:
        raise AppError(422, N_("This field is too long."), field="note")
    user = session.execute(
        select(User).where(col(User.username) == username.strip().lower())
    ).scalar_one_or_none()
    if user is None or user.id is None or user.erased_at is not None:
        raise AppError(422, N_("There is no account with this username."), field="username")
    if user.role != Role.participant:
        raise AppError(422, N_("Only a participant's data are erased this way."), field="username")
    request = _request(
        session,
        user_id=user.id,
        source=ErasureSource.letter,
        now=now,
        received_by=actor.id,
        note=note,
    )
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="privacy.erasure_requested",
        target=f"user:{user.id}",
        detail={"request": request.id, "source": ErasureSource.letter},
    )
    return request


@dataclass(frozen=True)
class RequestRow:
    id: int
    user_id: int
    pseudonym: str
    cohort: str | None
    source: str
    received_at: datetime
    due_at: datetime
    status: str
    done_at: datetime | None

    def hours_left(self, now: datetime) -> float:
        return (self.due_at - now).total_seconds() / 3600


def requests_visible_to(session: Session, *, actor: CurrentUser) -> list[RequestRow]:
    """The erasure requests an administrator sees (all) or a facilitator (their cohorts'),
    open ones first, the most urgent first. No name: the account's number."""
    from app.cohorts.models import CohortFacilitator

    query = (
        select(ErasureRequest, col(Cohort.slug))
        .join(User, col(User.id) == ErasureRequest.user_id)
        .outerjoin(Couple, col(Couple.id) == User.couple_id)
        .outerjoin(Cohort, col(Cohort.id) == Couple.cohort_id)
    )
    if actor.role == Role.facilitator:
        query = query.where(
            col(Cohort.id).in_(
                select(col(CohortFacilitator.cohort_id)).where(
                    col(CohortFacilitator.user_id) == actor.id
                )
            )
        )
    elif actor.role != Role.admin:
        return []
    rows = [
        RequestRow(
            id=r.id or 0,
            user_id=r.user_id,
            pseudonym=pseudonym(r.user_id),
            cohort=slug,
            source=r.source,
            received_at=r.received_at,
            due_at=r.due_at,
            status=r.status,
            done_at=r.done_at,
        )
        for r, slug in session.execute(query).all()
    ]
    pending = sorted((r for r in rows if r.status == ErasureStatus.open), key=lambda r: r.due_at)
    closed = sorted(
        (r for r in rows if r.status != ErasureStatus.open),
        key=lambda r: r.received_at,
        reverse=True,
    )
    return pending + closed


def _scrub(text: str, words: list[str], replacement: str) -> str:
    for word in words:
        text = text.replace(word, replacement)
    return text


def erase_person(
    session: Session, *, user_id: int, actor_id: int | None, now: datetime, source: str
) -> None:
    """Erase a participant's identifying data (see the module's text). Idempotent for an
    account already erased. Nothing erased is copied into the audit log."""
    user = session.get(User, user_id)
    if user is None or user.role != Role.participant:
        raise NotFound(message=N_("This account does not exist."))
    if user.erased_at is not None:
        return
    name = pseudonym(user_id)
    words = sorted(
        {w for w in (user.username, user.display_name, user.contact, user.nip) if w},
        key=len,
        reverse=True,
    )
    user.username = name
    user.display_name = ERASED_NAME
    user.contact = user.nip = user.position = None
    # no password opens it again, but it was activated: the aggregates count it so
    user.password_hash = ERASED_PASSWORD
    user.is_active = False
    user.consent_version = None
    user.erased_at = now
    session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user_id))
    session.execute(delete(ActivationCode).where(col(ActivationCode.user_id) == user_id))
    for word in words:
        session.execute(delete(LoginFailure).where(col(LoginFailure.key).contains(word)))
    for reflection in session.execute(
        select(FamilyReflection).where(col(FamilyReflection.written_by) == user_id)
    ).scalars():
        reflection.text = ""
        reflection.reply = None
    for certificate in session.execute(
        select(Certificate).where(
            col(Certificate.user_id) == user_id, col(Certificate.revoked_at).is_(None)
        )
    ).scalars():
        certificate.revoked_at = now
        certificate.revoked_by = actor_id
        certificate.revoke_reason = REVOKED_ON_ERASURE
    # audit entries that named the person name the pseudonym
    if words:
        detail_text = cast(AuditLog.detail, String)
        named = or_(
            *(col(AuditLog.target).contains(w) for w in words),
            *(detail_text.contains(w) for w in words),
        )
        for entry in session.execute(select(AuditLog).where(named)).scalars():
            if entry.target:
                entry.target = _scrub(entry.target, words, name)
            if entry.detail is not None:
                entry.detail = _scrub_json(entry.detail, words, name)
    request = request_open(session, user_id)
    if request is not None:
        request.status = ErasureStatus.done
        request.done_at = now
        request.done_by = actor_id
    session.flush()
    audit_record(
        session,
        now=now,
        actor_id=actor_id,
        action="privacy.erased",
        target=f"user:{user_id}",
        detail={"source": source, **({"request": request.id} if request else {})},
    )


def _scrub_json(value: Any, words: list[str], replacement: str) -> Any:
    if isinstance(value, str):
        return _scrub(value, words, replacement)
    if isinstance(value, dict):
        return {
            _scrub(k, words, replacement): _scrub_json(v, words, replacement)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub_json(v, words, replacement) for v in value]
    return value


def request_carry_out(
    session: Session, *, actor: CurrentUser, request_id: int, now: datetime
) -> ErasureRequest:
    """An administrator carries out an open request."""
    request = session.get(ErasureRequest, request_id)
    if request is None:
        raise NotFound(message=N_("This request does not exist."))
    if request.status != ErasureStatus.open:
        raise ErasureError(message=N_("This request is already closed."))
    erase_person(
        session, user_id=request.user_id, actor_id=actor.id, now=now, source=request.source
    )
    return request


# ---------------------------------------------------------------- retention


def retention_due(session: Session, *, years: int, now: datetime) -> list[tuple[str, list[int]]]:
    """The cohorts whose learning closed more than ``years`` years before ``now``, with the
    participants of each not erased yet."""
    limit = now - timedelta(days=round(365.25 * years))
    out = []
    for cohort in session.execute(
        select(Cohort).where(col(Cohort.post_closes) < limit).order_by(col(Cohort.post_closes))
    ).scalars():
        people = list(
            session.execute(
                select(col(User.id))
                .join(Couple, col(Couple.id) == User.couple_id)
                .where(
                    col(Couple.cohort_id) == cohort.id,
                    col(User.role) == Role.participant,
                    col(User.erased_at).is_(None),
                )
                .order_by(col(User.id))
            ).scalars()
        )
        out.append((cohort.slug, people))
    return out


def retention_run(
    session: Session, *, years: int, now: datetime, dry_run: bool
) -> list[tuple[str, int]]:
    """Pseudonymize the participants of every expired cohort (nothing when ``dry_run``):
    (cohort, participants) for each expired cohort."""
    due = retention_due(session, years=years, now=now)
    if not dry_run:
        for _, people in due:
            for user_id in people:
                erase_person(
                    session, user_id=user_id, actor_id=None, now=now, source=ErasureSource.retention
                )
    return [(slug, len(people)) for slug, people in due]
