"""The couple's family space: reflections per module, the pledge, and what completion needs.

When reflections and the pledge open, and when a couple is complete, is decided by
``app.learning.rules``; a change that may complete the couple issues the certificates in its
own transaction (``certificates.service.issue_if_complete``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts.models import CurrentUser, User
from app.audit import audit_record
from app.certificates.models import Certificate
from app.certificates.service import certificate_of, issue_if_complete
from app.cohorts.models import Couple
from app.cohorts.service import cohorts_visible_to, facilitator_names
from app.curriculum.models import Module
from app.curriculum.service import content_summary
from app.errors import AppError, NotFound
from app.family.models import FamilyReflection, PledgeSignature
from app.i18n import N_
from app.inputs import clean_text
from app.learning.rules import (
    Completion,
    ModuleProgress,
    completion_of,
    pledge_open,
    reflection_open,
)
from app.learning.standing import Standing

MAX_REFLECTION = 5000


class FamilyError(AppError):
    """A family action the rules refuse."""


def reflections_for(session: Session, *, couple_id: int) -> dict[int, FamilyReflection]:
    """The couple's reflections by module id (one statement)."""
    return {
        r.module_id: r
        for r in session.execute(
            select(FamilyReflection).where(col(FamilyReflection.couple_id) == couple_id)
        ).scalars()
    }


def pledge_text(session: Session) -> tuple[int | None, dict[str, Any] | None]:
    version, summary = content_summary(session)
    pledge = summary.get("pledge")
    return (version, pledge) if pledge else (None, None)


def signatures_for(session: Session, *, couple_id: int) -> dict[int, datetime]:
    return {
        user_id: signed_at
        for user_id, signed_at in session.execute(
            select(col(PledgeSignature.user_id), col(PledgeSignature.signed_at)).where(
                col(PledgeSignature.couple_id) == couple_id
            )
        ).all()
    }


@dataclass
class FamilyView:
    reflections: dict[int, FamilyReflection]
    pledge: dict[str, Any] | None
    signatures: dict[int, datetime]
    completion: Completion
    certificate: Certificate | None
    post_test_done: bool
    # whom to ask when the certificate was revoked: the cohort's facilitators, by name
    facilitators: list[str] = field(default_factory=list)


def family_view(session: Session, *, standing: Standing) -> FamilyView:
    """The family page: reflections, the pledge and its signatures, and where the couple
    stands against completion (from both partners' standing)."""
    learner = standing.learner
    reflections = reflections_for(session, couple_id=learner.couple_id)
    signatures = signatures_for(session, couple_id=learner.couple_id)
    partners = [learner.user_id] + ([learner.partner_id] if learner.partner_id else [])
    records = {learner.user_id: standing.records}
    if learner.partner_id is not None and standing.partner_records is not None:
        records[learner.partner_id] = standing.partner_records
    module_ids = {m.id for m in standing.curriculum.modules}
    completion = completion_of(
        standing.curriculum,
        partners,
        records,
        reflections_confirmed=sum(
            1 for mid, r in reflections.items() if r.confirmed_at is not None and mid in module_ids
        ),
        signed=signatures,
    )
    certificate = certificate_of(session, user_id=learner.user_id)
    revoked = certificate is not None and certificate.revoked_at is not None
    return FamilyView(
        reflections=reflections,
        pledge=pledge_text(session)[1],
        signatures=signatures,
        completion=completion,
        certificate=certificate,
        post_test_done=standing.taken("post-test"),
        facilitators=facilitator_names(session, cohort_id=learner.cohort_id) if revoked else [],
    )


def _module(standing: Standing, slug: str) -> ModuleProgress:
    progress = next((m for m in standing.mine.modules if m.module.slug == slug), None)
    if progress is None:
        raise NotFound(message=N_("This module does not exist."))
    return progress


def _reflection(session: Session, couple_id: int, module_id: int) -> FamilyReflection | None:
    return session.execute(
        select(FamilyReflection).where(
            col(FamilyReflection.couple_id) == couple_id,
            col(FamilyReflection.module_id) == module_id,
        )
    ).scalar_one_or_none()


def reflection_write(
    session: Session, *, standing: Standing, module_slug: str, text: str, now: datetime
) -> FamilyReflection:
    """Write the family's reflection on a module, or edit it: an edit needs the other partner
    to confirm again."""
    progress = _module(standing, module_slug)
    if not reflection_open(progress):
        raise FamilyError(
            409, N_("Finish the module's lessons first, then write the reflection together.")
        )
    text = clean_text(text).strip()  # no bidirectional overrides: it reads as written
    if not text:
        raise FamilyError(422, N_("Write the family's reflection first."))
    if len(text) > MAX_REFLECTION:
        raise FamilyError(422, N_("The reflection is too long (at most 5,000 characters)."))
    learner = standing.learner
    row = _reflection(session, learner.couple_id, progress.module.id)
    if row is None:
        row = FamilyReflection(
            couple_id=learner.couple_id,
            module_id=progress.module.id,
            text=text,
            written_by=learner.user_id,
            written_at=now,
        )
    elif row.text != text:
        row.text, row.written_by, row.written_at = text, learner.user_id, now
        row.confirmed_by = row.confirmed_at = None
    session.add(row)
    return row


def reflection_confirm(
    session: Session, *, standing: Standing, module_slug: str, now: datetime
) -> None:
    """The other partner confirms the reflection; this may complete the couple."""
    progress = _module(standing, module_slug)
    learner = standing.learner
    row = _reflection(session, learner.couple_id, progress.module.id)
    if row is None:
        raise FamilyError(409, N_("There is no reflection to confirm yet."))
    if row.written_by == learner.user_id:
        raise FamilyError(
            409, N_("Your partner confirms what you wrote; you cannot confirm your own text.")
        )
    if row.confirmed_at is None:
        row.confirmed_by, row.confirmed_at = learner.user_id, now
        session.add(row)
        session.flush()
        issue_if_complete(session, couple_id=learner.couple_id, now=now)


def pledge_sign(session: Session, *, standing: Standing, now: datetime) -> bool:
    """Sign the family pledge, once; this may complete the couple. Returns False when already
    signed (nothing changes)."""
    if not pledge_open(standing.taken("post-test")):
        raise FamilyError(409, N_("The pledge is signed after the post-test."))
    learner = standing.learner
    if session.execute(
        select(col(PledgeSignature.id)).where(col(PledgeSignature.user_id) == learner.user_id)
    ).first():
        return False
    version, _ = pledge_text(session)
    if version is None:
        raise FamilyError(409, N_("The pledge text is not available yet."))
    session.add(
        PledgeSignature(
            user_id=learner.user_id,
            couple_id=learner.couple_id,
            signed_at=now,
            content_version_id=version,
        )
    )
    session.flush()
    issue_if_complete(session, couple_id=learner.couple_id, now=now)
    return True


# ---------------------------------------------------------------- for facilitators


@dataclass(frozen=True)
class ReflectionRow:
    reflection: FamilyReflection
    couple_code: str
    module_title: dict[str, str]
    written_by: str


def reflections_of_cohort(
    session: Session, *, actor: CurrentUser, cohort_id: int
) -> list[ReflectionRow]:
    """A cohort's family reflections, unanswered first, for a facilitator of the cohort."""
    rows = session.execute(
        select(FamilyReflection, col(Couple.code), col(Module.title), col(User.display_name))
        .join(Couple, col(Couple.id) == FamilyReflection.couple_id)
        .join(Module, col(Module.id) == FamilyReflection.module_id)
        .join(User, col(User.id) == FamilyReflection.written_by)
        .where(
            col(Couple.cohort_id) == cohort_id,
            col(Couple.cohort_id).in_(cohorts_visible_to(user=actor)),
        )
        .order_by(col(FamilyReflection.reply).is_not(None), col(FamilyReflection.written_at).desc())
    ).all()
    return [ReflectionRow(*row) for row in rows]


def reflection_reply(
    session: Session,
    *,
    actor: CurrentUser,
    reflection_id: int,
    cohort_id: int,
    text: str,
    now: datetime,
) -> FamilyReflection:
    """A facilitator's answer to a family reflection of a cohort they facilitate;
    audit-logged. Anyone else's reflection is NotFound."""
    text = clean_text(text).strip()
    if not text or len(text) > MAX_REFLECTION:
        raise FamilyError(422, N_("Write a reply of at most 5,000 characters."))
    row = session.execute(
        select(FamilyReflection)
        .join(Couple, col(Couple.id) == FamilyReflection.couple_id)
        .where(
            col(FamilyReflection.id) == reflection_id,
            col(Couple.cohort_id) == cohort_id,
            col(Couple.cohort_id).in_(cohorts_visible_to(user=actor)),
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(message=N_("This reflection does not exist."))
    row.reply, row.replied_by, row.replied_at = text, actor.id, now
    session.add(row)
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="reflection.reply",
        target=f"reflection:{reflection_id}",
    )
    return row
