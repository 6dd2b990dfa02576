"""After the workshop (evaluation levels 1–3): the reaction survey, the family's action plan,
the check-ins at about 30 and 90 days, and the retention check.

When each opens and closes, what counts as answered or kept, and which items the retention
check asks are decided by ``app.learning.rules``; this module reads and writes. The survey's
answers are kept without their author (``SurveyResponse``); that someone answered is kept apart
(``SurveyTaken``), for the reminder only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, case, delete, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.accounts.models import User
from app.cohorts.models import Cohort, Couple
from app.curriculum.models import Choice, IntegrityValue, Question, QuestionValue, Quiz
from app.curriculum.service import content_summary
from app.db import execute_core, saved_id
from app.errors import AppError
from app.followup.models import (
    ActionPlan,
    CheckinMark,
    Commitment,
    RetentionAttempt,
    RetentionItem,
    SurveyResponse,
    SurveyTaken,
)
from app.i18n import N_
from app.inputs import clean_text
from app.learning.rules import (
    CHECKIN_ROUNDS,
    MARKS,
    MAX_COMMITMENTS,
    MIN_COMMITMENTS,
    FollowupFacts,
    FollowupPlan,
    FollowupStep,
    Learner,
    Window,
    WindowState,
    checkin_answered,
    commitments_kept,
    followup_plan,
    followup_step,
    plan_open,
    retention_selection,
)
from app.learning.standing import Standing
from app.quizzes.models import AttemptItem, QuizAttempt
from app.quizzes.scoring import attempt_percent, score_item

MAX_WHAT, MAX_WHO, MAX_NOTE, MAX_OPEN = 300, 100, 500, 2000


class FollowupError(AppError):
    """A follow-up the rules refuse."""


# ---------------------------------------------------------------- dates


def plan_of_cohort(cohort: Cohort, tz: tzinfo) -> FollowupPlan:
    return followup_plan(
        cohort.workshop_end,
        tz,
        first_days=cohort.checkin_first_days,
        second_days=cohort.checkin_second_days,
        open_days=cohort.checkin_open_days,
    )


def plan_of_learner(learner: Learner, tz: tzinfo) -> FollowupPlan:
    first, second, open_days = learner.checkin_days
    return followup_plan(
        learner.workshop_end, tz, first_days=first, second_days=second, open_days=open_days
    )


def cohort_row(session: Session, cohort_id: int) -> Cohort:
    return session.execute(select(Cohort).where(col(Cohort.id) == cohort_id)).scalar_one()


OPENS = {
    "survey": N_("The survey opens on %(date)s."),
    "checkin": N_("The check-in opens on %(date)s."),
    "retention": N_("The knowledge check opens on %(date)s."),
}
CLOSED = {
    "survey": N_("The survey closed on %(date)s."),
    "checkin": N_("The check-in closed on %(date)s."),
    "retention": N_("The knowledge check closed on %(date)s."),
}


def window_open_or_refuse(window: Window, now: datetime, what: str) -> None:
    """403 with the date when the window (``what``: survey, checkin, retention) is not open
    yet or closed."""
    state = window.state(now)
    if state == WindowState.not_open:
        raise FollowupError(403, OPENS[what], {"date": window.opens})
    if state == WindowState.closed:
        raise FollowupError(403, CLOSED[what], {"date": window.last_day})


# ---------------------------------------------------------------- the survey


def survey_text(session: Session) -> dict[str, Any] | None:
    """The survey of the latest content version (``modules/survey.yaml``)."""
    return content_summary(session)[1].get("survey")


def survey_taken(session: Session, *, user_id: int) -> bool:
    return (
        session.execute(
            select(col(SurveyTaken.user_id)).where(col(SurveyTaken.user_id) == user_id)
        ).first()
        is not None
    )


def survey_answers(survey: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """The form's answers, checked: every likert and choice item answered with a value it
    allows; open answers optional and at most 2,000 characters."""
    answers: dict[str, Any] = {}
    for item in survey["items"]:
        slug, value = item["slug"], (form.get(item["slug"]) or "").strip()
        if item["kind"] == "open":
            text = clean_text(value).strip()
            if len(text) > MAX_OPEN:
                raise FollowupError(
                    422, N_("An answer is longer than 2,000 characters."), field=slug
                )
            if text:
                answers[slug] = text
            continue
        allowed = (
            {str(n) for n in range(1, 6)}
            if item["kind"] == "likert"
            else {o["slug"] for o in item["options"]}
        )
        if value not in allowed:
            raise FollowupError(
                422,
                N_("Choose an answer for every statement. Still open: %(list)s."),
                {"list": str(survey["items"].index(item) + 1)},
                field=slug,
            )
        answers[slug] = int(value) if item["kind"] == "likert" else value
    return answers


def survey_submit(
    session: Session,
    *,
    standing: Standing,
    form: dict[str, str],
    now: datetime,
    tz: tzinfo,
) -> None:
    """Keep the participant's survey answers without them, once."""
    learner = standing.learner
    window_open_or_refuse(plan_of_learner(learner, tz).survey, now, "survey")
    survey = survey_text(session)
    if survey is None:
        raise FollowupError(409, N_("The survey is not available yet."))
    if survey_taken(session, user_id=learner.user_id):
        raise FollowupError(409, N_("You have already answered the survey. Thank you!"))
    answers = survey_answers(survey, form)
    today = now.astimezone(tz).date()
    try:
        with session.begin_nested():
            session.add(
                SurveyTaken(user_id=learner.user_id, cohort_id=learner.cohort_id, taken_on=today)
            )
            session.flush()
    except IntegrityError as exc:  # a second click at the same moment
        raise FollowupError(409, N_("You have already answered the survey. Thank you!")) from exc
    session.add(
        SurveyResponse(
            id=secrets.token_hex(16),
            cohort_id=learner.cohort_id,
            survey_version=int(survey["version"]),
            answered_on=today,
            answers=answers,
        )
    )


# ---------------------------------------------------------------- the action plan


@dataclass
class PlanView:
    plan: ActionPlan | None
    commitments: list[Commitment]
    # round → user id → commitment id → (status, note)
    marks: dict[int, dict[int, dict[int, tuple[str, str | None]]]]

    @property
    def confirmed(self) -> bool:
        return self.plan is not None and self.plan.confirmed_at is not None

    @property
    def fixed(self) -> bool:
        """Once someone checked in, the plan stays as it was checked against."""
        return any(self.marks.values())

    def answered(self, round_: int, user_id: int) -> bool:
        return checkin_answered(
            {c: s for c, (s, _) in self.marks.get(round_, {}).get(user_id, {}).items()},
            (saved_id(c) for c in self.commitments),
        )


def plan_view(session: Session, *, couple_id: int) -> PlanView:
    """The couple's plan, its commitments and every check-in mark (three statements)."""
    plan = session.execute(
        select(ActionPlan).where(col(ActionPlan.couple_id) == couple_id)
    ).scalar_one_or_none()
    commitments = list(
        session.execute(
            select(Commitment)
            .where(col(Commitment.couple_id) == couple_id)
            .order_by(col(Commitment.position))
        ).scalars()
    )
    marks: dict[int, dict[int, dict[int, tuple[str, str | None]]]] = {}
    if commitments:
        for m in session.execute(
            select(CheckinMark).where(
                col(CheckinMark.commitment_id).in_([saved_id(c) for c in commitments])
            )
        ).scalars():
            marks.setdefault(m.round, {}).setdefault(m.user_id, {})[m.commitment_id] = (
                m.status,
                m.note,
            )
    return PlanView(plan, commitments, marks)


@dataclass(frozen=True)
class CommitmentIn:
    what: str
    who: str
    by_when: date


def parse_commitments(rows: list[tuple[str, str, str]], *, today: date) -> list[CommitmentIn]:
    """The plan's rows as typed: empty rows are skipped; each other row needs what, who and a
    date from today to a year ahead. The message names the row."""
    out: list[CommitmentIn] = []
    for n, (what, who, by_when) in enumerate(rows, 1):
        what, who, by_when = clean_text(what).strip(), clean_text(who).strip(), by_when.strip()
        if not (what or who or by_when):
            continue
        if not what or len(what) > MAX_WHAT:
            raise FollowupError(
                422,
                N_("Commitment %(n)s: write what the family will do (at most 300 characters)."),
                {"n": n},
                field=f"what-{n}",
            )
        if not who or len(who) > MAX_WHO:
            raise FollowupError(
                422,
                N_("Commitment %(n)s: write who does it (at most 100 characters)."),
                {"n": n},
                field=f"who-{n}",
            )
        try:
            day = date.fromisoformat(by_when)
        except ValueError:
            day = None
        if day is None or not today <= day <= today + timedelta(days=366):
            raise FollowupError(
                422,
                N_("Commitment %(n)s: choose a date from today to one year ahead."),
                {"n": n},
                field=f"by-{n}",
            )
        out.append(CommitmentIn(what, who, day))
    if not MIN_COMMITMENTS <= len(out) <= MAX_COMMITMENTS:
        raise FollowupError(
            422,
            N_("Write %(min)s to %(max)s commitments."),
            {"min": MIN_COMMITMENTS, "max": MAX_COMMITMENTS},
            field="what-1",
        )
    return out


def plan_save(
    session: Session,
    *,
    standing: Standing,
    rows: list[tuple[str, str, str]],
    now: datetime,
    tz: tzinfo,
) -> None:
    """Draft the plan, or change it: a change needs the other partner to confirm again."""
    if not plan_open(standing.mine):
        raise FollowupError(409, N_("The action plan is written after the last module's lessons."))
    learner = standing.learner
    view = plan_view(session, couple_id=learner.couple_id)
    if view.fixed:
        raise FollowupError(409, N_("The plan stays as it is once you have checked in on it."))
    wanted = parse_commitments(rows, today=now.astimezone(tz).date())
    have = [CommitmentIn(c.what, c.who, c.by_when) for c in view.commitments]
    if view.plan is not None and have == wanted:
        return
    plan = view.plan or ActionPlan(
        couple_id=learner.couple_id, drafted_by=learner.user_id, drafted_at=now
    )
    plan.drafted_by, plan.drafted_at = learner.user_id, now
    plan.confirmed_by = plan.confirmed_at = None
    session.add(plan)
    session.flush()
    session.execute(delete(Commitment).where(col(Commitment.couple_id) == learner.couple_id))
    session.add_all(
        Commitment(
            couple_id=learner.couple_id, position=n, what=c.what, who=c.who, by_when=c.by_when
        )
        for n, c in enumerate(wanted, 1)
    )


def plan_confirm(session: Session, *, standing: Standing, now: datetime) -> None:
    learner = standing.learner
    plan = session.execute(
        select(ActionPlan).where(col(ActionPlan.couple_id) == learner.couple_id)
    ).scalar_one_or_none()
    if plan is None:
        raise FollowupError(409, N_("There is no action plan to confirm yet."))
    if plan.drafted_by == learner.user_id:
        raise FollowupError(
            409, N_("Your partner confirms what you wrote; you cannot confirm your own plan.")
        )
    if plan.confirmed_at is None:
        plan.confirmed_by, plan.confirmed_at = learner.user_id, now
        session.add(plan)


# ---------------------------------------------------------------- check-ins


def checkin_save(
    session: Session,
    *,
    standing: Standing,
    round_: int,
    form: dict[str, str],
    now: datetime,
    tz: tzinfo,
) -> None:
    """A partner's marks on every commitment at a check-in (``mark-<id>``, ``note-<id>``);
    they may change them while it is open."""
    if round_ not in CHECKIN_ROUNDS:
        raise FollowupError(404, N_("This check-in does not exist."))
    learner = standing.learner
    window_open_or_refuse(plan_of_learner(learner, tz).checkins[round_], now, "checkin")
    view = plan_view(session, couple_id=learner.couple_id)
    if not view.confirmed:
        raise FollowupError(
            409, N_("Write the family's action plan and have your partner confirm it first.")
        )
    existing = {
        m.commitment_id: m
        for m in session.execute(
            select(CheckinMark).where(
                col(CheckinMark.user_id) == learner.user_id, col(CheckinMark.round) == round_
            )
        ).scalars()
    }
    for c in view.commitments:
        cid = saved_id(c)
        status = (form.get(f"mark-{cid}") or "").strip()
        if status not in MARKS:
            raise FollowupError(
                422,
                N_("Commitment %(n)s: choose done, partly or not yet."),
                {"n": c.position},
                field=f"mark-{cid}",
            )
        note = clean_text(form.get(f"note-{cid}") or "").strip() or None
        if note is not None and len(note) > MAX_NOTE:
            raise FollowupError(
                422,
                N_("Commitment %(n)s: the note is longer than 500 characters."),
                {"n": c.position},
                field=f"note-{cid}",
            )
        row = existing.get(cid) or CheckinMark(
            commitment_id=cid, user_id=learner.user_id, round=round_, status=status, marked_at=now
        )
        row.status, row.note, row.marked_at = status, note, now
        session.add(row)


# ---------------------------------------------------------------- the retention check


@dataclass(frozen=True)
class RetentionPool:
    """What every cohort's retention check is chosen from: the values in order, and the
    current pre/post items by value (slugs) with their question ids."""

    values: list[str]
    pool: dict[str, list[str]]
    ids: dict[str, int]

    def slugs(self, cohort_slug: str) -> list[str]:
        return retention_selection(cohort_slug, self.pool, self.values)


def retention_pool(session: Session) -> RetentionPool:
    """Two statements, whatever the number of cohorts."""
    values = list(
        session.execute(
            select(col(IntegrityValue.slug)).order_by(col(IntegrityValue.position))
        ).scalars()
    )
    pool: dict[str, list[str]] = {}
    ids: dict[str, int] = {}
    for qid, slug, value in session.execute(
        select(col(Question.id), col(Question.slug), col(QuestionValue.value_slug))
        .join(QuestionValue, col(QuestionValue.question_id) == Question.id)
        .where(col(Question.current).is_(True), col(Question.pool) == "prepost")
    ).all():
        pool.setdefault(value, []).append(slug)
        ids[slug] = qid
    return RetentionPool(values, pool, ids)


def retention_items_of(session: Session, *, cohort_slug: str) -> list[int]:
    """The current question versions of the cohort's retention check, in order."""
    pool = retention_pool(session)
    return [pool.ids[s] for s in pool.slugs(cohort_slug)]


def retention_attempt_of(session: Session, *, user_id: int) -> RetentionAttempt | None:
    return session.execute(
        select(RetentionAttempt).where(col(RetentionAttempt.user_id) == user_id)
    ).scalar_one_or_none()


def retention_start(session: Session, *, standing: Standing, now: datetime, tz: tzinfo) -> int:
    """The participant's one attempt (started now, or the one already started)."""
    learner = standing.learner
    attempt = retention_attempt_of(session, user_id=learner.user_id)
    if attempt is not None:
        return saved_id(attempt)
    window_open_or_refuse(plan_of_learner(learner, tz).retention, now, "retention")
    cohort = cohort_row(session, learner.cohort_id)
    question_ids = retention_items_of(session, cohort_slug=cohort.slug)
    if not question_ids:
        raise FollowupError(409, N_("This quiz has no questions yet."))
    attempt = RetentionAttempt(user_id=learner.user_id, started_at=now)
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:
        found = retention_attempt_of(session, user_id=learner.user_id)
        assert found is not None
        return saved_id(found)
    session.add_all(
        RetentionItem(attempt_id=saved_id(attempt), question_id=qid, position=n)
        for n, qid in enumerate(question_ids, 1)
    )
    return saved_id(attempt)


@dataclass
class RetentionQuestion:
    question_id: int
    position: int
    type: str
    text: dict
    explanation: dict
    choices: list[dict]  # id, text, correct
    selected: list[int]
    score: float | None


def retention_questions(session: Session, *, attempt_id: int) -> list[RetentionQuestion]:
    rows = session.execute(
        select(
            col(RetentionItem.question_id),
            col(RetentionItem.position),
            col(Question.type),
            col(Question.text),
            col(Question.explanation),
            col(RetentionItem.selected),
            col(RetentionItem.score),
        )
        .join(Question, col(Question.id) == RetentionItem.question_id)
        .where(col(RetentionItem.attempt_id) == attempt_id)
        .order_by(col(RetentionItem.position))
    ).all()
    choices: dict[int, list[dict]] = {}
    for cid, qid, text, correct in session.execute(
        select(col(Choice.id), col(Choice.question_id), col(Choice.text), col(Choice.correct))
        .where(col(Choice.question_id).in_([r[0] for r in rows]))
        .order_by(col(Choice.question_id), col(Choice.position))
    ).all():
        choices.setdefault(qid, []).append({"id": cid, "text": text, "correct": correct})
    return [
        RetentionQuestion(r[0], r[1], r[2], r[3], r[4], choices.get(r[0], []), r[5] or [], r[6])
        for r in rows
    ]


def retention_submit(
    session: Session,
    *,
    standing: Standing,
    answers: dict[int, list[int]],
    now: datetime,
    tz: tzinfo,
) -> float:
    """Score the participant's attempt, once; every question needs an answer. Returns the
    score (percent)."""
    learner = standing.learner
    attempt = retention_attempt_of(session, user_id=learner.user_id)
    if attempt is None:
        raise FollowupError(409, N_("Start the knowledge check first."))
    if attempt.submitted_at is not None:
        raise FollowupError(409, N_("You have already taken the knowledge check."))
    window_open_or_refuse(plan_of_learner(learner, tz).retention, now, "retention")
    questions = retention_questions(session, attempt_id=saved_id(attempt))
    missing = [q.position for q in questions if not answers.get(q.question_id)]
    if missing:
        raise FollowupError(
            422,
            N_("Answer every question before you submit. Still open: %(list)s."),
            {"list": ", ".join(map(str, missing))},
        )
    scores = []
    items = {
        i.question_id: i
        for i in session.execute(
            select(RetentionItem).where(col(RetentionItem.attempt_id) == attempt.id)
        ).scalars()
    }
    for q in questions:
        picked = answers[q.question_id]
        ids = [c["id"] for c in q.choices]
        if not set(picked) <= set(ids) or (q.type != "multiple" and len(picked) > 1):
            raise FollowupError(422, N_("An answer does not belong to its question."))
        score = score_item(q.type, ids, [c["id"] for c in q.choices if c["correct"]], picked)
        item = items[q.question_id]
        item.selected, item.score = picked, score
        session.add(item)
        scores.append(score)
    attempt.submitted_at, attempt.score = now, attempt_percent(scores)
    session.add(attempt)
    return attempt.score


# ---------------------------------------------------------------- the participant's view


@dataclass
class FollowupView:
    """What comes after the workshop for a participant. ``light`` (the learning map): the
    dates and whether the plan is open, read from the standing alone; the rest is None."""

    plan: FollowupPlan
    now: datetime
    plan_open: bool
    survey: dict[str, Any] | None = None
    survey_taken: bool | None = None
    action: PlanView | None = None
    retention: RetentionAttempt | None = None
    step: FollowupStep | None = None
    partner_names: dict[int, str] = field(default_factory=dict)

    def state(self, window: Window) -> WindowState:
        return window.state(self.now)


def followup_view(
    session: Session, *, standing: Standing, tz: tzinfo, light: bool = False
) -> FollowupView:
    learner = standing.learner
    plan = plan_of_learner(learner, tz)
    is_open = plan_open(standing.mine)
    if light:
        return FollowupView(plan=plan, now=standing.now, plan_open=is_open)
    action = plan_view(session, couple_id=learner.couple_id)
    taken = survey_taken(session, user_id=learner.user_id)
    retention = retention_attempt_of(session, user_id=learner.user_id)
    facts = FollowupFacts(
        plan_open=is_open,
        plan_confirmed=action.confirmed,
        survey_taken=taken,
        answered=frozenset(r for r in CHECKIN_ROUNDS if action.answered(r, learner.user_id)),
        retention_taken=retention is not None and retention.submitted_at is not None,
    )
    names = {learner.user_id: learner.name}
    if learner.partner_id is not None:
        names[learner.partner_id] = learner.partner_name or ""
    return FollowupView(
        plan=plan,
        now=standing.now,
        plan_open=is_open,
        survey=survey_text(session),
        survey_taken=taken,
        action=action,
        retention=retention,
        step=followup_step(plan, facts, now=standing.now),
        partner_names=names,
    )


# ---------------------------------------------------------------- a cohort's results


@dataclass
class ItemSummary:
    slug: str
    kind: str
    text: dict
    counts: dict[str, int]  # answer (likert "1".."5", option slug) → people
    options: list[dict] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        """Likert: the mean answer (1–5)."""
        if self.kind != "likert" or not self.answered:
            return None
        return sum(int(k) * v for k, v in self.counts.items()) / self.answered

    @property
    def agree(self) -> int:
        """Likert: people who agreed (4 or 5)."""
        return self.counts.get("4", 0) + self.counts.get("5", 0)


@dataclass
class SurveySummary:
    responses: int
    shown: bool  # at least k answered: distributions and open answers may be shown
    items: list[ItemSummary]
    open_answers: dict[str, list[str]]  # item slug → texts (shuffled, no date, no name)


def survey_summary(session: Session, *, cohort_ids: list[int], k: int) -> SurveySummary:
    """The survey's answers of these cohorts, combined; nothing of them when fewer than
    ``k`` people answered."""
    survey = survey_text(session) or {"items": []}
    rows = list(
        session.execute(
            select(col(SurveyResponse.answers))
            .where(col(SurveyResponse.cohort_id).in_(cohort_ids))
            .order_by(col(SurveyResponse.id))  # a random key: no order of answering
        ).scalars()
    )
    shown = len(rows) >= k
    items = []
    open_answers: dict[str, list[str]] = {}
    for item in survey["items"]:
        if item["kind"] == "open":
            open_answers[item["slug"]] = (
                [a[item["slug"]] for a in rows if a.get(item["slug"])] if shown else []
            )
            continue
        keys = (
            [str(n) for n in range(1, 6)]
            if item["kind"] == "likert"
            else [o["slug"] for o in item["options"]]
        )
        counts = dict.fromkeys(keys, 0)
        if shown:
            for a in rows:
                value = a.get(item["slug"])
                if value is not None and str(value) in counts:
                    counts[str(value)] += 1
        items.append(
            ItemSummary(item["slug"], item["kind"], item["text"], counts, item.get("options", []))
        )
    return SurveySummary(len(rows), shown, items, open_answers)


@dataclass
class RoundSummary:
    round: int
    days: int
    window: Window
    plans: int  # couples with a confirmed plan
    answered: int  # couples of which both partners answered
    kept: int  # of those, couples who kept every commitment
    marks: dict[str, int]  # every partner's marks: done / partly / not yet


@dataclass
class CheckinSummary:
    couples: int
    rounds: list[RoundSummary]


def couple_checkins(
    session: Session, *, couple_ids: list[int]
) -> dict[int, tuple[bool, dict[int, dict[int, dict[int, str]]]]]:
    """{couple id: (plan confirmed, {round: {commitment id: {user id: mark}}})} — two
    statements for any number of couples. Couples without a plan are absent."""
    out: dict[int, tuple[bool, dict[int, dict[int, dict[int, str]]]]] = {}
    for couple_id, confirmed in session.execute(
        select(col(ActionPlan.couple_id), col(ActionPlan.confirmed_at)).where(
            col(ActionPlan.couple_id).in_(couple_ids)
        )
    ).all():
        out[couple_id] = (confirmed is not None, {r: {} for r in CHECKIN_ROUNDS})
    for couple_id, cid in session.execute(
        select(col(Commitment.couple_id), col(Commitment.id)).where(
            col(Commitment.couple_id).in_(couple_ids)
        )
    ).all():
        for r in CHECKIN_ROUNDS:
            out[couple_id][1][r][cid] = {}
    for couple_id, cid, user_id, round_, status in session.execute(
        select(
            col(Commitment.couple_id),
            col(CheckinMark.commitment_id),
            col(CheckinMark.user_id),
            col(CheckinMark.round),
            col(CheckinMark.status),
        )
        .join(Commitment, col(Commitment.id) == CheckinMark.commitment_id)
        .where(col(Commitment.couple_id).in_(couple_ids))
    ).all():
        out[couple_id][1].setdefault(round_, {}).setdefault(cid, {})[user_id] = status
    return out


def couple_partners(session: Session, *, cohort_ids: list[int]) -> dict[int, list[int]]:
    """{couple id: its participants' ids} of these cohorts."""
    out: dict[int, list[int]] = {}
    for couple_id, user_id in session.execute(
        select(col(Couple.id), col(User.id))
        .join(User, col(User.couple_id) == Couple.id)
        .where(col(Couple.cohort_id).in_(cohort_ids))
    ).all():
        out.setdefault(couple_id, []).append(user_id)
    return out


def answered_by(user_id: int, marks: dict[int, dict[int, str]]) -> bool:
    """Whether a partner answered a check-in, from {commitment id: {user id: mark}}."""
    return checkin_answered({c: m[user_id] for c, m in marks.items() if user_id in m}, marks)


def round_facts(partners: list[int], marks: dict[int, dict[int, str]]) -> tuple[bool, bool]:
    """(every partner answered, and the couple kept every commitment) at one round, from
    {commitment id: {user id: mark}}."""
    answered = all(answered_by(p, marks) for p in partners)
    return answered, answered and commitments_kept(m.values() for m in marks.values())


def checkin_summary(session: Session, *, cohort: Cohort, tz: tzinfo) -> CheckinSummary:
    """The cohort's check-ins: plans confirmed, couples who answered and who kept their
    commitments, and every mark, per round."""
    plan = plan_of_cohort(cohort, tz)
    partners = couple_partners(session, cohort_ids=[saved_id(cohort)])
    checkins = couple_checkins(session, couple_ids=list(partners))
    rounds = []
    for r in CHECKIN_ROUNDS:
        answered = kept = 0
        marks = dict.fromkeys(MARKS, 0)
        for couple_id, (confirmed, by_round) in checkins.items():
            if not confirmed:
                continue
            done, keep = round_facts(partners.get(couple_id, []), by_round.get(r, {}))
            answered += done
            kept += keep
            for per_user in by_round.get(r, {}).values():
                for status in per_user.values():
                    marks[status] = marks.get(status, 0) + 1
        rounds.append(
            RoundSummary(
                round=r,
                days=plan.days[r],
                window=plan.checkins[r],
                plans=sum(confirmed for confirmed, _ in checkins.values()),
                answered=answered,
                kept=kept,
                marks=marks,
            )
        )
    return CheckinSummary(couples=len(partners), rounds=rounds)


@dataclass
class RetentionRow:
    user_id: int
    pre: float | None  # on the retention check's items, in the pre-test
    post: float | None
    later: float | None  # the retention check


@dataclass
class RetentionSummary:
    items: int
    rows: list[RetentionRow]

    @property
    def complete(self) -> list[RetentionRow]:
        """People with all three scores."""
        return [
            r for r in self.rows if r.pre is not None and r.post is not None and r.later is not None
        ]

    def mean(self, attr: str) -> float | None:
        rows = self.complete
        return sum(getattr(r, attr) for r in rows) / len(rows) if rows else None


def retention_summary(
    session: Session, *, cohort: Cohort, user_ids: list[int] | None = None
) -> RetentionSummary:
    """Pre → post → about 90 days on the same items: the pre- and post-test's answers to the
    cohort's retention items (by slug, whatever revision was served), and the check; of the
    whole cohort, or of ``user_ids`` (its participants)."""
    question_ids = retention_items_of(session, cohort_slug=cohort.slug)
    slugs = set(
        session.execute(select(col(Question.slug)).where(col(Question.id).in_(question_ids)))
        .scalars()
        .all()
    )
    people = (
        select(col(User.id))
        .join(Couple, col(Couple.id) == User.couple_id)
        .where(col(Couple.cohort_id) == cohort.id)
    )
    if user_ids is not None:
        people = people.where(col(User.id).in_(user_ids))
    scores: dict[int, dict[str, list[float]]] = {}
    for user_id, kind, score in session.execute(
        select(col(QuizAttempt.user_id), col(Quiz.kind), col(AttemptItem.score))
        .join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id)
        .join(AttemptItem, col(AttemptItem.attempt_id) == QuizAttempt.id)
        .join(Question, col(Question.id) == AttemptItem.question_id)
        .where(
            col(QuizAttempt.user_id).in_(_RETENTION_PEOPLE),
            col(QuizAttempt.submitted_at).is_not(None),
            col(Quiz.kind).in_(("pre", "post")),
            col(Question.slug).in_(slugs),
        )
    ).all():
        scores.setdefault(user_id, {}).setdefault(kind, []).append(score or 0.0)
    later = dict(
        session.execute(
            select(col(RetentionAttempt.user_id), col(RetentionAttempt.score)).where(
                col(RetentionAttempt.user_id).in_(people),
                col(RetentionAttempt.submitted_at).is_not(None),
            )
        ).all()
    )
    rows = []
    for user_id in sorted(set(scores) | set(later)):
        mine = scores.get(user_id, {})
        rows.append(
            RetentionRow(
                user_id,
                attempt_percent(mine["pre"]) if "pre" in mine else None,
                attempt_percent(mine["post"]) if "post" in mine else None,
                later.get(user_id),
            )
        )
    return RetentionSummary(items=len(question_ids), rows=rows)


# ---------------------------------------------------------------- many cohorts at once
#
# The same figures as ``survey_summary``, ``checkin_summary`` and ``retention_summary``, as
# sums per cohort in a few statements whatever the number of cohorts (for KPK, which adds
# them up over regions, provinces and periods). A test holds each equal to its one-cohort
# function.


@dataclass(frozen=True)
class CohortSurvey:
    """One cohort's survey answers, counted: people who answered, and per likert or choice
    item the people per answer (``"1"``..``"5"``, an option's slug)."""

    responses: int
    counts: dict[str, dict[str, int]]


def _answer_keys(item: dict[str, Any]) -> list[str]:
    if item["kind"] == "likert":
        return [str(n) for n in range(1, 6)]
    return [o["slug"] for o in item["options"]]


@lru_cache(maxsize=16)
def _survey_counts_statement(
    items: tuple[tuple[str, tuple[str, ...]], ...], filtered: bool
) -> Select[*tuple[Any, ...]]:
    """``survey_counts``'s statement for the survey's (item, answer keys), built once: the
    KPK pages ask it on every request."""
    answers = col(SurveyResponse.answers)
    sums = [
        func.coalesce(func.sum(case((answers[slug].as_string() == key, 1), else_=0)), 0)
        for slug, keys in items
        for key in keys
    ]
    query = select(col(SurveyResponse.cohort_id), func.count(), *sums).group_by(
        col(SurveyResponse.cohort_id)
    )
    if filtered:
        query = query.where(
            col(SurveyResponse.cohort_id).in_(bindparam("cohort_ids", expanding=True))
        )
    return query


def survey_counts(
    session: Session, *, survey: dict[str, Any] | None, cohort_ids: list[int] | None = None
) -> dict[int, CohortSurvey]:
    """{cohort id: its answers counted} for the cohorts with an answer (all, or those of
    ``cohort_ids``): one statement, the answers counted in the database."""
    items = [i for i in (survey or {"items": []})["items"] if i["kind"] != "open"]
    keys = [(item["slug"], key) for item in items for key in _answer_keys(item)]
    if cohort_ids is not None and not cohort_ids:
        return {}
    query = _survey_counts_statement(
        tuple((i["slug"], tuple(_answer_keys(i))) for i in items), cohort_ids is not None
    )
    params = {} if cohort_ids is None else {"cohort_ids": list(cohort_ids)}
    out = {}
    for row in execute_core(session, query, params).all():
        counts: dict[str, dict[str, int]] = {i["slug"]: {} for i in items}
        for (slug, key), n in zip(keys, row[2:], strict=True):
            counts[slug][key] = int(n)
        out[row[0]] = CohortSurvey(int(row[1]), counts)
    return out


def survey_of_counts(
    survey: dict[str, Any] | None, parts: list[CohortSurvey], *, k: int
) -> SurveySummary:
    """``survey_summary``'s figures (without the open answers) of cohorts' counts added up:
    nothing of them when fewer than ``k`` answered."""
    responses = sum(p.responses for p in parts)
    shown = responses >= k
    items = []
    for item in (survey or {"items": []})["items"]:
        if item["kind"] == "open":
            continue
        counts = {
            key: sum(p.counts.get(item["slug"], {}).get(key, 0) for p in parts) if shown else 0
            for key in _answer_keys(item)
        }
        items.append(
            ItemSummary(item["slug"], item["kind"], item["text"], counts, item.get("options", []))
        )
    return SurveySummary(responses, shown, items, {})


@dataclass(frozen=True)
class RoundCounts:
    """One round of a cohort's check-ins: couples with a confirmed plan, couples of which
    both partners answered, and of those the couples who kept every commitment."""

    plans: int = 0
    answered: int = 0
    kept: int = 0


@lru_cache(maxsize=2)
def _checkin_statements(
    filtered: bool,
) -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    """``checkin_counts``'s two statements, built once (for every cohort, or for those of
    the ``cohort_ids`` parameter)."""
    commitments = (
        select(col(Commitment.couple_id).label("couple_id"), func.count().label("n"))
        .group_by(col(Commitment.couple_id))
        .subquery("commitments")
    )
    # the partners of each plan's couple, counted for that couple alone (by the couple index;
    # a count of every user grouped by couple read all of them: 0.1 s at 100,000 couples)
    partners = (
        select(func.count())
        .select_from(User)
        .where(col(User.couple_id) == ActionPlan.couple_id)
        .correlate(ActionPlan)
        .scalar_subquery()
    )
    mark_user = aliased(User)
    marks = (
        select(
            col(Commitment.couple_id).label("couple_id"),
            col(CheckinMark.round).label("round"),
            func.sum(case((col(mark_user.couple_id) == Commitment.couple_id, 1), else_=0)).label(
                "by_partners"
            ),
            func.sum(case((col(CheckinMark.status) != "done", 1), else_=0)).label("not_done"),
        )
        .join(Commitment, col(Commitment.id) == CheckinMark.commitment_id)
        .join(mark_user, col(mark_user.id) == CheckinMark.user_id)
        .where(col(CheckinMark.round).in_(CHECKIN_ROUNDS))
        .group_by(col(Commitment.couple_id), col(CheckinMark.round))
        .subquery("marks")
    )
    confirmed = [col(ActionPlan.confirmed_at).is_not(None)]
    if filtered:
        confirmed.append(col(Couple.cohort_id).in_(bindparam("cohort_ids", expanding=True)))
    # the plans' cohorts looked up plan by plan: joined, SQLite's planner (without
    # statistics) walks every couple of the country to find the few plans (7 ms at 100,000)
    plan_cohort = (
        select(col(Couple.cohort_id))
        .where(col(Couple.id) == ActionPlan.couple_id)
        .correlate(ActionPlan)
        .scalar_subquery()
    )
    chosen = [col(ActionPlan.confirmed_at).is_not(None), partners > 0]
    if filtered:
        chosen.append(plan_cohort.in_(bindparam("cohort_ids", expanding=True)))
    plan_cohorts = (
        select(plan_cohort.label("cohort_id")).select_from(ActionPlan).where(*chosen).subquery()
    )
    plans = select(plan_cohorts.c.cohort_id, func.count()).group_by(plan_cohorts.c.cohort_id)
    answered = (
        select(
            col(Couple.cohort_id),
            marks.c.round,
            func.count(),
            func.sum(case((marks.c.not_done == 0, 1), else_=0)),
        )
        .select_from(ActionPlan)
        .join(Couple, col(Couple.id) == ActionPlan.couple_id)
        .join(commitments, commitments.c.couple_id == ActionPlan.couple_id)
        .join(marks, marks.c.couple_id == ActionPlan.couple_id)
        .where(*confirmed, marks.c.by_partners == commitments.c.n * partners)
        .group_by(col(Couple.cohort_id), marks.c.round)
    )
    return plans, answered


def checkin_counts(
    session: Session, *, cohort_ids: list[int] | None = None
) -> dict[int, dict[int, RoundCounts]]:
    """{cohort id: {round: counts}} for the cohorts with a confirmed plan: two statements.

    ``round_facts`` in SQL: a couple answered a round when the marks its partners gave equal
    its commitments × its partners (one mark per commitment, partner and round), and kept
    its commitments when, besides, no mark of the round is other than done."""
    if cohort_ids is not None and not cohort_ids:
        return {}
    plans_of, answered_of = _checkin_statements(cohort_ids is not None)
    params = {} if cohort_ids is None else {"cohort_ids": list(cohort_ids)}
    plans = dict(execute_core(session, plans_of, params).all())
    answered: dict[tuple[int, int], tuple[int, int]] = {}
    for cohort_id, round_, n, kept in execute_core(session, answered_of, params).all():
        answered[(cohort_id, round_)] = (int(n), int(kept or 0))
    return {
        cohort_id: {
            r: RoundCounts(int(n), *answered.get((cohort_id, r), (0, 0))) for r in CHECKIN_ROUNDS
        }
        for cohort_id, n in plans.items()
    }


@dataclass(frozen=True)
class RetentionSums:
    """People of a cohort with all three scores on its retention items, and the sums of
    their pre-test, post-test and retention check scores (percent)."""

    n: int = 0
    pre: float = 0.0
    post: float = 0.0
    later: float = 0.0

    def __add__(self, other: RetentionSums) -> RetentionSums:
        return RetentionSums(
            self.n + other.n,
            self.pre + other.pre,
            self.post + other.post,
            self.later + other.later,
        )

    def mean(self, attr: str) -> float | None:
        return getattr(self, attr) / self.n if self.n else None


_RETENTION_PEOPLE = select(col(RetentionAttempt.user_id)).where(
    col(RetentionAttempt.submitted_at).is_not(None)
)


@lru_cache(maxsize=2)
def _retention_taken(filtered: bool) -> Select[*tuple[Any, ...]]:
    """Who took the retention check (of every cohort, or of the ``cohort_ids``), built once."""
    query = (
        select(
            col(Couple.cohort_id),
            col(Cohort.slug),
            col(RetentionAttempt.user_id),
            col(RetentionAttempt.score),
        )
        .join(User, col(User.id) == RetentionAttempt.user_id)
        .join(Couple, col(Couple.id) == User.couple_id)
        .join(Cohort, col(Cohort.id) == Couple.cohort_id)
        .where(col(RetentionAttempt.submitted_at).is_not(None))
    )
    if filtered:
        query = query.where(col(Couple.cohort_id).in_(bindparam("cohort_ids", expanding=True)))
    return query


def retention_sums(
    session: Session, *, cohort_ids: list[int] | None = None
) -> dict[int, RetentionSums]:
    """{cohort id: sums} over the people who took the retention check and both tests: four
    statements, whatever the number of cohorts (``retention_summary``'s figures)."""
    if cohort_ids is not None and not cohort_ids:
        return {}
    params = {} if cohort_ids is None else {"cohort_ids": list(cohort_ids)}
    later: dict[int, tuple[int, float | None]] = {}
    slugs_of: dict[int, str] = {}
    taken = _retention_taken(cohort_ids is not None)
    for cohort_id, slug, user_id, score in execute_core(session, taken, params).all():
        later[user_id] = (cohort_id, score)
        slugs_of[cohort_id] = slug
    if not later:
        return {}
    pool = retention_pool(session)
    pairs = [(cid, s) for cid, slug in slugs_of.items() for s in pool.slugs(slug)]
    scores: dict[tuple[int, str], float] = {}
    if pairs:
        for user_id, kind, total, items in session.execute(
            select(
                col(QuizAttempt.user_id),
                col(Quiz.kind),
                func.sum(func.coalesce(col(AttemptItem.score), 0.0)),
                func.count(),
            )
            .join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id)
            .join(AttemptItem, col(AttemptItem.attempt_id) == QuizAttempt.id)
            .join(Question, col(Question.id) == AttemptItem.question_id)
            .join(User, col(User.id) == QuizAttempt.user_id)
            .join(Couple, col(Couple.id) == User.couple_id)
            .where(
                col(QuizAttempt.user_id).in_(_RETENTION_PEOPLE),
                col(QuizAttempt.submitted_at).is_not(None),
                col(Quiz.kind).in_(("pre", "post")),
                tuple_(col(Couple.cohort_id), col(Question.slug)).in_(pairs),
            )
            .group_by(col(QuizAttempt.user_id), col(Quiz.kind))
        ).all():
            scores[(user_id, kind)] = round(100.0 * float(total) / items, 2)
    out: dict[int, RetentionSums] = {}
    for user_id, (cohort_id, score) in later.items():
        pre, post = scores.get((user_id, "pre")), scores.get((user_id, "post"))
        if pre is None or post is None or score is None:
            continue
        out[cohort_id] = out.get(cohort_id, RetentionSums()) + RetentionSums(1, pre, post, score)
    return out


def what_stayed(session: Session, *, learner: Learner) -> RetentionRow | None:
    """A participant's pre → post → about 90 days on the retention check's items, once the
    check is taken (one statement before it)."""
    attempt = retention_attempt_of(session, user_id=learner.user_id)
    if attempt is None or attempt.submitted_at is None:
        return None
    cohort = cohort_row(session, learner.cohort_id)
    rows = retention_summary(session, cohort=cohort, user_ids=[learner.user_id]).rows
    return rows[0] if rows else None
