"""The couple's family space: reflections, the pledge, completion and certificates."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, cast, func, select
from sqlmodel import Session

from app.accounts.models import User
from app.certificates.models import Certificate
from app.curriculum.models import Module, Quiz
from app.curriculum.service import content_summary
from app.family.models import FamilyReflection, PledgeSignature
from app.i18n import N_
from app.quizzes.models import QuizAttempt

MAX_REFLECTION = 5000


class FamilyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def reflections_for(session: Session, *, couple_id: int) -> dict[int, FamilyReflection]:
    """The couple's reflections by module id (one query)."""
    return {
        r.module_id: r
        for r in session.execute(
            select(FamilyReflection).where(FamilyReflection.couple_id == couple_id)
        ).scalars()
    }


def reflection_write(
    session: Session, *, couple_id: int, module_id: int, user_id: int, text: str, now: datetime
) -> FamilyReflection:
    """Write the family's reflection, or edit it: an edit needs the other partner to confirm."""
    text = text.strip()
    if not text:
        raise FamilyError(422, N_("Write the family's reflection first."))
    if len(text) > MAX_REFLECTION:
        raise FamilyError(422, N_("The reflection is too long (at most 5,000 characters)."))
    row = session.execute(
        select(FamilyReflection).where(
            FamilyReflection.couple_id == couple_id, FamilyReflection.module_id == module_id
        )
    ).scalar_one_or_none()
    if row is None:
        row = FamilyReflection(
            couple_id=couple_id, module_id=module_id, text=text, written_by=user_id, written_at=now
        )
    elif row.text != text:
        row.text, row.written_by, row.written_at = text, user_id, now
        row.confirmed_by = row.confirmed_at = None
    session.add(row)
    return row


def reflection_confirm(
    session: Session, *, couple_id: int, module_id: int, user_id: int, now: datetime
) -> None:
    row = session.execute(
        select(FamilyReflection).where(
            FamilyReflection.couple_id == couple_id, FamilyReflection.module_id == module_id
        )
    ).scalar_one_or_none()
    if row is None:
        raise FamilyError(409, N_("There is no reflection to confirm yet."))
    if row.written_by == user_id:
        raise FamilyError(
            409, N_("Your partner confirms what you wrote; you cannot confirm your own text.")
        )
    if row.confirmed_at is None:
        row.confirmed_by, row.confirmed_at = user_id, now
        session.add(row)


def reflection_reply(
    session: Session, *, reflection_id: int, cohort_id: int, user_id: int, text: str, now: datetime
) -> FamilyReflection:
    from app.cohorts.models import Couple

    text = text.strip()
    if not text or len(text) > MAX_REFLECTION:
        raise FamilyError(422, N_("Write a reply of at most 5,000 characters."))
    row = session.execute(
        select(FamilyReflection)
        .join(Couple, Couple.id == FamilyReflection.couple_id)
        .where(FamilyReflection.id == reflection_id, Couple.cohort_id == cohort_id)
    ).scalar_one_or_none()
    if row is None:
        raise FamilyError(404, N_("This reflection does not exist."))
    row.reply, row.replied_by, row.replied_at = text, user_id, now
    session.add(row)
    return row


def pledge_text(session: Session) -> tuple[int | None, dict | None]:
    version, summary = content_summary(session)
    pledge = summary.get("pledge")
    return (version, pledge) if pledge else (None, None)


def signatures_for(session: Session, *, couple_id: int) -> dict[int, datetime]:
    return dict(
        session.execute(
            select(PledgeSignature.user_id, PledgeSignature.signed_at).where(
                PledgeSignature.couple_id == couple_id
            )
        ).all()
    )


def pledge_sign(session: Session, *, user: User, post_test_done: bool, now: datetime) -> bool:
    """Sign the family pledge, once. Returns False when already signed (nothing changes)."""
    if not post_test_done:
        raise FamilyError(409, N_("The pledge is signed after the post-test."))
    if session.execute(
        select(PledgeSignature.id).where(PledgeSignature.user_id == user.id)
    ).first():
        return False
    version, _ = pledge_text(session)
    if version is None:
        raise FamilyError(409, N_("The pledge text is not available yet."))
    session.add(
        PledgeSignature(
            user_id=user.id, couple_id=user.couple_id, signed_at=now, content_version_id=version
        )
    )
    return True


@dataclass
class Completion:
    modules: int
    modules_passed: dict[int, int]  # user id → module quizzes passed
    post_test: set[int]  # user ids who took the post-test
    reflections_confirmed: int
    signed: set[int]
    partners: list[int]

    @property
    def all_passed(self) -> bool:
        return all(self.modules_passed.get(u, 0) >= self.modules for u in self.partners)

    @property
    def all_post_test(self) -> bool:
        return set(self.partners) <= self.post_test

    @property
    def complete(self) -> bool:
        return (
            len(self.partners) == 2
            and self.all_passed
            and self.all_post_test
            and self.reflections_confirmed >= self.modules
            and set(self.partners) <= self.signed
        )


def couple_completion(session: Session, *, couple_id: int) -> Completion:
    """Where the couple stands against DESIGN §3's definition of complete (four queries)."""
    partners = list(
        session.execute(
            select(User.id).where(User.couple_id == couple_id).order_by(User.id)
        ).scalars()
    )
    modules = session.execute(
        select(func.count()).select_from(Module).where(Module.active.is_(True))
    ).scalar_one()
    passed: dict[int, int] = {}
    post: set[int] = set()
    for user_id, kind, n in session.execute(
        select(QuizAttempt.user_id, Quiz.kind, func.count(func.distinct(Quiz.id)))
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .where(
            QuizAttempt.user_id.in_(partners),
            QuizAttempt.submitted_at.is_not(None),
            ((Quiz.kind == "module") & (cast(QuizAttempt.passed, Integer) == 1))
            | (Quiz.kind == "post"),
        )
        .group_by(QuizAttempt.user_id, Quiz.kind)
    ).all():
        if kind == "module":
            passed[user_id] = n
        else:
            post.add(user_id)
    confirmed = session.execute(
        select(func.count())
        .select_from(FamilyReflection)
        .join(Module, Module.id == FamilyReflection.module_id)
        .where(
            FamilyReflection.couple_id == couple_id,
            FamilyReflection.confirmed_at.is_not(None),
            Module.active.is_(True),
        )
    ).scalar_one()
    signed = set(signatures_for(session, couple_id=couple_id))
    return Completion(modules, passed, post, confirmed, signed, partners)


CERT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def certificates_issue_if_complete(session: Session, *, couple_id: int, now: datetime) -> int:
    """Give each partner a certificate once the couple is complete. Returns how many were
    issued now (0 when not complete, or already issued)."""
    completion = couple_completion(session, couple_id=couple_id)
    if not completion.complete:
        return 0
    have = set(
        session.execute(
            select(Certificate.user_id).where(Certificate.user_id.in_(completion.partners))
        ).scalars()
    )
    issued = 0
    for user_id in completion.partners:
        if user_id in have:
            continue
        code = "KB-" + "".join(secrets.choice(CERT_ALPHABET) for _ in range(10))
        session.add(Certificate(user_id=user_id, code=code, issued_at=now))
        issued += 1
    return issued
