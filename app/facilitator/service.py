"""The facilitator's workspace: cohorts, the roster and its activation cards, who waits for
another attempt, family reflections. Every function takes the acting user and reaches a
cohort only through ``cohorts.service.cohort_for`` (the facilitator's own cohorts; every
cohort for an admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.accounts.models import CurrentUser
from app.cohorts.models import Cohort
from app.cohorts.roster import RosterParse
from app.cohorts.service import (
    CardRow,
    CoupleRow,
    ImportResult,
    PartnerRow,
    cards_for,
    cohort_for,
    cohort_list_for,
    cohort_roster,
    roster_import,
)
from app.curriculum.outline import Curriculum, QuizInfo
from app.db import saved_id
from app.quizzes.stats import ParticipantSummary, participant_summaries, waiting_for_attempt


def cohorts_of(session: Session, *, actor: CurrentUser) -> list[dict[str, Any]]:
    """The cohorts the actor facilitates, with their size."""
    return cohort_list_for(session, user=actor)


@dataclass(frozen=True)
class Waiting:
    person: PartnerRow
    quiz: QuizInfo


@dataclass
class CohortPage:
    cohort: Cohort
    couples: list[CoupleRow]
    summaries: dict[int, ParticipantSummary]
    waiting: list[Waiting]
    granted: PartnerRow | None


def cohort_page(
    session: Session,
    *,
    actor: CurrentUser,
    slug: str,
    curriculum: Curriculum,
    granted: int | None = None,
) -> CohortPage:
    """A cohort's couples with each partner's progress, and who waits for another attempt
    (``granted``: the participant just given one, for the confirmation)."""
    cohort = cohort_for(session, user=actor, slug=slug)
    cohort_id = saved_id(cohort)
    couples = cohort_roster(session, cohort_id=cohort_id)
    summaries = participant_summaries(session, cohort_id=cohort_id)
    people = {p.id: p for c in couples for p in c.partners}
    waiting = sorted(
        (
            Waiting(people[uid], quiz)
            for uid, quizzes in waiting_for_attempt(summaries, curriculum.quizzes).items()
            if uid in people
            for quiz in quizzes
        ),
        key=lambda w: (w.person.name, w.quiz.slug),
    )
    return CohortPage(
        cohort=cohort,
        couples=couples,
        summaries=summaries,
        waiting=waiting,
        granted=people.get(granted) if granted is not None else None,
    )


def roster_upload(
    session: Session,
    *,
    actor: CurrentUser,
    cohort: Cohort,
    parsed: RosterParse,
    dry_run: bool,
    now: datetime,
    activation_days: int,
) -> ImportResult:
    """Check a parsed roster, or import it into a cohort the actor manages (all or nothing)."""
    cohort = cohort_for(session, user=actor, slug=cohort.slug)
    return roster_import(
        session,
        cohort=cohort,
        parsed=parsed,
        actor_id=actor.id,
        now=now,
        activation_days=activation_days,
        dry_run=dry_run,
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
    participant: int | None = None,
) -> tuple[Cohort, list[Card]]:
    """The readable activation codes of a cohort the actor manages, each with the address
    that activates it."""
    cohort = cohort_for(session, user=actor, slug=slug)
    base = base_url.rstrip("/")
    cards = [
        Card(**vars(row), url=f"{base}/activate?code={row.code}")
        for row in cards_for(session, cohort_id=saved_id(cohort), user_id=participant)
    ]
    return cohort, cards
