"""Everything stored about one person, for the person (UU No. 27 Tahun 2022: the rights to
information, to access and a copy, and to portability).

``my_data`` gathers it for the signed-in user only: their account, their couple and who their
partner is (a name, nothing of the partner's learning), their lessons, every attempt with its
answers, their lesson checks, the family reflections they wrote, their pledge, certificate,
attendance, the reminders sent to them and their consent history. The partner's answers and
anybody else's data are never read. ``as_json`` is the download; the page shows the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from app.accounts.models import CurrentUser, User
from app.audit import audit_record
from app.certificates.models import Certificate
from app.cohorts.models import Attendance, Cohort, Couple, Organization, Region
from app.cohorts.roster import MSG_CONTACT, normalize_contact
from app.curriculum.models import Choice, Lesson, LessonProgress, Module, Question, Quiz
from app.errors import AppError
from app.facilitator.models import Reminder
from app.family.models import FamilyReflection, PledgeSignature
from app.i18n import pick
from app.privacy.models import ConsentRecord
from app.quizzes.models import AttemptItem, CheckAnswer, QuizAttempt

FORMAT = "keluarga-berintegritas/my-data"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Profile:
    username: str
    name: str
    role: str
    partner_role: str | None
    contact: str | None
    nip: str | None
    position: str | None
    language: str
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class CoupleInfo:
    code: str
    cohort: str
    cohort_title: str
    region: str
    organization: str
    partner_name: str | None  # who the partner is; nothing of their learning


@dataclass(frozen=True)
class LessonRow:
    lesson: str
    title: str
    viewed_at: datetime | None
    completed_at: datetime | None
    late: bool


@dataclass(frozen=True)
class AnswerRow:
    position: int
    question: str
    chosen: list[str]
    correct: bool | None  # None until the attempt is scored
    answered_at: datetime | None


@dataclass(frozen=True)
class AttemptRow:
    quiz: str
    title: str
    number: int
    started_at: datetime
    submitted_at: datetime | None
    score: float | None
    passed: bool | None
    answers: list[AnswerRow] = field(default_factory=list)


@dataclass(frozen=True)
class CheckRow:
    lesson: str
    question: str
    chosen: list[str]
    correct: bool
    tries: int
    answered_at: datetime


@dataclass(frozen=True)
class ReflectionRow:
    module: str
    text: str
    written_at: datetime
    confirmed_at: datetime | None
    reply: str | None  # the facilitator's reply to the family


@dataclass(frozen=True)
class MyData:
    profile: Profile
    couple: CoupleInfo | None
    lessons: list[LessonRow]
    attempts: list[AttemptRow]
    checks: list[CheckRow]
    reflections: list[ReflectionRow]
    pledge_signed_at: datetime | None
    certificates: list[dict[str, Any]]
    attendance: list[dict[str, Any]]
    reminders: list[dict[str, Any]]
    consents: list[dict[str, Any]]


def _choices(session: Session, ids: set[int], locale: str) -> dict[int, str]:
    if not ids:
        return {}
    return {
        c.id: pick(c.text, locale)
        for c in session.execute(select(Choice).where(col(Choice.id).in_(ids))).scalars()
        if c.id is not None
    }


def my_data(session: Session, *, user: CurrentUser, locale: str) -> MyData:
    """Everything stored about ``user``, read for ``user`` (and for nobody else)."""
    account = session.get(User, user.id)
    assert account is not None
    profile = Profile(
        username=account.username,
        name=account.display_name,
        role=account.role,
        partner_role=account.partner_role,
        contact=account.contact,
        nip=account.nip,
        position=account.position,
        language=account.locale,
        active=account.is_active,
        created_at=account.created_at,
    )
    couple = None
    if account.couple_id is not None:
        row = session.execute(
            select(Couple, Cohort, Region, Organization)
            .join(Cohort, col(Cohort.id) == Couple.cohort_id)
            .join(Region, col(Region.id) == Cohort.region_id)
            .join(Organization, col(Organization.id) == Couple.organization_id)
            .where(col(Couple.id) == account.couple_id)
        ).one()
        partner = session.execute(
            select(col(User.display_name)).where(
                col(User.couple_id) == account.couple_id, col(User.id) != user.id
            )
        ).scalar_one_or_none()
        couple = CoupleInfo(
            code=row[0].code,
            cohort=row[1].slug,
            cohort_title=row[1].title,
            region=row[2].name,
            organization=row[3].name,
            partner_name=partner,
        )
    lessons = [
        LessonRow(slug, pick(title, locale), p.viewed_at, p.completed_at, p.late)
        for p, slug, title in session.execute(
            select(LessonProgress, col(Lesson.slug), col(Lesson.title))
            .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
            .where(col(LessonProgress.user_id) == user.id)
            .order_by(col(LessonProgress.viewed_at), col(LessonProgress.id))
        ).all()
    ]
    attempts_rows = session.execute(
        select(QuizAttempt, col(Quiz.slug), col(Quiz.title))
        .join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id)
        .where(col(QuizAttempt.user_id) == user.id)
        .order_by(col(QuizAttempt.started_at), col(QuizAttempt.id))
    ).all()
    items = session.execute(
        select(AttemptItem, Question)
        .join(Question, col(Question.id) == AttemptItem.question_id)
        .where(col(AttemptItem.attempt_id).in_([a.id for a, _, _ in attempts_rows]))
        .order_by(col(AttemptItem.attempt_id), col(AttemptItem.position))
    ).all()
    checks_rows = session.execute(
        select(CheckAnswer, Question, col(Lesson.slug))
        .join(Question, col(Question.id) == CheckAnswer.question_id)
        .outerjoin(Lesson, col(Lesson.id) == Question.lesson_id)
        .where(col(CheckAnswer.user_id) == user.id)
        .order_by(col(CheckAnswer.answered_at), col(CheckAnswer.id))
    ).all()
    chosen_ids = {int(c) for item, _ in items for c in item.selected or []}
    chosen_ids |= {int(c) for answer, _, _ in checks_rows for c in answer.selected or []}
    choice_text = _choices(session, chosen_ids, locale)
    by_attempt: dict[int, list[AnswerRow]] = {}
    for item, question in items:
        by_attempt.setdefault(item.attempt_id, []).append(
            AnswerRow(
                position=item.position,
                question=pick(question.text, locale),
                chosen=[choice_text.get(int(c), "?") for c in item.selected or []],
                correct=None if item.score is None else item.score >= 1,
                answered_at=item.answered_at,
            )
        )
    attempts = [
        AttemptRow(
            quiz=slug,
            title=pick(title, locale),
            number=a.number,
            started_at=a.started_at,
            submitted_at=a.submitted_at,
            score=a.score,
            passed=a.passed,
            answers=by_attempt.get(a.id or 0, []),
        )
        for a, slug, title in attempts_rows
    ]
    checks = [
        CheckRow(
            lesson=lesson or "",
            question=pick(question.text, locale),
            chosen=[choice_text.get(int(c), "?") for c in answer.selected or []],
            correct=answer.correct,
            tries=answer.tries,
            answered_at=answer.answered_at,
        )
        for answer, question, lesson in checks_rows
    ]
    reflections = [
        ReflectionRow(pick(title, locale), r.text, r.written_at, r.confirmed_at, r.reply)
        for r, title in session.execute(
            select(FamilyReflection, col(Module.title))
            .join(Module, col(Module.id) == FamilyReflection.module_id)
            .where(col(FamilyReflection.written_by) == user.id)
            .order_by(col(FamilyReflection.written_at))
        ).all()
    ]
    pledge = session.execute(
        select(col(PledgeSignature.signed_at)).where(col(PledgeSignature.user_id) == user.id)
    ).scalar_one_or_none()
    certificates = [
        {"code": c.code, "issued_at": c.issued_at, "revoked_at": c.revoked_at}
        for c in session.execute(
            select(Certificate).where(col(Certificate.user_id) == user.id)
        ).scalars()
    ]
    attendance = [
        {"day": a.day, "present": a.present}
        for a in session.execute(
            select(Attendance)
            .where(col(Attendance.user_id) == user.id)
            .order_by(col(Attendance.day))
        ).scalars()
    ]
    reminders = [
        {"at": r.at, "stage": r.stage}
        for r in session.execute(
            select(Reminder).where(col(Reminder.user_id) == user.id).order_by(col(Reminder.at))
        ).scalars()
    ]
    consents = [
        {"at": c.at, "notice_version": c.notice_version, "action": c.action}
        for c in session.execute(
            select(ConsentRecord)
            .where(col(ConsentRecord.user_id) == user.id)
            .order_by(col(ConsentRecord.at), col(ConsentRecord.id))
        ).scalars()
    ]
    return MyData(
        profile=profile,
        couple=couple,
        lessons=lessons,
        attempts=attempts,
        checks=checks,
        reflections=reflections,
        pledge_signed_at=pledge,
        certificates=certificates,
        attendance=attendance,
        reminders=reminders,
        consents=consents,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def as_json(data: MyData, *, generated_at: datetime) -> dict[str, Any]:
    """The download: every field of ``data``, times in ISO 8601 (UTC), with its format."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": generated_at.isoformat(),
        **_plain(asdict(data)),
    }


class ContactRefused(AppError):
    def __init__(self, value: str) -> None:
        super().__init__(422, MSG_CONTACT, {"value": value[:60]}, field="contact")


def contact_correct(session: Session, *, user: CurrentUser, text: str, now: datetime) -> str:
    """The person corrects their own phone number or e-mail address (normalized as the
    roster does); audit-logged without the old or the new value."""
    text = text.strip()
    contact = normalize_contact(text) if text else None
    if text and contact is None:
        raise ContactRefused(text)
    session.execute(update(User).where(col(User.id) == user.id).values(contact=contact))
    audit_record(
        session, now=now, actor_id=user.id, action="account.contact", target=f"user:{user.id}"
    )
    return contact or ""
