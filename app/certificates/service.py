"""Certificates: issued when a couple completes, verified publicly, revoked by an admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app.accounts.models import CurrentUser, PartnerRole, Role, User
from app.audit import audit_record
from app.certificates.hours import TrainingHours, lesson_minutes, training_hours
from app.certificates.models import Certificate
from app.cohorts.models import Cohort, Couple
from app.curriculum.models import Lesson, Module
from app.curriculum.outline import Curriculum
from app.db import touch_learning
from app.errors import Forbidden, NotFound
from app.i18n import N_, fmt_date, fmt_date_range, translations
from app.learning.selectors import couple_complete

CERT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def issue_if_complete(session: Session, *, couple_id: int, now: datetime) -> int:
    """Give each partner a certificate once the couple is complete (``learning.selectors``),
    inside the caller's transaction — the one that made the change completing the couple.
    Returns how many were issued now (0 when not complete, or already issued)."""
    row = session.execute(
        couple_complete(select(col(Couple.id)).where(col(Couple.id) == couple_id))
    ).first()
    if row is None or not row.complete:
        return 0
    partners = list(
        session.execute(select(col(User.id)).where(col(User.couple_id) == couple_id)).scalars()
    )
    have = set(
        session.execute(
            select(col(Certificate.user_id)).where(col(Certificate.user_id).in_(partners))
        ).scalars()
    )
    minutes = session.execute(
        select(func.coalesce(func.sum(Lesson.minutes), 0))
        .join(Module, col(Module.id) == Lesson.module_id)
        .where(col(Lesson.active).is_(True), col(Module.active).is_(True))
    ).scalar_one()
    issued = 0
    for user_id in partners:
        if user_id in have:
            continue
        code = "KB-" + "".join(secrets.choice(CERT_ALPHABET) for _ in range(10))
        session.add(
            Certificate(user_id=user_id, code=code, issued_at=now, elearning_minutes=int(minutes))
        )
        issued += 1
    return issued


@dataclass(frozen=True)
class CertificateView:
    """What the public may see of a certificate: whose it is, the cohort and its workshop,
    who organized and who signs; ``hours`` only on an official's certificate (a spouse's
    states participation, no JP)."""

    code: str
    issued_at: datetime
    revoked_at: datetime | None
    display_name: str
    title: str
    workshop_start: date
    workshop_end: date
    venue: str
    organizers: str
    signatory_name: str | None
    signatory_title: str | None
    cohort_id: int
    hours: TrainingHours | None


def certificate_view(
    session: Session, *, code: str, curriculum: Curriculum
) -> CertificateView | None:
    """A certificate by its code: name, cohort, workshop, organizers, signatory, the training
    hours of an official (the cohort's workshop JP and the curriculum's e-learning JP), and
    whether it was revoked."""
    if not code or len(code) > 40:
        return None
    row = session.execute(
        select(
            col(Certificate.code),
            col(Certificate.issued_at),
            col(Certificate.revoked_at),
            col(User.display_name),
            col(User.partner_role),
            col(Cohort.id).label("cohort_id"),
            col(Cohort.title),
            col(Cohort.workshop_start),
            col(Cohort.workshop_end),
            col(Cohort.venue),
            col(Cohort.organizers),
            col(Cohort.signatory_name),
            col(Cohort.signatory_title),
            col(Cohort.jp_workshop),
            col(Cohort.jp_rounding),
            col(Certificate.elearning_minutes),
        )
        .join(User, col(User.id) == Certificate.user_id)
        .join(Couple, col(Couple.id) == User.couple_id)
        .join(Cohort, col(Cohort.id) == Couple.cohort_id)
        .where(col(Certificate.code) == code.strip().upper())
    ).first()
    if row is None:
        return None
    hours = None
    if row.partner_role == PartnerRole.official:
        minutes = (
            lesson_minutes(curriculum)
            if row.elearning_minutes is None
            else [row.elearning_minutes]  # as they were at issue
        )
        hours = training_hours(row.jp_workshop, minutes, row.jp_rounding)
    return CertificateView(
        code=row.code,
        issued_at=row.issued_at,
        revoked_at=row.revoked_at,
        display_name=row.display_name,
        title=row.title,
        workshop_start=row.workshop_start,
        workshop_end=row.workshop_end,
        venue=row.venue,
        organizers=row.organizers,
        signatory_name=row.signatory_name,
        signatory_title=row.signatory_title,
        cohort_id=row.cohort_id,
        hours=hours,
    )


def certificate_of(session: Session, *, user_id: int) -> Certificate | None:
    return session.execute(
        select(Certificate).where(col(Certificate.user_id) == user_id)
    ).scalar_one_or_none()


def certificate_document(
    session: Session,
    *,
    user_id: int,
    curriculum: Curriculum,
    locale: str,
    tz: str,
    base_url: str,
) -> tuple[str, bytes]:
    """(code, PDF) of the participant's own valid certificate; NotFound when there is none.
    An official's states the training hours; a spouse's does not."""
    from app.certificates.pdf import certificate_pdf

    certificate = certificate_of(session, user_id=user_id)
    view = (
        certificate_view(session, code=certificate.code, curriculum=curriculum)
        if certificate
        else None
    )
    if view is None or view.revoked_at is not None:
        raise NotFound(message=N_("There is no certificate for this account yet."))
    signature = session.execute(
        select(col(Cohort.signature_image)).where(col(Cohort.id) == view.cohort_id)
    ).scalar()
    _ = translations(locale).gettext
    hours = ""
    if view.hours is not None:
        hours = _("%(total)s JP (workshop %(workshop)s JP + e-learning %(elearning)s JP)") % {
            "total": view.hours.total_jp,
            "workshop": view.hours.workshop_jp,
            "elearning": view.hours.elearning_jp,
        }
    return view.code, certificate_pdf(
        name=view.display_name,
        cohort=view.title,
        date_text=fmt_date(view.issued_at, locale, tz),
        code=view.code,
        verify_url=f"{base_url.rstrip('/')}/verify/{view.code}",
        heading=_("Integrity Family Certificate"),
        body=_(
            "has completed the Integrity Family learning programme together with their "
            "family, and signed the Family Integrity Pledge."
        ),
        verify_label=_("Check that this certificate is valid:"),
        workshop=_("Workshop on %(dates)s at %(venue)s")
        % {
            "dates": fmt_date_range(view.workshop_start, view.workshop_end, locale),
            "venue": view.venue,
        },
        hours=hours,
        organizers=(
            _("Organized by %(organizers)s") % {"organizers": view.organizers}
            if view.organizers
            else ""
        ),
        signatory_title=view.signatory_title or "",
        signatory_name=view.signatory_name or "",
        signature=signature,
        esign_label=_("Reserved for an electronic signature"),
    )


def certificate_revoke(
    session: Session, *, actor: CurrentUser, code: str, reason: str | None, now: datetime
) -> str:
    """Revoke a certificate (administrators only); audit-logged. Returns the code."""
    if actor.role != Role.admin:
        raise Forbidden
    code = code.strip().upper()[:40]
    reason = (reason or "").strip()[:300] or None
    if (
        session.execute(select(col(Certificate.id)).where(col(Certificate.code) == code)).first()
        is None
    ):
        raise NotFound(message=N_("There is no certificate with this code."))
    session.execute(
        update(Certificate)
        .where(col(Certificate.code) == code, col(Certificate.revoked_at).is_(None))
        .values(revoked_at=now, revoked_by=actor.id, revoke_reason=reason)
    )
    touch_learning(
        session,
        users=session.execute(select(col(Certificate.user_id)).where(col(Certificate.code) == code))
        .scalars()
        .all(),
    )
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="certificate.revoke",
        target=f"certificate:{code}",
        detail={"reason": reason},
    )
    return code
