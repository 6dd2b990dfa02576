"""The facilitator's follow-up list after the workshop: who still has the survey, the action
plan or an open (or overdue) check-in before them, the cohort's figures, and a WhatsApp
reminder for each person's step. Steps come from ``app.learning.rules.followup_step``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts.models import CurrentUser
from app.config import Settings
from app.curriculum.outline import Curriculum
from app.db import saved_id
from app.facilitator.workspace import (
    CoupleLine,
    FilterError,
    Person,
    ReminderLink,
    Workspace,
    contact_link,
    plain_name,
)
from app.followup.models import RetentionAttempt, SurveyTaken
from app.followup.service import (
    CheckinSummary,
    SurveySummary,
    answered_by,
    checkin_summary,
    couple_checkins,
    plan_of_cohort,
    round_facts,
    survey_summary,
)
from app.i18n import N_, fmt_date, translations
from app.learning.rules import (
    CHECKIN_ROUNDS,
    FOLLOWUP_KEYS,
    FollowupFacts,
    FollowupKind,
    FollowupPlan,
    FollowupStep,
    followup_step,
)

STEP_NAMES = {
    FollowupKind.survey: N_("Feedback survey"),
    FollowupKind.plan: N_("Family action plan"),
    FollowupKind.checkin: N_("Check-in after %(n)s days"),
    FollowupKind.done: N_("Nothing waiting"),
}
STEP_TEXTS = {
    FollowupKind.survey: N_(
        "Hello {nama}, thank you for joining the Integrity Family workshop. How was it for "
        "you? The short survey takes about 3 minutes and is kept without your name, until "
        "{batas_akhir}: {tautan}"
    ),
    FollowupKind.plan: N_(
        "Hello {nama}, one step together with your partner: the family action plan, 2 to 5 "
        "concrete things your family will do. One of you writes it, the other confirms: "
        "{tautan}"
    ),
    FollowupKind.checkin: N_(
        "Hello {nama}, it is time for the family's {langkah}: how is your family doing with "
        "its action plan? Each of you marks it, until {batas_akhir}. {tautan}"
    ),
}
FILTERS = (*FOLLOWUP_KEYS, "overdue")


def step_name(step: FollowupStep, plan: FollowupPlan, locale: str) -> str:
    text = translations(locale).gettext(STEP_NAMES[step.kind])
    return text % {"n": plan.days[step.round]} if step.round is not None else text


@dataclass
class FollowupLine:
    couple: CoupleLine
    steps: dict[int, FollowupStep]  # person id → step
    plan: str  # none | drafted | confirmed
    rounds: dict[int, tuple[bool, bool]]  # round → (both answered, kept)


@dataclass
class FollowupList:
    workspace: Workspace
    plan: FollowupPlan
    lines: list[FollowupLine]  # as filtered
    step: str
    counts: dict[str, int]  # filter → people
    links: dict[int, ReminderLink]
    survey: SurveySummary
    checkins: CheckinSummary
    retention_taken: int


def _reminder(
    person: Person,
    step: FollowupStep,
    plan: FollowupPlan,
    *,
    base_url: str,
    facilitator: str,
    tz: str,
) -> ReminderLink:
    locale = person.locale if person.locale in ("id", "en") else "id"
    gettext = translations(locale).gettext
    window = plan.checkins[step.round] if step.round is not None else plan.survey
    link = {
        FollowupKind.survey: "/survey",
        FollowupKind.plan: "/family/plan",
        FollowupKind.checkin: f"/family/checkins/{step.round}",
    }[step.kind]
    values = {
        "nama": plain_name(person.name),
        "langkah": step_name(step, plan, locale).lower(),
        "tautan": base_url.rstrip("/") + link,
        "batas_akhir": fmt_date(window.last_day, locale, tz),
    }
    return contact_link(person, gettext(STEP_TEXTS[step.kind]).format_map(values), locale)


def _matches(step: FollowupStep, wanted: str) -> bool:
    if wanted == "overdue":
        return step.overdue and step.kind != FollowupKind.done
    return step.kind != FollowupKind.done and step.key == wanted


def followup_list(
    session: Session,
    *,
    workspace: Workspace,
    actor: CurrentUser,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    base_url: str,
    step: str = "",
) -> FollowupList:
    """The cohort's follow-up: each person's next step after the workshop, filtered by
    ``step`` (a step key or ``overdue``); a constant number of statements."""
    step = step.strip()
    if step and step not in FILTERS:
        raise FilterError(N_("There is no filter called “%(value)s”."), "step", step)
    cohort = workspace.cohort
    plan = plan_of_cohort(cohort, settings.tz)
    people = [p.id for p in workspace.people]
    taken = set(
        session.execute(
            select(col(SurveyTaken.user_id)).where(col(SurveyTaken.cohort_id) == cohort.id)
        ).scalars()
    )
    retained = set(
        session.execute(
            select(col(RetentionAttempt.user_id)).where(
                col(RetentionAttempt.user_id).in_(people),
                col(RetentionAttempt.submitted_at).is_not(None),
            )
        ).scalars()
    )
    checkins = couple_checkins(session, couple_ids=[c.id for c in workspace.couples])
    last = curriculum.modules[-1] if curriculum.modules else None
    lines = []
    for couple in workspace.couples:
        confirmed, by_round = checkins.get(couple.id, (False, {}))
        partner_ids = [p.id for p in couple.partners]
        rounds = {r: round_facts(partner_ids, by_round.get(r, {})) for r in CHECKIN_ROUNDS}
        steps = {}
        for p in couple.partners:
            facts = p.facts.facts if p.facts else None
            done = facts.lessons_done.get(last.id, 0) if facts and last else 0
            answered = frozenset(
                r for r in CHECKIN_ROUNDS if answered_by(p.id, by_round.get(r, {}))
            )
            steps[p.id] = followup_step(
                plan,
                FollowupFacts(
                    plan_open=last is not None and done >= len(last.lessons),
                    plan_confirmed=confirmed,
                    survey_taken=p.id in taken,
                    answered=answered,
                    retention_taken=p.id in retained,
                ),
                now=now,
            )
        state = "none" if couple.id not in checkins else "confirmed" if confirmed else "drafted"
        lines.append(FollowupLine(couple, steps, state, rounds))
    counts = {
        f: sum(_matches(s, f) for line in lines for s in line.steps.values()) for f in FILTERS
    }
    shown = [
        line for line in lines if not step or any(_matches(s, step) for s in line.steps.values())
    ]
    links = {
        p.id: _reminder(
            p,
            line.steps[p.id],
            plan,
            base_url=base_url,
            facilitator=actor.display_name,
            tz=settings.timezone,
        )
        for line in shown
        for p in line.couple.partners
        if line.steps[p.id].kind != FollowupKind.done
    }
    return FollowupList(
        workspace=workspace,
        plan=plan,
        lines=shown,
        step=step,
        counts=counts,
        links=links,
        survey=survey_summary(session, cohort_ids=[saved_id(cohort)], k=settings.min_cell_size),
        checkins=checkin_summary(session, cohort=cohort, tz=settings.tz),
        retention_taken=len(retained),
    )
