"""The quiz engine: lesson checks, module quizzes, pre-test and post-test.

Rules (DESIGN §3, §8):
- module quiz: pass mark 70 %, 3 attempts (a facilitator may grant more), the best counts;
- pre-test: before the first lesson, one attempt, answers never revealed;
- post-test: when the workshop is over and every module is passed; the pre-test's very question
  versions, reshuffled; one attempt;
- an attempt keeps the question versions it served; answers are saved as they are given;
- submitting is idempotent: whatever the number of clicks, tabs or retries, one submission.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, bindparam, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.accounts.models import CurrentUser
from app.audit import audit_record
from app.cohorts.service import participant_for
from app.curriculum.models import Choice, Question
from app.curriculum.outline import CheckQuestion, QuizInfo
from app.db import execute_core, saved_id, touch_learning
from app.errors import AppError
from app.i18n import N_
from app.learning.rules import (
    Access,
    AttemptInfo,
    QuizRecord,
    QuizStatus,
    attempt_passed,
)
from app.learning.selectors import quiz_records
from app.learning.standing import ATTEMPT_COLUMNS, Standing
from app.quizzes.models import AttemptItem, CheckAnswer, ExtraAttempts, QuizAttempt
from app.quizzes.scoring import attempt_percent, band, normalized_gain, score_item, shuffled


class QuizError(AppError):
    """A request the quiz rules refuse."""


# ---------------------------------------------------------------- extra attempts


def extra_attempt_grant(
    session: Session,
    *,
    actor: CurrentUser,
    user_id: int,
    quiz: QuizInfo,
    now: datetime,
    cohort_id: int | None = None,
) -> int:
    """One more attempt at a module quiz, for a participant of a cohort the actor facilitates
    who used every attempt without passing. A second click (or a second facilitator) grants
    nothing more: the participant has an attempt waiting. Returns the extra attempts now
    granted in all."""
    participant_for(session, actor=actor, user_id=user_id, cohort_id=cohort_id)
    if quiz.kind != "module":
        raise QuizError(422, N_("Only a module quiz can be given another attempt."))
    row = session.execute(
        select(ExtraAttempts)
        .where(col(ExtraAttempts.user_id) == user_id, col(ExtraAttempts.quiz_id) == quiz.id)
        .with_for_update()
    ).scalar_one_or_none()
    extra = row.extra if row else 0
    standing = session.execute(
        quiz_records(select(literal(user_id))).where(col(QuizAttempt.quiz_id) == quiz.id)
    ).first()
    if standing is not None and standing.passed:
        raise QuizError(409, N_("This participant has already passed this quiz."))
    if standing is None or not standing.exhausted:
        raise QuizError(409, N_("This participant still has an attempt left for this quiz."))
    if row is None:
        row = ExtraAttempts(user_id=user_id, quiz_id=quiz.id, extra=0)
        session.add(row)
    row.extra = extra + 1
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="quiz.extra_attempt",
        target=f"user:{user_id}",
        detail={"quiz": quiz.slug, "extra": row.extra},
    )
    return row.extra


# ---------------------------------------------------------------- attempts


def _pool_query(quiz: QuizInfo):
    query = select(col(Question.id)).where(col(Question.current).is_(True))
    if quiz.kind == "module":
        return query.where(col(Question.pool) == "quiz", col(Question.module_id) == quiz.module_id)
    return query.where(col(Question.pool) == "prepost")


def attempt_start(
    session: Session,
    *,
    user_id: int,
    status: QuizStatus,
    quizzes: dict[str, QuizInfo],
    now: datetime,
) -> int:
    """Start (or resume) an attempt and return its id. Safe to call twice at once: the
    unique (user, quiz, number) key lets exactly one attempt exist."""
    if status.access == Access.in_progress:
        open_attempt = status.record.open_attempt
        if open_attempt is None:  # in progress means an open attempt: never None here
            raise QuizError(409, N_("You cannot start this quiz now."))
        return open_attempt.id
    if status.access != Access.available:
        raise QuizError(409, N_("You cannot start this quiz now."))
    quiz = status.quiz
    question_ids: list[int] | None = None
    if quiz.kind == "post":
        pre = quizzes["pre-test"]
        question_ids = (
            list(
                session.execute(
                    select(col(AttemptItem.question_id))
                    .join(QuizAttempt, col(QuizAttempt.id) == AttemptItem.attempt_id)
                    .where(col(QuizAttempt.user_id) == user_id, col(QuizAttempt.quiz_id) == pre.id)
                    .order_by(col(AttemptItem.position))
                ).scalars()
            )
            or None
        )
    if question_ids is None:
        question_ids = list(
            session.execute(
                _pool_query(quiz).order_by(col(Question.position), col(Question.id))
            ).scalars()
        )
    if not question_ids:
        raise QuizError(409, N_("This quiz has no questions yet."))
    seed = secrets.randbelow(2**31)
    attempt = QuizAttempt(
        user_id=user_id,
        quiz_id=quiz.id,
        number=len(status.record.attempts) + 1,
        seed=seed,
        started_at=now,
    )
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:
        # another tab started the same attempt a moment ago: use that one
        return session.execute(
            select(col(QuizAttempt.id)).where(
                col(QuizAttempt.user_id) == user_id,
                col(QuizAttempt.quiz_id) == quiz.id,
                col(QuizAttempt.submitted_at).is_(None),
            )
        ).scalar_one()
    attempt_id = saved_id(attempt)
    session.add_all(
        AttemptItem(attempt_id=attempt_id, question_id=qid, position=n)
        for n, qid in enumerate(shuffled(question_ids, seed, "questions"), 1)
    )
    return attempt_id


@dataclass
class ServedItem:
    item_id: int
    question_id: int
    position: int
    type: str
    text: dict
    explanation: dict
    source: str
    choices: list[dict]  # id, text, feedback, correct — in this attempt's order
    selected: list[int]
    score: float | None

    @property
    def correct_ids(self) -> set[int]:
        return {c["id"] for c in self.choices if c["correct"]}

    @property
    def key(self) -> tuple:
        """Everything of the person's its question shows (their answer, this attempt's order
        of the choices, its position), for keeping it rendered (``app.web.Fragments``)."""
        return shown_key(self.question_id, self.selected, self.choices, self.position)


def shown_key(question_id: int, selected: Sequence[int], choices: list[dict], *more: Any) -> tuple:
    """A question as one person sees it, for keeping it rendered: the question, what they
    picked, their order of its choices, and ``more`` (what else the part shows of them)."""
    return (question_id, tuple(selected), *more, *(c["id"] for c in choices))


ATTEMPT = select(*ATTEMPT_COLUMNS).where(
    col(QuizAttempt.id) == bindparam("attempt_id"),
    col(QuizAttempt.user_id) == bindparam("user_id"),
    col(QuizAttempt.quiz_id) == bindparam("quiz_id"),
)


def attempt_get(session: Session, *, attempt_id: int, user_id: int, quiz_id: int) -> AttemptInfo:
    """The attempt, only if it is the user's own and of this quiz — the one whose address
    the answers were sent to (another's, or another quiz's, is 404, never shown)."""
    row = execute_core(
        session, ATTEMPT, {"attempt_id": attempt_id, "user_id": user_id, "quiz_id": quiz_id}
    ).first()
    if row is None:
        raise QuizError(404, N_("This attempt does not exist."))
    return AttemptInfo(*row)


ATTEMPT_ITEMS = (
    select(
        col(AttemptItem.id),
        col(AttemptItem.question_id),
        col(AttemptItem.position),
        col(AttemptItem.selected),
        col(AttemptItem.score),
    )
    .where(col(AttemptItem.attempt_id) == bindparam("attempt_id"))
    .order_by(col(AttemptItem.position))
)


def attempt_items(
    session: Session, *, attempt: AttemptInfo, known: dict[int, tuple[Any, ...]] | None = None
) -> list[ServedItem]:
    """The questions of an attempt in its order, choices shuffled by its seed. ``known``:
    questions' content by id kept from earlier calls (``Curriculum.questions``); only those
    not in it are read (two more queries), and it keeps them."""
    known = {} if known is None else known
    rows = execute_core(session, ATTEMPT_ITEMS, {"attempt_id": attempt.id}).all()
    missing = [r[1] for r in rows if r[1] not in known]
    if missing:
        choices = _choices_for(session, missing)
        for qid, type_, text, explanation, source in session.execute(
            select(
                col(Question.id),
                col(Question.type),
                col(Question.text),
                col(Question.explanation),
                col(Question.source),
            ).where(col(Question.id).in_(missing))
        ).all():
            known[qid] = (type_, text, explanation, source, choices.get(qid, []))
    items = []
    for item_id, qid, position, selected, score in rows:
        type_, text, explanation, source, kept = known[qid]
        own = list(kept) if type_ == "true_false" else shuffled(kept, attempt.seed, qid)
        items.append(
            ServedItem(
                item_id, qid, position, type_, text, explanation, source, own, selected or [], score
            )
        )
    return items


def _choices_for(session: Session, question_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for cid, qid, text, feedback, correct in session.execute(
        select(
            col(Choice.id),
            col(Choice.question_id),
            col(Choice.text),
            col(Choice.feedback),
            col(Choice.correct),
        )
        .where(col(Choice.question_id).in_(question_ids))
        .order_by(col(Choice.question_id), col(Choice.position))
    ).all():
        out.setdefault(qid, []).append(
            {"id": cid, "text": text, "feedback": feedback, "correct": correct}
        )
    return out


def form_answers(form: Any) -> dict[int, list[int]]:
    """The answers of a submitted form (a mapping with ``getlist``, as a request's form
    data): its ``q<question id>`` fields, checked by ``parse_answers``."""
    return parse_answers(
        {
            key: [v for v in form.getlist(key) if isinstance(v, str)]
            for key in form
            if key.startswith("q")
        }
    )


def parse_answers(form: dict[str, list[str]]) -> dict[int, list[int]]:
    """Form fields ``q<question id>`` → choice ids. Malformed fields are a 422."""
    answers: dict[int, list[int]] = {}
    for key, values in form.items():
        if not key.startswith("q"):
            continue
        try:
            qid = int(key[1:])
            answers[qid] = sorted({int(v) for v in values if v != ""})
        except ValueError as exc:
            raise QuizError(422, N_("The answer form is not valid. Reload the page.")) from exc
    return answers


# every choice of the answered questions of an attempt: what an answer may pick
ATTEMPT_CHOICES = (
    select(col(AttemptItem.id), col(AttemptItem.question_id), col(Question.type), col(Choice.id))
    .join(Question, col(Question.id) == AttemptItem.question_id)
    .join(Choice, col(Choice.question_id) == Question.id)
    .where(
        col(AttemptItem.attempt_id) == bindparam("attempt_id"),
        col(AttemptItem.question_id).in_(bindparam("questions", expanding=True)),
    )
)
ANSWER = (
    update(AttemptItem)
    .where(col(AttemptItem.id) == bindparam("item_id"))
    .values(selected=bindparam("selected"), answered_at=bindparam("answered_at"))
)


def attempt_save(
    session: Session, *, attempt: AttemptInfo, answers: dict[int, list[int]], now: datetime
) -> int:
    """Save answers as they are given, all or nothing. Returns how many were saved."""
    if attempt.submitted_at is not None:
        raise QuizError(409, N_("This attempt is already submitted; answers can no longer change."))
    if not answers:
        return 0
    items: dict[int, tuple[int, str, set[int]]] = {}  # question id → (item id, type, choices)
    for item_id, question_id, type_, choice_id in execute_core(
        session, ATTEMPT_CHOICES, {"attempt_id": attempt.id, "questions": list(answers)}
    ).all():
        items.setdefault(question_id, (item_id, type_, set()))[2].add(choice_id)
    if any(qid not in items for qid in answers):
        raise QuizError(422, N_("A question you answered is not part of this attempt."))
    for qid, picked in answers.items():
        if not set(picked) <= items[qid][2]:
            raise QuizError(422, N_("An answer does not belong to its question."))
        if items[qid][1] != "multiple" and len(picked) > 1:
            raise QuizError(422, N_("Choose only one answer for this question."))
    session.connection().execute(  # one executemany for every answer
        ANSWER,
        [
            {
                "item_id": items[qid][0],
                "selected": picked or None,
                "answered_at": now if picked else None,
            }
            for qid, picked in answers.items()
        ],
    )
    return len(answers)


def attempt_submit(
    session: Session,
    *,
    attempt: AttemptInfo,
    quiz: QuizInfo,
    now: datetime,
    known: dict[int, tuple[Any, ...]] | None = None,
) -> bool:
    """Score and close the attempt. Returns False when it was already submitted (a double
    click, a retry, another tab): nothing changes then."""
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(QuizAttempt)
            .where(col(QuizAttempt.id) == attempt.id, col(QuizAttempt.submitted_at).is_(None))
            .values(submitted_at=now)
        ),
    ).rowcount
    if claimed == 0:
        return False
    touch_learning(
        session,
        users=[
            session.execute(
                select(col(QuizAttempt.user_id)).where(col(QuizAttempt.id) == attempt.id)
            ).scalar_one()
        ],
    )
    items = attempt_items(session, attempt=attempt, known=known)
    scores = []
    for item in items:
        s = score_item(item.type, [c["id"] for c in item.choices], item.correct_ids, item.selected)
        scores.append(s)
        session.execute(
            update(AttemptItem).where(col(AttemptItem.id) == item.item_id).values(score=s)
        )
    percent = attempt_percent(scores)
    session.execute(
        update(QuizAttempt)
        .where(col(QuizAttempt.id) == attempt.id)
        .values(score=percent, passed=attempt_passed(percent, quiz.pass_mark))
    )
    return True


def unanswered(items: list[ServedItem]) -> list[int]:
    return [i.position for i in items if not i.selected]


# ---------------------------------------------------------------- lesson checks


@dataclass
class CheckView:
    """A lesson-check question with the user's latest answer."""

    question: CheckQuestion
    selected: list[int]
    correct: bool | None  # None: not answered yet
    tries: int
    choices: list[dict]  # in the order this participant sees them

    @property
    def answered(self) -> bool:
        return self.correct is not None

    @property
    def key(self) -> tuple:
        """Everything of the person's its section shows (their answer, their order of the
        choices), for keeping it rendered (``app.web.Fragments``)."""
        return shown_key(self.question.id, self.selected, self.choices, self.correct)


CHECK_ANSWERS = (
    select(
        col(CheckAnswer.question_id),
        col(CheckAnswer.selected),
        col(CheckAnswer.correct),
        col(CheckAnswer.tries),
    )
    .join(Question, col(Question.id) == CheckAnswer.question_id)
    .where(
        col(CheckAnswer.user_id) == bindparam("user_id"),
        col(Question.lesson_id) == bindparam("lesson_id"),
    )
)


def check_choices(question: CheckQuestion, seed: int) -> list[dict]:
    """A check's choices in the order one participant sees them: shuffled by the person's
    seed and the question, the same on every visit (Benar / Salah stay in their order)."""
    if question.type == "true_false":
        return question.choices
    return shuffled(question.choices, seed, f"check:{question.id}")


def checks_for_lesson(
    session: Session,
    *,
    lesson_id: int,
    questions: list[CheckQuestion],
    user_id: int,
    seed: int,
) -> list[CheckView]:
    """The lesson's check questions (from the curriculum cache) with the user's latest
    answers, choices in the participant's order: one query."""
    if not questions:
        return []
    answers = {
        r[0]: tuple(r[1:])
        for r in execute_core(
            session, CHECK_ANSWERS, {"user_id": user_id, "lesson_id": lesson_id}
        ).all()
    }
    views = []
    for q in questions:
        selected, correct, tries = answers.get(q.id, ([], None, 0))
        views.append(CheckView(q, selected, correct, tries, check_choices(q, seed)))
    return views


def check_answer(
    session: Session, *, user_id: int, check: CheckQuestion, selected: list[int], now: datetime
) -> bool:
    """Record an answer to a lesson check (unlimited tries). Returns whether it is right."""
    ids = [c["id"] for c in check.choices]
    if not selected:
        raise QuizError(422, N_("Choose an answer first."))
    if not set(selected) <= set(ids):
        raise QuizError(422, N_("An answer does not belong to its question."))
    if check.type != "multiple" and len(selected) > 1:
        raise QuizError(422, N_("Choose only one answer for this question."))
    correct_ids = {c["id"] for c in check.choices if c["correct"]}
    right = score_item(check.type, ids, correct_ids, selected) == 1.0
    row = session.execute(
        select(CheckAnswer).where(
            col(CheckAnswer.user_id) == user_id, col(CheckAnswer.question_id) == check.id
        )
    ).scalar_one_or_none()
    if row is None:
        row = CheckAnswer(
            user_id=user_id,
            question_id=check.id,
            selected=selected,
            correct=right,
            tries=0,
            answered_at=now,
        )
    row.selected, row.correct, row.tries, row.answered_at = selected, right, row.tries + 1, now
    session.add(row)
    return right


# ---------------------------------------------------------------- results and gain


@dataclass
class TopicRow:
    """Percent correct on one module's or one value's questions, before and after."""

    key: str
    title: dict[str, str]
    pre: float | None = None
    post: float | None = None

    @property
    def gain(self) -> float | None:
        if self.pre is None or self.post is None:
            return None
        return normalized_gain(self.pre, self.post)


@dataclass
class Results:
    """The results page: both tests side by side, gain overall, by module and by value."""

    pre: AttemptInfo | None
    post: AttemptInfo | None
    gain: float | None = None
    band: str | None = None
    modules: list[TopicRow] = field(default_factory=list)
    values: list[TopicRow] = field(default_factory=list)
    partner_pre: AttemptInfo | None = None
    partner_post: AttemptInfo | None = None

    @property
    def ready(self) -> bool:
        return self.post is not None


def _first_submitted(
    records: dict[int, QuizRecord] | None, quiz: QuizInfo | None
) -> AttemptInfo | None:
    if records is None or quiz is None:
        return None
    record = records.get(quiz.id)
    return next(iter(record.submitted), None) if record else None


def results_for(session: Session, *, standing: Standing) -> Results:
    """The participant's pre/post results (the partner's scores beside): once the post-test
    is taken, by module and by value, computed in SQL."""
    quizzes = standing.curriculum.quizzes
    pre_q, post_q = quizzes.get("pre-test"), quizzes.get("post-test")
    pre = _first_submitted(standing.records, pre_q)
    post = _first_submitted(standing.records, post_q) if pre_q else None
    results = Results(pre=pre, post=post)
    if post is None:
        return results
    titles_by = {
        "module": {m.slug: m.title for m in standing.curriculum.modules},
        "value": value_titles(session),
    }
    tables = {}
    for by, titles in titles_by.items():
        rows: dict[str, TopicRow] = {}
        for key, attempt_id, percent in topic_scores(
            session, pre_attempt_id=pre.id if pre else None, post_attempt_id=post.id, by=by
        ):
            row = rows.setdefault(key, TopicRow(key, titles.get(key, {"id": key})))
            if pre is not None and attempt_id == pre.id:
                row.pre = float(percent)
            else:
                row.post = float(percent)
        tables[by] = [rows[k] for k in titles if k in rows]
    results.modules, results.values = tables["module"], tables["value"]
    results.gain = normalized_gain(pre.score or 0.0, post.score or 0.0) if pre else None
    results.band = band(results.gain)
    results.partner_pre = _first_submitted(standing.partner_records, pre_q)
    results.partner_post = _first_submitted(standing.partner_records, post_q)
    return results


def topic_scores(
    session: Session, *, pre_attempt_id: int | None, post_attempt_id: int | None, by: str
) -> Sequence[Row[str, int, Any]]:
    """Percent correct per module (``by="module"``) or per value (``by="value"``) in the pre
    and post attempts, computed in SQL: rows of (key, attempt_id, percent)."""
    from app.curriculum.models import Module, QuestionValue

    ids = [a for a in (pre_attempt_id, post_attempt_id) if a is not None]
    if not ids:
        return []
    if by == "module":
        key = col(Module.slug)
        query = (
            select(
                key,
                col(AttemptItem.attempt_id),
                100.0 * func.avg(func.coalesce(AttemptItem.score, 0.0)),
            )
            .join(Question, col(Question.id) == AttemptItem.question_id)
            .join(Module, col(Module.id) == Question.module_id)
        )
    else:
        key = col(QuestionValue.value_slug)
        query = select(
            key,
            col(AttemptItem.attempt_id),
            100.0 * func.avg(func.coalesce(AttemptItem.score, 0.0)),
        ).join(QuestionValue, col(QuestionValue.question_id) == AttemptItem.question_id)
    return session.execute(
        query.where(col(AttemptItem.attempt_id).in_(ids)).group_by(key, col(AttemptItem.attempt_id))
    ).all()


def value_titles(session: Session) -> dict[str, dict]:
    from app.curriculum.models import IntegrityValue

    return dict(
        session.execute(
            select(col(IntegrityValue.slug), col(IntegrityValue.title)).order_by(
                col(IntegrityValue.position)
            )
        ).all()
    )
