"""A participant's whole standing — the path, the quizzes, the partner — for the pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.accounts.models import CurrentUser
from app.curriculum.service import (
    Curriculum,
    CurriculumCache,
    Learner,
    PathProgress,
    completions_for,
    learner_for,
    path_progress,
)
from app.db import Reader
from app.quizzes.service import Gates, QuizRecord, gates_for, records_for


class NotInACouple(Exception):
    """A participant account that belongs to no couple (yet)."""


@dataclass
class Standing:
    learner: Learner
    curriculum: Curriculum
    now: datetime
    mine: PathProgress
    records: dict[int, QuizRecord]
    gates: Gates
    partner: PathProgress | None = None
    partner_records: dict[int, QuizRecord] | None = None

    def record(self, quiz_id: int) -> QuizRecord:
        return self.records.get(quiz_id, QuizRecord())


def standing_for(
    reader: Reader,
    *,
    user: CurrentUser,
    cache: CurriculumCache,
    now: datetime,
    with_partner: bool = True,
) -> Standing:
    """Four lean queries, whatever the size of the cohort: the couple, the content version,
    the lesson completions and the quiz attempts (of both partners when asked)."""
    learner = learner_for(reader, user=user)
    if learner is None:
        raise NotInACouple
    curriculum = cache.get(reader)
    ids = [learner.user_id]
    if with_partner and learner.partner_id:
        ids.append(learner.partner_id)
    completions = completions_for(reader, user_ids=ids)
    records = records_for(reader, user_ids=ids)

    def progress(uid: int) -> tuple[PathProgress, Gates]:
        gates = gates_for(curriculum.quizzes, records[uid])
        return path_progress(
            curriculum.modules,
            completions[uid],
            now=now,
            after_opens=learner.after_opens,
            modules_passed=gates.modules_passed,
            pretest_done=gates.pretest_done,
        ), gates

    mine, gates = progress(learner.user_id)
    standing = Standing(learner, curriculum, now, mine, records[learner.user_id], gates)
    if len(ids) > 1:
        standing.partner, _ = progress(learner.partner_id)
        standing.partner_records = records[learner.partner_id]
    return standing
