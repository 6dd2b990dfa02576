"""The facilitator's workspace: cohorts, the roster and its activation cards, who waits for
another attempt, family reflections. Every function takes the acting user and reaches a
cohort only through ``cohort_for`` (the facilitator's own cohorts; every cohort for an admin;
anyone else's is not found, as one that does not exist)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.accounts.models import CurrentUser, User
from app.audit import audit_record
from app.certificates.models import Certificate
from app.cohorts.models import Attendance, Cohort, Couple, Region
from app.cohorts.roster import RosterParse
from app.cohorts.service import (
    CardRow,
    CoupleRow,
    ImportResult,
    PartnerRow,
    cards_for,
    cohort_for,
    cohort_roster,
    cohorts_visible_to,
    facilitator_names,
    participant_for,
    roster_import,
)
from app.config import Settings
from app.curriculum.outline import Curriculum, QuizInfo
from app.db import saved_id
from app.errors import AppError, NotFound
from app.exports import Column
from app.facilitator.models import Reminder
from app.facilitator.report import (
    AttendanceDay,
    CheckinRow,
    CohortReport,
    Followup,
    GainRow,
    QuizRow,
    RetentionFigures,
    SurveyItemRow,
)
from app.facilitator.report import FunnelStep as ReportStep
from app.facilitator.workspace import (
    DEFAULT_TEXTS,
    CohortCard,
    CoupleLine,
    FunnelStep,
    KeptCouple,
    ListQuery,
    Page,
    Person,
    ReminderLink,
    Workspace,
    cohort_card,
    cohort_facts,
    cohort_texts,
    default_text,
    filtered_couples,
    flag_counts,
    milestone_name,
    page_number,
    page_of,
    parse_list_query,
    quiz_name,
    reminder_for,
    reminder_record,
    reminder_text_save,
    stage_name,
)
from app.family.models import FamilyReflection
from app.family.service import reflections_for, signatures_for
from app.followup.service import (
    PlanView,
    RetentionRow,
    checkin_summary,
    plan_of_cohort,
    plan_view,
    retention_summary,
    survey_summary,
    survey_text,
)
from app.i18n import LOCALES, N_, fmt_date, pick, translations
from app.learning.rules import MARKS, FollowupPlan, StageKind, stage_ladder
from app.learning.selectors import cohort_participants
from app.learning.standing import Standing, standing_for
from app.quizzes.gain import MatchedGain, matched_gain
from app.quizzes.models import QuizAttempt
from app.quizzes.scoring import GainSummary, normalized_gain
from app.quizzes.service import value_titles
from app.quizzes.stats import (
    ParticipantSummary,
    PrePostRow,
    QuizAnalysis,
    QuizSummary,
    item_analyses,
    participant_summaries,
    quizzes_in_order,
)


def roster_upload(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    parsed: RosterParse,
    dry_run: bool,
    now: datetime,
    activation_days: int,
    secret: str,
    create_organizations: bool = False,
) -> ImportResult:
    """Check a parsed roster, or import it into a cohort the actor manages (all or nothing);
    new organizations only when ``create_organizations``."""
    return roster_import(
        session,
        cohort=cohort_for(session, user=actor, slug=slug),
        parsed=parsed,
        actor_id=actor.id,
        now=now,
        activation_days=activation_days,
        secret=secret,
        dry_run=dry_run,
        create_organizations=create_organizations,
    )


@dataclass(frozen=True)
class Card(CardRow):
    url: str = ""


def activation_cards(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    base_url: str,
    secret: str,
    participant: int | None = None,
) -> tuple[Cohort, list[Card]]:
    """The readable activation codes of a cohort the actor manages, each with the address
    that activates it."""
    cohort = cohort_for(session, user=actor, slug=slug)
    base = base_url.rstrip("/")
    cards = [
        Card(**vars(row), url=f"{base}/activate?code={row.code}")
        for row in cards_for(
            session, cohort_id=saved_id(cohort), secret=secret, user_id=participant
        )
    ]
    return cohort, cards


# ---------------------------------------------------------------- the working list


def workspace_of(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    couple_id: int | None = None,
    cache: KeptResults | None = None,
) -> Workspace:
    """The stages and flags of a cohort the actor manages (or of one of its couples). With
    ``cache`` (the application's: only for a read that writes nothing), each couple's facts
    are kept until its learning version moves."""
    cohort = cohort_for(session, user=actor, slug=slug)
    return _workspace(session, cohort, curriculum, now, settings, couple_id, cache)


def _workspace(
    session: Session,
    cohort: Cohort,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    couple_id: int | None = None,
    cache: KeptResults | None = None,
) -> Workspace:
    kept: dict[int, KeptCouple] | None = None
    if cache is not None and couple_id is None:
        kept = _kept(cache, ("couples", saved_id(cohort), curriculum.version), dict)
    return cohort_facts(
        session,
        cohort=cohort,
        curriculum=curriculum,
        now=now,
        tz=settings.tz,
        days_before_close=settings.behind_days_before_close,
        couple_id=couple_id,
        kept=kept,
    )


@dataclass
class CohortList:
    workspace: Workspace
    query: ListQuery
    page: Page[CoupleLine]
    funnel: list[FunnelStep]
    waiting: list[tuple[Person, QuizInfo]]  # every attempt used: the facilitator decides
    links: dict[int, ReminderLink]  # by person id, for the people on this page
    counts: dict[str, int]  # flag → couples


def cohort_list(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    stage: str = "",
    flag: str = "",
    q: str = "",
    sort: str = "",
    page: str = "",
    base_url: str,
    cache: KeptResults | None = None,
) -> CohortList:
    """The cohort's working list as the facilitator filtered, searched and sorted it."""
    workspace = workspace_of(
        session,
        actor=actor,
        slug=slug,
        curriculum=curriculum,
        now=now,
        settings=settings,
        cache=cache,
    )
    query = parse_list_query(workspace.ladder, stage=stage, flag=flag, q=q, sort=sort, page=page)
    found = filtered_couples(workspace, query)
    shown = page_of(found, query.page)
    texts = cohort_texts(session, cohort_id=saved_id(workspace.cohort))
    links = {
        p.id: reminder_for(
            p,
            cohort=workspace.cohort,
            texts=texts,
            base_url=base_url,
            facilitator=actor.display_name,
            tz=settings.tz,
        )
        for c in shown.couples
        for p in c.partners
    }
    counts = flag_counts(workspace)
    return CohortList(
        workspace=workspace,
        query=query,
        page=shown,
        funnel=workspace.funnel(),
        waiting=[
            (p, quiz)
            for p in workspace.people
            if p.stage.kind == StageKind.quiz and p.stage.waiting and p.stage.module
            if (quiz := curriculum.module_quiz(p.stage.module.id)) is not None
        ],
        links=links,
        counts=counts,
    )


@dataclass
class RemindNext:
    """The "remind next" mode: one person of the filtered list at a time."""

    workspace: Workspace
    query: ListQuery
    link: ReminderLink | None
    left: int  # people in the filtered list not reminded in the last day (this one included)
    total: int  # people in the filtered list


def remind_next(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    base_url: str,
    stage: str = "",
    flag: str = "",
    q: str = "",
    skip: Iterable[int] = (),
    cache: KeptResults | None = None,
) -> RemindNext:
    """The next participant of the filtered list to remind: reachable, not reminded in the
    last 24 hours, not skipped, not finished."""
    workspace = workspace_of(
        session,
        actor=actor,
        slug=slug,
        curriculum=curriculum,
        now=now,
        settings=settings,
        cache=cache,
    )
    query = parse_list_query(workspace.ladder, stage=stage, flag=flag, q=q, sort="", page="")
    skipped = set(skip)
    people = [
        p
        for c in filtered_couples(workspace, query)
        for p in c.partners
        if (not query.stage or p.stage.key == query.stage) and p.stage.kind != StageKind.certificate
    ]
    recent = now - timedelta(days=1)
    due = [
        p
        for p in people
        if (p.last_reminder is None or p.last_reminder < recent) and p.id not in skipped
    ]
    due.sort(key=lambda p: (p.channel is None, p.last_reminder is not None, p.last_reminder or now))
    link = None
    if due:
        link = reminder_for(
            due[0],
            cohort=workspace.cohort,
            texts=cohort_texts(session, cohort_id=saved_id(workspace.cohort)),
            base_url=base_url,
            facilitator=actor.display_name,
            tz=settings.tz,
        )
    return RemindNext(workspace, query, link, len(due), len(people))


def reminder_mark(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    user_id: int,
    stage: str,
    channel: str,
    curriculum: Curriculum,
    now: datetime,
) -> None:
    """Record that the actor reminded one of their cohort's participants."""
    cohort = cohort_for(session, user=actor, slug=slug)
    participant_for(session, actor=actor, user_id=user_id, cohort_id=saved_id(cohort))
    reminder_record(
        session,
        actor_id=actor.id,
        cohort=cohort,
        person_id=user_id,
        stage=stage,
        channel=channel,
        now=now,
        ladder=stage_ladder(curriculum),
    )


@dataclass
class TextRow:
    kind: StageKind
    texts: dict[str, str]  # locale → the text in use
    custom: dict[str, bool]  # locale → written for this cohort


def reminder_texts(
    session: Session, *, actor: CurrentUser, slug: str
) -> tuple[Cohort, list[TextRow]]:
    """The cohort's reminder messages per stage and language (its own, or the default)."""
    cohort = cohort_for(session, user=actor, slug=slug)
    own = cohort_texts(session, cohort_id=saved_id(cohort))
    rows = []
    for kind in DEFAULT_TEXTS:
        texts, custom = {}, {}
        for locale in LOCALES:
            custom[locale] = (kind.value, locale) in own
            texts[locale] = own.get((kind.value, locale)) or default_text(kind, locale)
        rows.append(TextRow(kind, texts, custom))
    return cohort, rows


def reminder_texts_save(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    form: dict[str, str],
    now: datetime,
) -> Cohort:
    """Save the messages of the form (``text-<stage>-<locale>``); a text equal to the default,
    or empty with ``reset-<stage>-<locale>``, goes back to the default. All or nothing."""
    cohort = cohort_for(session, user=actor, slug=slug)
    cohort_id = saved_id(cohort)
    changed = []
    for kind in DEFAULT_TEXTS:
        for locale in LOCALES:
            name = f"{kind.value}-{locale}"
            if form.get(f"reset-{name}"):
                text: str | None = None
            elif f"text-{name}" in form:
                text = form[f"text-{name}"]
                if text.strip().replace("\r\n", "\n") == default_text(kind, locale):
                    text = None
            else:
                continue
            try:
                reminder_text_save(
                    session,
                    actor_id=actor.id,
                    cohort_id=cohort_id,
                    kind=kind,
                    locale=locale,
                    text=text,
                    now=now,
                )
            except AppError as exc:
                exc.field = f"text-{name}"
                raise
            changed.append(name)
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="reminder.texts",
        target=f"cohort:{cohort.slug}",
        detail={"changed": changed},
    )
    return cohort


def facilitator_home(
    session: Session,
    *,
    actor: CurrentUser,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    cache: KeptResults | None = None,
) -> list[CohortCard]:
    """Each of the actor's cohorts with days to the workshop and how far its people are."""
    today = now.astimezone(settings.tz).date()
    cards = []
    cohorts = session.execute(  # with their region's name, in one statement
        select(Cohort, col(Region.name))
        .join(Region, col(Region.id) == Cohort.region_id)
        .where(col(Cohort.id).in_(cohorts_visible_to(user=actor)))
    ).all()
    for cohort, region in cohorts:
        workspace = _workspace(session, cohort, curriculum, now, settings, cache=cache)
        cards.append(cohort_card(workspace, region=region, today=today))
    cards.sort(key=lambda c: (c.days_to_workshop < 0, abs(c.days_to_workshop)))
    return cards


# ---------------------------------------------------------------- one couple


@dataclass
class PartnerDetail:
    person: Person
    user: User
    standing: Standing
    certificate: Certificate | None
    signed_at: datetime | None
    attendance: dict[date, bool]
    reminders: list[tuple[Reminder, str | None]]  # and who sent it
    link: ReminderLink


@dataclass
class CouplePage:
    workspace: Workspace
    line: CoupleLine
    partners: list[PartnerDetail]
    reflections: dict[int, FamilyReflection]
    days: list[date]
    names: dict[int, str]  # user id → name, for "written by"
    plan: PlanView | None = None  # the family's action plan and its check-in marks
    followup: FollowupPlan | None = None  # the check-ins' dates
    stayed: dict[int, RetentionRow] = field(default_factory=dict)  # user id → pre/post/later


def couple_page(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    code: str,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    base_url: str,
) -> CouplePage:
    """Both partners of one couple of the actor's cohort, side by side: account, every lesson
    and attempt, tests, reflections, pledge, certificate, attendance, reminders."""
    cohort = cohort_for(session, user=actor, slug=slug)
    couple = session.execute(
        select(Couple).where(
            col(Couple.code) == code.upper()[:32], col(Couple.cohort_id) == cohort.id
        )
    ).scalar_one_or_none()
    if couple is None:
        raise NotFound(message=N_("This couple is not in the cohort."))
    workspace = workspace_of(
        session,
        actor=actor,
        slug=slug,
        curriculum=curriculum,
        now=now,
        settings=settings,
        couple_id=couple.id,
    )
    if not workspace.couples:
        raise NotFound(message=N_("This couple is not in the cohort."))
    line = workspace.couples[0]
    ids = [p.id for p in line.partners]
    users = {u.id: u for u in session.execute(select(User).where(col(User.id).in_(ids))).scalars()}
    certificates = {
        c.user_id: c
        for c in session.execute(
            select(Certificate).where(col(Certificate.user_id).in_(ids))
        ).scalars()
    }
    attendance: dict[int, dict[date, bool]] = {}
    for row in session.execute(
        select(Attendance).where(col(Attendance.user_id).in_(ids))
    ).scalars():
        attendance.setdefault(row.user_id, {})[row.day] = row.present
    sender = aliased(User)
    reminders: dict[int, list[tuple[Reminder, str | None]]] = {}
    for reminder, name in session.execute(
        select(Reminder, col(sender.display_name))
        .outerjoin(sender, col(sender.id) == Reminder.sent_by)
        .where(col(Reminder.user_id).in_(ids))
        .order_by(col(Reminder.at).desc())
    ).all():
        reminders.setdefault(reminder.user_id, []).append((reminder, name))
    signatures = signatures_for(session, couple_id=saved_id(couple))
    texts = cohort_texts(session, cohort_id=saved_id(cohort))
    partners = []
    for person in line.partners:
        user = users[person.id]
        partners.append(
            PartnerDetail(
                person=person,
                user=user,
                standing=standing_for(
                    session,
                    user=user,
                    curriculum=curriculum,
                    now=now,
                    tz=settings.tz,
                    with_partner=False,
                ),
                certificate=certificates.get(person.id),
                signed_at=signatures.get(person.id),
                attendance=attendance.get(person.id, {}),
                reminders=reminders.get(person.id, []),
                link=reminder_for(
                    person,
                    cohort=cohort,
                    texts=texts,
                    base_url=base_url,
                    facilitator=actor.display_name,
                    tz=settings.tz,
                ),
            )
        )
    return CouplePage(
        workspace=workspace,
        line=line,
        partners=partners,
        reflections=reflections_for(session, couple_id=saved_id(couple)),
        days=workshop_days(cohort),
        names={u.id or 0: u.display_name for u in users.values()},
        plan=plan_view(session, couple_id=saved_id(couple)),
        followup=plan_of_cohort(cohort, settings.tz),
        stayed={r.user_id: r for r in retention_summary(session, cohort=cohort, user_ids=ids).rows},
    )


def workshop_days(cohort: Cohort) -> list[date]:
    """The days of the cohort's workshop, first to last."""
    days = (cohort.workshop_end - cohort.workshop_start).days + 1
    return [cohort.workshop_start + timedelta(days=i) for i in range(max(1, days))]


# ---------------------------------------------------------------- attendance


@dataclass
class AttendancePerson:
    id: int
    name: str
    role: str
    username: str
    present: bool | None  # None: not marked yet


@dataclass
class AttendanceCouple:
    code: str
    organization: str
    partners: list[AttendancePerson]


@dataclass
class AttendanceView:
    cohort: Cohort
    days: list[date]
    day: date
    couples: list[AttendanceCouple]
    q: str
    present: int
    absent: int
    unmarked: int


def parse_day(cohort: Cohort, value: str) -> date:
    """A workshop day from the URL or form (``YYYY-MM-DD``); the first day when empty."""
    days = workshop_days(cohort)
    if not value:
        return days[0]
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        day = None
    if day not in days:
        raise AppError(
            422,
            N_("%(value)s is not a day of this workshop."),
            {"value": value[:20]},
            field="day",
        )
    return day


def attendance_view(
    session: Session, *, actor: CurrentUser, slug: str, day: str = "", q: str = ""
) -> AttendanceView:
    """Who was present on one workshop day, couple by couple (``q`` finds a name, username,
    couple code or OPD)."""
    cohort = cohort_for(session, user=actor, slug=slug)
    the_day = parse_day(cohort, day)
    marks = dict(
        session.execute(
            select(col(Attendance.user_id), col(Attendance.present))
            .join(User, col(User.id) == Attendance.user_id)
            .join(Couple, col(Couple.id) == User.couple_id)
            .where(col(Couple.cohort_id) == cohort.id, col(Attendance.day) == the_day)
        ).all()
    )
    needle = " ".join(q.split())[:100].casefold()
    couples = []
    present = absent = unmarked = 0
    for row in cohort_roster(session, cohort_id=saved_id(cohort)):
        partners = [
            AttendancePerson(p.id, p.name, p.role, p.username, marks.get(p.id))
            for p in row.partners
        ]
        for p in partners:
            present += p.present is True
            absent += p.present is False
            unmarked += p.present is None
        text = " ".join(
            [row.code, row.organization] + [f"{p.name} {p.username}" for p in partners]
        ).casefold()
        if needle and needle not in text:
            continue
        couples.append(AttendanceCouple(row.code, row.organization, partners))
    return AttendanceView(
        cohort=cohort,
        days=workshop_days(cohort),
        day=the_day,
        couples=couples,
        q=" ".join(q.split())[:100],
        present=present,
        absent=absent,
        unmarked=unmarked,
    )


def attendance_mark(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    user_ids: list[int],
    day: str,
    present: bool,
    now: datetime,
) -> tuple[Cohort, date]:
    """Mark participants of the actor's cohort present or absent on a workshop day (a second
    mark corrects the first); audit-logged."""
    cohort = cohort_for(session, user=actor, slug=slug)
    the_day = parse_day(cohort, day)
    if not user_ids:
        raise AppError(422, N_("Choose who to mark."))
    for user_id in user_ids:
        participant_for(session, actor=actor, user_id=user_id, cohort_id=saved_id(cohort))
    rows = {
        a.user_id: a
        for a in session.execute(
            select(Attendance).where(
                col(Attendance.user_id).in_(user_ids), col(Attendance.day) == the_day
            )
        ).scalars()
    }
    for user_id in user_ids:
        row = rows.get(user_id) or Attendance(
            user_id=user_id, day=the_day, present=present, marked_at=now
        )
        row.present, row.marked_by, row.marked_at = present, actor.id, now
        session.add(row)
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="attendance.mark",
        target=f"cohort:{cohort.slug}",
        detail={"day": the_day.isoformat(), "present": present, "users": sorted(user_ids)},
    )
    return cohort, the_day


# ---------------------------------------------------------------- quiz results


BINS = 10  # score distribution: 0–10 %, 10–20 %, … 90–100 %


@dataclass
class ParticipantResult:
    person: Person | PartnerRow
    couple_code: str
    pre: float | None
    post: float | None
    gain: float | None  # the person's normalized gain (None when pre = 100 or a test missing)
    quizzes: dict[str, QuizSummary]


@dataclass
class QuizDistribution:
    quiz: QuizInfo
    participants: int  # who submitted an attempt
    passed: int
    mean_best: float | None
    counts: list[int]  # best scores per bin (``BINS`` bins of equal width, 100 in the last)

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.participants if self.participants else None


@dataclass
class CohortResults:
    workspace: Workspace
    people: list[ParticipantResult]
    module_quizzes: list[QuizInfo]
    distributions: list[QuizDistribution]
    gain: MatchedGain


def score_bins(scores: Iterable[float], bins: int = BINS) -> list[int]:
    counts = [0] * bins
    for score in scores:
        counts[min(bins - 1, max(0, int(score // (100 / bins))))] += 1
    return counts


# What the quiz statistics of a group are computed from changes only when one of its attempts
# is submitted (a submitted attempt is never changed; a started one counts for nothing). They
# are kept (in ``cache``, the application's, one per process) under the group, the content
# version and the stamp of its submitted attempts, read in one statement: a new submission, a
# participant joining or leaving the group, a new content version each give a new key. The
# same store keeps each cohort's couples' facts (``("couples", cohort id, content version)``,
# see ``app.facilitator.workspace.couples_facts``).
KeptResults = dict[tuple[Any, ...], Any]
_T = TypeVar("_T")
_KEPT_SIZE = 64
_KEPT_LOCK = threading.Lock()


def _attempts_stamp(session: Session, users: Any) -> tuple[int, int]:
    """(how many submitted attempts ``users`` have, the sum of their ids)."""
    count, ids = session.execute(
        select(func.count(), func.coalesce(func.sum(QuizAttempt.id), 0)).where(
            col(QuizAttempt.user_id).in_(users), col(QuizAttempt.submitted_at).is_not(None)
        )
    ).one()
    return int(count), int(ids)


def _kept(cache: KeptResults | None, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
    """``make()``, or what it gave for ``key`` before."""
    found = cache.get(key) if cache is not None else None
    if found is None:
        found = make()
        if cache is not None:
            with _KEPT_LOCK:
                if len(cache) >= _KEPT_SIZE:
                    cache.pop(next(iter(cache)))
                cache[key] = found
    return found


def quiz_distributions(
    summaries: dict[int, ParticipantSummary], quizzes: list[QuizInfo]
) -> list[QuizDistribution]:
    """Per quiz, who submitted an attempt, who passed, and the distribution of best scores."""
    distributions = []
    for quiz in quizzes:
        taken = [
            s.quizzes[quiz.slug]
            for s in summaries.values()
            if quiz.slug in s.quizzes and s.quizzes[quiz.slug].attempts
        ]
        best = [t.best for t in taken if t.best is not None]
        distributions.append(
            QuizDistribution(
                quiz=quiz,
                participants=len(taken),
                passed=sum(t.passed for t in taken),
                mean_best=sum(best) / len(best) if best else None,
                counts=score_bins(best),
            )
        )
    return distributions


def _cohort_gain(session: Session, cohort_id: int, curriculum: Curriculum) -> MatchedGain:
    return matched_gain(
        session,
        users=cohort_participants(cohort_id),
        titles={
            "module": {m.slug: m.title for m in curriculum.modules},
            "value": value_titles(session),
        },
    )


def _results_of(
    couples: Iterable[CoupleLine | CoupleRow],
    summaries: dict[int, ParticipantSummary],
    gain: MatchedGain,
) -> list[ParticipantResult]:
    """Each partner's pre, post, gain and quizzes, couple by couple."""
    people = []
    for couple in couples:
        for person in couple.partners:
            summary = summaries.get(person.id, ParticipantSummary())
            pre = summary.quizzes.get("pre-test")
            post = summary.quizzes.get("post-test")
            pair = gain.pairs.get(person.id)
            people.append(
                ParticipantResult(
                    person=person,
                    couple_code=couple.code,
                    pre=pre.best if pre else None,
                    post=post.best if post else None,
                    gain=normalized_gain(*pair) if pair else None,
                    quizzes=summary.quizzes,
                )
            )
    return people


def cohort_results(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
) -> CohortResults:
    """Per participant pre, post, gain and each module quiz; per quiz the distribution of
    best scores; pre/post by module and value on matched participants; with every couple's
    stages and flags (for the exports and the report). A constant number of statements."""
    workspace = workspace_of(
        session, actor=actor, slug=slug, curriculum=curriculum, now=now, settings=settings
    )
    cohort_id = saved_id(workspace.cohort)
    summaries = participant_summaries(session, cohort_id=cohort_id)
    gain = _cohort_gain(session, cohort_id, curriculum)
    quizzes = quizzes_in_order(curriculum)
    return CohortResults(
        workspace=workspace,
        people=_results_of(workspace.couples, summaries, gain),
        module_quizzes=[q for q in quizzes if q.kind == "module"],
        distributions=quiz_distributions(summaries, quizzes),
        gain=gain,
    )


@dataclass
class ResultsPage:
    cohort: Cohort
    page: Page[CoupleRow]
    people: list[ParticipantResult]  # the partners of the page's couples
    module_quizzes: list[QuizInfo]
    distributions: list[QuizDistribution]
    gain: MatchedGain


def results_page(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    curriculum: Curriculum,
    page: str = "",
    cache: KeptResults | None = None,
) -> ResultsPage:
    """The results page: the cohort's figures (kept until an attempt is submitted) and the
    participants of one page of couples (``PAGE_SIZE``, in the order of their codes). A
    constant number of statements, and work for the cohort only when the figures change."""
    cohort = cohort_for(session, user=actor, slug=slug)
    cohort_id = saved_id(cohort)
    roster = cohort_roster(session, cohort_id=cohort_id)
    shown = page_of(roster, page_number(page))
    quizzes = quizzes_in_order(curriculum)

    def figures() -> tuple[MatchedGain, list[QuizDistribution]]:
        summaries = participant_summaries(session, cohort_id=cohort_id)
        return _cohort_gain(session, cohort_id, curriculum), quiz_distributions(summaries, quizzes)

    stamp = _attempts_stamp(session, cohort_participants(cohort_id))
    gain, distributions = _kept(cache, ("results", cohort_id, curriculum.version, stamp), figures)
    summaries = participant_summaries(
        session, cohort_id=cohort_id, couple_ids=[c.id for c in shown.couples]
    )
    return ResultsPage(
        cohort=cohort,
        page=shown,
        people=_results_of(shown.couples, summaries, gain),
        module_quizzes=[q for q in quizzes if q.kind == "module"],
        distributions=distributions,
        gain=gain,
    )


# ---------------------------------------------------------------- question quality


@dataclass
class ItemsView:
    cohort: Cohort | None  # None: every cohort of the actor
    cohorts: list[Cohort]
    analyses: list[tuple[QuizInfo, QuizAnalysis]]
    prepost_rows: list[PrePostRow]


def items_view(
    session: Session,
    *,
    actor: CurrentUser,
    curriculum: Curriculum,
    slug: str | None = None,
    cache: KeptResults | None = None,
) -> ItemsView:
    """Item analysis of every quiz over one cohort of the actor's (``slug``) or all of them:
    a constant number of statements per quiz, whatever the number of participants."""
    if slug is not None:
        cohorts = [cohort_for(session, user=actor, slug=slug)]
    else:
        visible = cohorts_visible_to(user=actor)
        cohorts = list(
            session.execute(
                select(Cohort).where(col(Cohort.id).in_(visible)).order_by(col(Cohort.slug))
            ).scalars()
        )
    ids = [saved_id(c) for c in cohorts]
    users = (
        select(col(User.id))
        .join(Couple, col(Couple.id) == User.couple_id)
        .where(col(Couple.cohort_id).in_(ids), col(User.role) == "participant")
    )
    key = ("items", tuple(ids), curriculum.version, _attempts_stamp(session, users))
    analyses, rows = _kept(cache, key, lambda: item_analyses(session, curriculum, users=users))
    return ItemsView(
        cohort=cohorts[0] if slug is not None else None,
        cohorts=cohorts,
        analyses=analyses,
        prepost_rows=rows,
    )


# ---------------------------------------------------------------- exports


@dataclass
class Export:
    cohort: Cohort
    columns: list[Column]
    rows: Iterator[dict[str, Any]]
    count: int
    label: str | None  # the filter, for the file name


def cohort_export(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    locale: str,
    stage: str = "",
    flag: str = "",
    q: str = "",
) -> Export:
    """One row per participant of the couples the filter shows, with the list's columns and
    the results: read at once (a constant number of statements), written row by row."""
    results = cohort_results(
        session, actor=actor, slug=slug, curriculum=curriculum, now=now, settings=settings
    )
    workspace = results.workspace
    query = parse_list_query(workspace.ladder, stage=stage, flag=flag, q=q, sort="", page="")
    shown = {c.id for c in filtered_couples(workspace, query)}
    by_person = {r.person.id: r for r in results.people}
    cohort = workspace.cohort
    ids = [p.id for c in workspace.couples if c.id in shown for p in c.partners]
    attendance: dict[tuple[int, date], bool] = {
        (uid, day): present
        for uid, day, present in session.execute(
            select(col(Attendance.user_id), col(Attendance.day), col(Attendance.present))
            .join(User, col(User.id) == Attendance.user_id)
            .join(Couple, col(Couple.id) == User.couple_id)
            .where(col(Couple.cohort_id) == cohort.id)
        ).all()
    }
    certificates = dict(
        session.execute(
            select(col(Certificate.user_id), col(Certificate.code))
            .join(User, col(User.id) == Certificate.user_id)
            .join(Couple, col(Couple.id) == User.couple_id)
            .where(col(Couple.cohort_id) == cohort.id, col(Certificate.revoked_at).is_(None))
        ).all()
    )
    gettext = translations(locale).gettext
    days = workshop_days(cohort)
    columns = [
        Column("couple", gettext("Couple"), "text", 11),
        Column("role", gettext("Role"), "text", 10),
        Column("name", gettext("Name"), "text", 28),
        Column("organization", gettext("OPD"), "text", 28),
        Column("position", gettext("Position"), "text", 24),
        Column("contact", gettext("Contact"), "text", 18),
        Column("username", gettext("Username"), "text", 13),
        Column("account", gettext("Account"), "text", 14),
        Column("stage", gettext("Stage"), "text", 22),
        Column("behind", gettext("Behind schedule"), "bool", 10),
        Column("lessons", gettext("Lessons done"), "int", 9),
        Column("last_activity", gettext("Last activity"), "datetime", 17),
        Column("last_reminder", gettext("Last reminder"), "datetime", 17),
    ]
    module_quizzes = results.module_quizzes
    for quiz in module_quizzes:
        title = pick(quiz.title, locale)
        columns += [
            Column(f"{quiz.slug}:best", f"{title}: " + gettext("best score"), "percent", 10),
            Column(f"{quiz.slug}:attempts", f"{title}: " + gettext("attempts"), "int", 9),
            Column(f"{quiz.slug}:passed", f"{title}: " + gettext("passed"), "bool", 9),
        ]
    columns += [
        Column("pre", gettext("Pre-test"), "percent", 9),
        Column("post", gettext("Post-test"), "percent", 9),
        Column("gain", gettext("Gain"), "percent", 9),
    ]
    for n, day in enumerate(days, 1):
        when = fmt_date(day, locale, settings.timezone)
        columns.append(
            Column(f"day{n}", gettext("Present on %(date)s") % {"date": when}, "bool", 12)
        )
    columns += [
        Column("reflections", gettext("Reflections confirmed"), "int", 10),
        Column("pledge", gettext("Pledge signed"), "bool", 9),
        Column("certificate", gettext("Certificate"), "text", 14),
    ]
    roles = {"official": gettext("Official"), "spouse": gettext("Spouse")}

    def account(person: Person) -> str:
        if not person.active:
            return gettext("Deactivated")
        if person.activated:
            return gettext("Active")
        if person.code_expires is not None and person.code_expires > now:
            return gettext("Not activated")
        return gettext("Code expired")

    def rows() -> Iterator[dict[str, Any]]:
        for couple in workspace.couples:
            if couple.id not in shown:
                continue
            for person in couple.partners:
                result = by_person[person.id]
                facts = person.facts.facts if person.facts else None
                row: dict[str, Any] = {
                    "couple": couple.code,
                    "role": roles.get(person.role, person.role),
                    "name": person.name,
                    "organization": couple.organization,
                    "position": person.position,
                    "contact": person.contact,
                    "username": person.username,
                    "account": account(person),
                    "stage": stage_name(person.stage, locale),
                    "behind": person.behind is not None,
                    "lessons": person.lessons,
                    "last_activity": person.last_activity,
                    "last_reminder": person.last_reminder,
                    "pre": result.pre,
                    "post": result.post,
                    "gain": None if result.gain is None else 100 * result.gain,
                    "reflections": facts.reflections_confirmed if facts else 0,
                    "pledge": facts.signed if facts else False,
                    "certificate": certificates.get(person.id),
                }
                for quiz in module_quizzes:
                    summary = result.quizzes.get(quiz.slug)
                    row[f"{quiz.slug}:best"] = summary.best if summary else None
                    row[f"{quiz.slug}:attempts"] = summary.attempts if summary else 0
                    row[f"{quiz.slug}:passed"] = summary.passed if summary else False
                for n, day in enumerate(days, 1):
                    row[f"day{n}"] = attendance.get((person.id, day))
                yield row

    return Export(cohort, columns, rows(), len(ids), query.label())


def export_audit(
    session: Session,
    *,
    actor: CurrentUser,
    cohort: Cohort,
    kind: str,
    label: str | None,
    rows: int,
    now: datetime,
) -> None:
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action=f"export.{kind}",
        target=f"cohort:{cohort.slug}",
        detail={"filter": label, "rows": rows},
    )


# ---------------------------------------------------------------- the cohort report


def cohort_report(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    locale: str,
) -> CohortReport:
    """The numbers of "Laporan Pelaksanaan Bimtek" for a cohort the actor manages: the same
    stages, results and attendance as the pages."""
    results = cohort_results(
        session, actor=actor, slug=slug, curriculum=curriculum, now=now, settings=settings
    )
    workspace = results.workspace
    cohort = workspace.cohort
    gettext = translations(locale).gettext
    people = workspace.people
    couples = workspace.couples
    total = len(people)
    present = dict(
        session.execute(
            select(col(Attendance.day), func.count())
            .join(User, col(User.id) == Attendance.user_id)
            .join(Couple, col(Couple.id) == User.couple_id)
            .where(col(Couple.cohort_id) == cohort.id, col(Attendance.present).is_(True))
            .group_by(col(Attendance.day))
        ).all()
    )
    revoked, issued = session.execute(
        select(
            func.count(col(Certificate.revoked_at)),
            func.count() - func.count(col(Certificate.revoked_at)),
        )
        .join(User, col(User.id) == Certificate.user_id)
        .join(Couple, col(Couple.id) == User.couple_id)
        .where(col(Couple.cohort_id) == cohort.id)
    ).one()
    region = session.get(Region, cohort.region_id)
    modules = len(curriculum.modules)

    def gain_row(label: str, g: GainSummary) -> GainRow:
        return GainRow(label, g.n, g.pre_mean, g.post_mean, g.gain_of_averages, g.average_of_gains)

    gain = results.gain
    reflections_done = sum(
        1
        for c in couples
        if c.partners
        and c.partners[0].facts
        and c.partners[0].facts.facts.reflections_confirmed >= modules
    )
    both_signed = sum(
        1
        for c in couples
        if len(c.partners) == 2 and all(p.facts and p.facts.facts.signed for p in c.partners)
    )
    ngettext = translations(locale).ngettext
    counted = [
        (
            sum(c.not_activated for c in couples),
            ngettext(
                "%(num)s couple has a partner who has not activated the account",
                "%(num)s couples have a partner who has not activated the account",
                sum(c.not_activated for c in couples),
            ),
        ),
        (
            sum(p.behind is not None for p in people),
            ngettext(
                "%(num)s participant is behind schedule",
                "%(num)s participants are behind schedule",
                sum(p.behind is not None for p in people),
            ),
        ),
    ]
    waiting = sum(p.stage.kind == StageKind.quiz and p.stage.waiting for p in people)
    counted.append(
        (
            waiting,
            ngettext(
                "%(num)s participant used every quiz attempt and waits for another",
                "%(num)s participants used every quiz attempt and wait for another",
                waiting,
            ),
        )
    )
    counted.append(
        (
            gain.only_pre,
            ngettext(
                "%(num)s participant took the pre-test but not the post-test",
                "%(num)s participants took the pre-test but not the post-test",
                gain.only_pre,
            ),
        )
    )
    at_reflections = sum(c.stage.kind == StageKind.reflections for c in couples)
    counted.append(
        (
            at_reflections,
            ngettext(
                "%(num)s couple has family reflections left to write or confirm",
                "%(num)s couples have family reflections left to write or confirm",
                at_reflections,
            ),
        )
    )
    at_pledge = sum(c.stage.kind == StageKind.pledge for c in couples)
    counted.append(
        (
            at_pledge,
            ngettext(
                "%(num)s couple has not signed the family pledge yet",
                "%(num)s couples have not signed the family pledge yet",
                at_pledge,
            ),
        )
    )
    follow = [text % {"num": count} for count, text in counted if count]
    return CohortReport(
        cohort_title=cohort.title,
        region=region.name if region else "",
        venue=cohort.venue,
        workshop_start=cohort.workshop_start,
        workshop_end=cohort.workshop_end,
        pre_opens=cohort.pre_opens,
        post_closes=cohort.post_closes,
        facilitators=facilitator_names(session, cohort_id=saved_id(cohort)),
        generated_at=now,
        couples=len(couples),
        participants=total,
        funnel=[
            ReportStep(
                milestone_name(s, locale), s.participants, s.participants / total if total else 0.0
            )
            for s in workspace.funnel()
        ],
        attendance=[
            AttendanceDay(day, present.get(day, 0), total) for day in workshop_days(cohort)
        ],
        gain_overall=gain_row(gettext("All questions"), gain.overall) if gain.overall.n else None,
        gain_by_module=[gain_row(pick(r.title, locale), r.gain) for r in gain.by_module],
        gain_by_value=[gain_row(pick(r.title, locale), r.gain) for r in gain.by_value],
        only_pre=gain.only_pre,
        quizzes=[
            QuizRow(quiz_name(d.quiz, locale), d.participants, d.passed, d.pass_rate, d.mean_best)
            for d in results.distributions
        ],
        reflections_confirmed=reflections_done,
        pledges_signed=both_signed,
        certificates_issued=issued,
        certificates_revoked=revoked,
        follow_up=follow,
        followup=cohort_followup(session, cohort=cohort, settings=settings, locale=locale),
    )


# ---------------------------------------------------------------- after the workshop

MARK_NAMES = {"done": N_("done"), "partly": N_("partly"), "not_yet": N_("not yet")}


def cohort_followup(
    session: Session, *, cohort: Cohort, settings: Settings, locale: str
) -> Followup:
    """The cohort's survey (its answers only when at least ``APP_MIN_CELL_SIZE`` answered;
    open answers without names or dates), check-ins and retention check, in ``locale``."""
    gettext = translations(locale).gettext
    k = settings.min_cell_size
    survey = survey_text(session) or {"items": [], "scale": []}
    summary = survey_summary(session, cohort_ids=[saved_id(cohort)], k=k)
    scale = [pick(t, locale) for t in survey.get("scale", [])]
    items = []
    for item in summary.items if summary.shown else []:
        if item.kind == "likert":
            keys = [str(n) for n in range(1, 6)]
            labels = scale if len(scale) == 5 else keys
        else:
            keys = [o["slug"] for o in item.options]
            labels = [pick(o["text"], locale) for o in item.options]
        items.append(
            SurveyItemRow(
                text=pick(item.text, locale),
                kind=item.kind,
                labels=labels,
                counts=[item.counts.get(key, 0) for key in keys],
                mean=item.mean,
                agree=item.agree,
            )
        )
    questions = {i["slug"]: pick(i["text"], locale) for i in survey["items"]}
    open_answers = [
        (questions.get(slug, slug), texts)
        for slug, texts in summary.open_answers.items()
        if summary.shown
    ]
    checkins = checkin_summary(session, cohort=cohort, tz=settings.tz)
    retention = retention_summary(session, cohort=cohort)
    return Followup(
        k=k,
        responses=summary.responses,
        shown=summary.shown,
        items=items,
        open_answers=open_answers,
        checkins=[
            CheckinRow(
                round=r.round,
                days=r.days,
                opens=r.window.opens,
                last_day=r.window.last_day,
                plans=r.plans,
                answered=r.answered,
                kept=r.kept,
                marks=[(gettext(MARK_NAMES[m]), r.marks.get(m, 0)) for m in MARKS],
            )
            for r in checkins.rounds
        ],
        retention=RetentionFigures(
            items=retention.items,
            n=len(retention.complete),
            pre=retention.mean("pre"),
            post=retention.mean("post"),
            later=retention.mean("later"),
        ),
    )


def followup_page(
    session: Session, *, actor: CurrentUser, slug: str, settings: Settings, locale: str
) -> tuple[Cohort, Followup]:
    """The follow-ups of a cohort the actor facilitates (another's is not found)."""
    cohort = cohort_for(session, user=actor, slug=slug)
    return cohort, cohort_followup(session, cohort=cohort, settings=settings, locale=locale)
