"""The facilitator's working list: every participant's stage and flags, the couple's stage,
the funnel, filters, search, sorting and pages — and the reminder each person needs.

Stages and flags come from ``app.learning`` (``stage_of``, ``behind_schedule``,
``partner_gap``, ``couple_stage``) over facts the selectors read for the whole cohort at once:
the number of statements does not grow with the cohort.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache, cached_property
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from sqlalchemy import Select, bindparam, func, select
from sqlmodel import Session, col

from app.accounts.models import Role, User
from app.cohorts.models import Cohort
from app.cohorts.service import CoupleRow, cohort_roster
from app.curriculum.outline import Curriculum, QuizInfo
from app.db import saved_id
from app.errors import AppError
from app.facilitator.models import Reminder, ReminderText
from app.i18n import N_, fmt_date, pick, translations
from app.learning.rules import (
    FOLLOWUP_KEYS,
    BehindReason,
    Stage,
    StageKind,
    StageSlot,
    behind_schedule,
    couple_stage,
    partner_gap,
    stage_ladder,
    stage_of,
    workshop_over_at,
    workshop_starts_at,
)
from app.learning.selectors import cohort_participants, last_activity
from app.learning.standing import FactsReader, PersonFacts

PAGE_SIZE = 50

# ---------------------------------------------------------------- stage names


STAGE_NAMES: dict[StageKind, str] = {
    StageKind.not_activated: N_("Not activated"),
    StageKind.pretest: N_("Pre-test not taken"),
    StageKind.lessons: N_("Module %(n)s: lessons"),
    StageKind.quiz: N_("Module %(n)s: quiz"),
    StageKind.workshop: N_("Waiting for the workshop"),
    StageKind.post_test: N_("Post-test"),
    StageKind.reflections: N_("Family reflections"),
    StageKind.pledge: N_("Family pledge"),
    StageKind.certificate: N_("Certificate"),
}
# a stage kind in general, for the reminder texts (one text serves every module)
KIND_NAMES: dict[StageKind, str] = {
    **STAGE_NAMES,
    StageKind.lessons: N_("A module's lessons"),
    StageKind.quiz: N_("A module's quiz"),
}
WAITING_NAMES: dict[StageKind, str] = {
    StageKind.quiz: N_("every attempt used: waiting for you"),
    StageKind.pledge: N_("signed; waiting for the partner"),
}


def stage_name(slot: StageSlot | Stage, locale: str) -> str:
    """The stage in the reader's language ("Modul 2: kuis")."""
    gettext = translations(locale).gettext
    text = gettext(STAGE_NAMES[slot.kind])
    module = slot.module
    return text % {"n": module.position} if module is not None else text


QUIZ_NAMES = {"pre": N_("Pre-test"), "post": N_("Post-test")}


def quiz_name(quiz: QuizInfo, locale: str) -> str:
    """A quiz's title in the reader's language; the pre- and post-test by their names."""
    title = pick(quiz.title, locale)
    if title:
        return title
    return (
        translations(locale).gettext(QUIZ_NAMES[quiz.kind])
        if quiz.kind in QUIZ_NAMES
        else quiz.slug
    )


def waiting_name(stage: Stage, locale: str) -> str | None:
    if not stage.waiting or stage.kind not in WAITING_NAMES:
        return None
    return translations(locale).gettext(WAITING_NAMES[stage.kind])


# ---------------------------------------------------------------- the people of a cohort


@dataclass
class Person:
    id: int
    username: str
    name: str
    role: str
    contact: str | None
    position: str | None
    locale: str
    activated: bool
    active: bool
    code_expires: datetime | None
    reset_pending: bool
    stage: Stage
    behind: BehindReason | None
    lessons: int
    last_activity: datetime | None
    last_reminder: datetime | None
    facts: PersonFacts | None = None

    @cached_property
    def channel(self) -> str | None:
        """How to reach them: ``whatsapp`` (a phone number), ``email``, or None."""
        return contact_channel(self.contact)


@dataclass
class CoupleLine:
    id: int
    code: str
    organization: str
    partners: list[Person]
    stage: Stage
    behind: bool
    gap: bool

    @property
    def last_activity(self) -> datetime | None:
        return max((p.last_activity for p in self.partners if p.last_activity), default=None)

    @property
    def last_reminder(self) -> datetime | None:
        return max((p.last_reminder for p in self.partners if p.last_reminder), default=None)

    @property
    def not_activated(self) -> bool:
        return any(not p.activated for p in self.partners)


# what a participant has done once they are at or past a stage: the step before it
DONE_NAMES: dict[StageKind, str] = {
    StageKind.not_activated: N_("Activated"),
    StageKind.pretest: N_("Pre-test taken"),
    StageKind.lessons: N_("Module %(n)s: lessons done"),
    StageKind.quiz: N_("Module %(n)s passed"),
    StageKind.workshop: N_("Workshop over"),
    StageKind.post_test: N_("Post-test taken"),
    StageKind.reflections: N_("Family reflections confirmed"),
    StageKind.pledge: N_("Pledge signed: certificate"),
}


def milestone_name(step: FunnelStep, locale: str) -> str:
    """What the people counted in a funnel step have done ("Modul 1 lulus")."""
    done = step.done
    text = translations(locale).gettext(DONE_NAMES[done.kind])
    return text % {"n": done.module.position} if done.module is not None else text


@dataclass(frozen=True)
class FunnelStep:
    slot: StageSlot  # at or past this stage
    done: StageSlot  # the stage before it, done
    participants: int  # at or past this stage
    officials: int
    spouses: int
    couples: int  # both partners at or past it


@dataclass
class Workspace:
    cohort: Cohort
    curriculum: Curriculum
    ladder: list[StageSlot]
    couples: list[CoupleLine]
    total_lessons: int
    now: datetime
    after_opens: datetime

    @property
    def people(self) -> list[Person]:
        return [p for c in self.couples for p in c.partners]

    def funnel(self) -> list[FunnelStep]:
        """How many are at or past each stage (from "activated" on: everyone is at or past
        "not activated")."""
        # how many stand at each rank, then summed from the last step down
        size = len(self.ladder) + 1
        at: dict[str, list[int]] = {k: [0] * size for k in ("all", "official", "spouse")}
        couples_at = [0] * size
        for c in self.couples:
            if len(c.partners) == 2:
                couples_at[c.stage.rank] += 1
            for p in c.partners:
                at["all"][p.stage.rank] += 1
                if p.role in at:
                    at[p.role][p.stage.rank] += 1
        for counts in (*at.values(), couples_at):
            for rank in range(size - 2, -1, -1):
                counts[rank] += counts[rank + 1]
        return [
            FunnelStep(
                slot=slot,
                done=done,
                participants=at["all"][slot.rank],
                officials=at["official"][slot.rank],
                spouses=at["spouse"][slot.rank],
                couples=couples_at[slot.rank],
            )
            for done, slot in zip(self.ladder, self.ladder[1:], strict=False)
        ]


@dataclass(frozen=True)
class KeptCouple:
    """What was read of one couple's partners at one ``Couple.learning_version``."""

    version: int
    facts: dict[int, PersonFacts]  # by user id
    activity: dict[int, datetime]  # user id → last activity (none: absent)


# the changed couples are read by their ids while they are at most this share of the cohort
# and this many (each id is a bound parameter, several times per statement: SQLite takes at
# most 32,766); else the whole cohort is read again
_FEW = 0.5
_FEW_AT_MOST = 1000


@cache
def _readers(by: str) -> tuple[FactsReader, Select]:
    """The statements of a cohort's facts and last activity (``:cohort_id``) or of some couples'
    (``:couple_ids``), built once."""
    users = (
        cohort_participants(bindparam("cohort_id"))
        if by == "cohort"
        else select(col(User.id)).where(
            col(User.couple_id).in_(bindparam("couple_ids", expanding=True)),
            col(User.role) == Role.participant,
        )
    )
    return FactsReader(users), last_activity(users)


def _read_couples(
    session: Session, by: str, params: dict[str, Any]
) -> tuple[dict[int, PersonFacts], dict[int, datetime]]:
    facts, activity = _readers(by)
    return facts.read(session, params), dict(session.execute(activity, params).all())


def read_couples(
    session: Session, couple_ids: Sequence[int]
) -> tuple[dict[int, PersonFacts], dict[int, datetime]]:
    """The facts and last activity of these couples' partners, as ``couples_facts`` reads
    them."""
    return _read_couples(session, "couples", {"couple_ids": sorted(couple_ids)})


def couples_facts(
    session: Session,
    *,
    cohort_id: int,
    roster: Sequence[CoupleRow],
    kept: dict[int, KeptCouple] | None = None,
) -> tuple[dict[int, PersonFacts], dict[int, datetime]]:
    """The facts and last activity of every partner in ``roster`` (the cohort's, or one couple
    of it). With ``kept`` (the application's, for this cohort and content version), the
    couples whose learning version is the one kept are not read again: only the others, in
    the same statements (the roster's versions were read first, so what is kept is never older
    than its version). ``kept`` is changed in place (by the pages on the event loop: one at a
    time)."""
    if not roster:
        return {}, {}
    if kept is None:
        if len(roster) == 1:
            return read_couples(session, [roster[0].id])
        return _read_couples(session, "cohort", {"cohort_id": cohort_id})
    stale = {
        row.id
        for row in roster
        if (k := kept.get(row.id)) is None
        or k.version != row.learning_version
        or k.facts.keys() != {p.id for p in row.partners}
    }
    if stale:
        few = len(stale) <= min(_FEW * len(roster), _FEW_AT_MOST)
        facts, activity = (
            read_couples(session, sorted(stale))
            if few
            else _read_couples(session, "cohort", {"cohort_id": cohort_id})
        )
        for row in roster:
            if row.id in stale or not few:
                ids = [p.id for p in row.partners]
                kept[row.id] = KeptCouple(
                    row.learning_version,
                    {i: facts[i] for i in ids},
                    {i: activity[i] for i in ids if i in activity},
                )
        for gone in kept.keys() - {row.id for row in roster}:
            kept.pop(gone, None)
    facts_out: dict[int, PersonFacts] = {}
    activity_out: dict[int, datetime] = {}
    for row in roster:
        k = kept[row.id]
        facts_out |= k.facts
        activity_out |= k.activity
    return facts_out, activity_out


def cohort_facts(
    session: Session,
    *,
    cohort: Cohort,
    curriculum: Curriculum,
    now: datetime,
    tz: tzinfo,
    days_before_close: int,
    couple_id: int | None = None,
    kept: dict[int, KeptCouple] | None = None,
) -> Workspace:
    """Every couple of the cohort (or the one ``couple_id``) with both partners' stages and
    flags: a constant number of statements, whatever the size of the cohort. ``kept``: see
    ``couples_facts`` (not with ``couple_id``)."""
    cohort_id = saved_id(cohort)
    roster = cohort_roster(session, cohort_id=cohort_id, now=now, couple_id=couple_id)
    facts, activity = couples_facts(
        session,
        cohort_id=cohort_id,
        roster=roster,
        kept=kept if couple_id is None else None,
    )
    reminded = dict(
        session.execute(
            select(col(Reminder.user_id), func.max(Reminder.at))
            .where(col(Reminder.cohort_id) == cohort_id)
            .group_by(col(Reminder.user_id))
        ).all()
    )
    ladder = stage_ladder(curriculum)
    after_opens = workshop_over_at(cohort.workshop_end, tz)
    starts = workshop_starts_at(cohort.workshop_start, tz)
    couples = []
    for row in roster:
        partners = []
        for p in row.partners:
            person_facts = facts[p.id]
            partners.append(
                Person(
                    id=p.id,
                    username=p.username,
                    name=p.name,
                    role=p.role,
                    contact=p.contact,
                    position=p.position,
                    locale=p.locale,
                    activated=p.activated,
                    active=p.active,
                    code_expires=p.code_expires,
                    reset_pending=p.reset_pending,
                    stage=stage_of(
                        ladder, curriculum, person_facts.facts, now=now, after_opens=after_opens
                    ),
                    behind=behind_schedule(
                        curriculum,
                        person_facts.facts,
                        now=now,
                        workshop_starts=starts,
                        post_closes=cohort.post_closes,
                        days_before_close=days_before_close,
                    ),
                    lessons=person_facts.lessons,
                    last_activity=activity.get(p.id),
                    last_reminder=reminded.get(p.id),
                    facts=person_facts,
                )
            )
        stages = [p.stage for p in partners]
        couples.append(
            CoupleLine(
                id=row.id,
                code=row.code,
                organization=row.organization,
                partners=partners,
                stage=couple_stage(stages),
                behind=any(p.behind is not None for p in partners),
                gap=len(stages) == 2 and partner_gap(stages[0], stages[1]),
            )
        )
    return Workspace(
        cohort=cohort,
        curriculum=curriculum,
        ladder=ladder,
        couples=couples,
        total_lessons=sum(len(m.lessons) for m in curriculum.modules),
        now=now,
        after_opens=after_opens,
    )


# ---------------------------------------------------------------- filters, search, pages

FLAGS = {
    "behind": N_("Behind schedule"),
    "gap": N_("Partner gap"),
    "not_activated": N_("Not activated"),
    "waiting": N_("Waiting for another attempt"),
    "no_contact": N_("No contact"),
}
SORTS = {
    "code": N_("Couple code"),
    "stage": N_("Stage (slowest first)"),
    "activity": N_("Last activity (longest ago first)"),
    "reminder": N_("Last reminder (longest ago first)"),
}


class FilterError(AppError):
    """A list filter, search or sort that does not exist."""

    def __init__(self, message: str, field: str, value: str) -> None:
        super().__init__(422, message, {"value": value[:40]}, field=field)


@dataclass(frozen=True)
class ListQuery:
    """What the facilitator asked the list for, as it stands in the URL."""

    stage: str = ""
    flag: str = ""
    q: str = ""
    sort: str = "code"
    page: int = 1

    @property
    def filtered(self) -> bool:
        return bool(self.stage or self.flag or self.q)

    def params(self, **changes: Any) -> str:
        """The query string of this list (with ``changes``), for links and bookmarks."""
        values = {
            "stage": self.stage,
            "flag": self.flag,
            "q": self.q,
            "sort": self.sort,
            "page": self.page,
        }
        values.update(changes)
        parts = [
            f"{k}={quote(str(v))}"
            for k, v in values.items()
            if v and not (k == "sort" and v == "code") and not (k == "page" and v == 1)
        ]
        return "?" + "&".join(parts) if parts else ""

    def label(self) -> str | None:
        """A short name of the filter for a file name ("behind", "m2-quiz", "cari-budi")."""
        parts = [p for p in (self.stage, self.flag) if p]
        if self.q:
            parts.append("cari-" + self.q)
        return "-".join(parts) or None


def parse_list_query(
    ladder: Sequence[StageSlot], *, stage: str, flag: str, q: str, sort: str, page: str
) -> ListQuery:
    """The list's query parameters, checked: an unknown stage, flag or sort is a 422."""
    stage, flag, sort = stage.strip(), flag.strip(), (sort.strip() or "code")
    if stage and stage not in {s.key for s in ladder}:
        raise FilterError(N_("There is no stage called “%(value)s”."), "stage", stage)
    if flag and flag not in FLAGS:
        raise FilterError(N_("There is no filter called “%(value)s”."), "flag", flag)
    if sort not in SORTS:
        raise FilterError(N_("The list cannot be sorted by “%(value)s”."), "sort", sort)
    return ListQuery(
        stage=stage, flag=flag, q=" ".join(q.split())[:100], sort=sort, page=page_number(page)
    )


def page_number(text: str) -> int:
    """The page a URL asks for: anything but a positive number of up to six digits is 1."""
    return max(1, int(text)) if text.isdigit() and len(text) < 7 else 1


# what each flag of ``FLAGS`` asks of a couple
FLAG_TESTS: dict[str, Callable[[CoupleLine], bool]] = {
    "behind": lambda c: c.behind,
    "gap": lambda c: c.gap,
    "not_activated": lambda c: c.not_activated,
    "waiting": lambda c: any(
        p.stage.kind == StageKind.quiz and p.stage.waiting for p in c.partners
    ),
    "no_contact": lambda c: not all(p.channel for p in c.partners),
}


def flag_counts(workspace: Workspace) -> dict[str, int]:
    """How many couples each flag finds, and ``all``."""
    counts = {name: sum(map(test, workspace.couples)) for name, test in FLAG_TESTS.items()}
    counts["all"] = len(workspace.couples)
    return counts


def _matches(couple: CoupleLine, query: ListQuery) -> bool:
    if query.stage and not any(p.stage.key == query.stage for p in couple.partners):
        return False
    if query.flag and not FLAG_TESTS[query.flag](couple):
        return False
    if query.q:
        needle = query.q.casefold()
        haystack = " ".join(
            [couple.code, couple.organization]
            + [f"{p.name} {p.username} {p.position or ''}" for p in couple.partners]
        ).casefold()
        if needle not in haystack:
            return False
    return True


def _instant(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("-inf")


def filtered_couples(workspace: Workspace, query: ListQuery) -> list[CoupleLine]:
    """The couples the query asks for, in its order."""
    found = [c for c in workspace.couples if _matches(c, query)]
    if query.sort == "stage":
        found.sort(key=lambda c: (c.stage.rank, c.code))
    elif query.sort == "activity":
        found.sort(key=lambda c: (_instant(c.last_activity), c.code))
    elif query.sort == "reminder":
        found.sort(key=lambda c: (_instant(c.last_reminder), c.code))
    else:
        found.sort(key=lambda c: c.code)
    return found


_C = TypeVar("_C")


@dataclass
class Page(Generic[_C]):
    couples: list[_C]
    number: int
    pages: int
    total: int  # couples matching
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """The position of the page's first couple among those matching (1 for the first)."""
        return (self.number - 1) * self.size + 1 if self.couples else 0

    @property
    def last(self) -> int:
        return (self.number - 1) * self.size + len(self.couples)


def page_of(couples: list[_C], number: int, size: int = PAGE_SIZE) -> Page[_C]:
    pages = max(1, -(-len(couples) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(couples[start : start + size], number, pages, len(couples), size)


# ---------------------------------------------------------------- reminders

PLACEHOLDERS = ("nama", "langkah", "tautan", "tanggal_bimtek", "batas_akhir", "fasilitator")

# the message for each stage; ``{…}`` are filled in when the link is made
DEFAULT_TEXTS: dict[StageKind, str] = {
    StageKind.not_activated: N_(
        "Hello {nama}, this is {fasilitator} from the Integrity Family programme. Your "
        "learning account is not activated yet. Please open {tautan} and enter the code on "
        "your activation card. The workshop starts on {tanggal_bimtek}. Thank you!"
    ),
    StageKind.pretest: N_(
        "Hello {nama}, thank you for activating your account. The next step is {langkah}: "
        "it takes about 10 minutes. {tautan}"
    ),
    StageKind.lessons: N_(
        "Hello {nama}, good progress so far! The next step is {langkah}. Each lesson takes "
        "about 10 minutes, and the workshop starts on {tanggal_bimtek}. {tautan}"
    ),
    StageKind.quiz: N_(
        "Hello {nama}, you have finished the lessons of the module. The next step is "
        "{langkah}. {tautan}"
    ),
    StageKind.workshop: N_(
        "Hello {nama}, thank you: everything before the workshop is done. See you at the "
        "workshop on {tanggal_bimtek}!"
    ),
    StageKind.post_test: N_(
        "Hello {nama}, thank you for taking part in the workshop. The next step is "
        "{langkah}, open until {batas_akhir}. {tautan}"
    ),
    StageKind.reflections: N_(
        "Hello {nama}, one step left together with your partner: {langkah}. Open "
        "{tautan} and write or confirm it together by {batas_akhir}."
    ),
    StageKind.pledge: N_(
        "Hello {nama}, almost done! The last step is {langkah}, together with your partner, "
        "by {batas_akhir}. {tautan}"
    ),
    StageKind.certificate: N_(
        "Hello {nama}, congratulations: your family finished the programme. Your "
        "certificate is ready at {tautan}. Thank you!"
    ),
}
NEXT_STEPS: dict[StageKind, str] = {
    StageKind.not_activated: N_("activating your account"),
    StageKind.pretest: N_("taking the pre-test"),
    StageKind.lessons: N_("the lessons of module %(n)s (%(title)s)"),
    StageKind.quiz: N_("the quiz of module %(n)s"),
    StageKind.workshop: N_("the workshop"),
    StageKind.post_test: N_("taking the post-test"),
    StageKind.reflections: N_("the family reflections"),
    StageKind.pledge: N_("signing the family pledge"),
    StageKind.certificate: N_("your certificate"),
}
LINKS: dict[StageKind, str] = {
    StageKind.not_activated: "/activate",
    StageKind.pretest: "/learn/quizzes/pre-test",
    StageKind.lessons: "/learn",
    StageKind.quiz: "/learn",
    StageKind.workshop: "/learn",
    StageKind.post_test: "/learn/quizzes/post-test",
    StageKind.reflections: "/family",
    StageKind.pledge: "/family",
    StageKind.certificate: "/family",
}
MAX_TEXT = 1000


TITLES = {"ir", "dr", "drs", "dra", "h", "hj", "prof", "kh", "ny", "tn", "bpk", "ibu"}


def plain_name(name: str) -> str:
    """The name to greet someone by: without academic degrees after the comma ("S.H., M.H.")
    or titles in front ("Ir.", "Dr.", "Hj.")."""
    words = name.split(",")[0].split()
    while len(words) > 1 and (words[0].endswith(".") or words[0].lower() in TITLES):
        words = words[1:]
    return " ".join(words) or name.strip()


def contact_channel(contact: str | None) -> str | None:
    if not contact:
        return None
    if "@" in contact:
        return "email"
    return "whatsapp" if len(re.sub(r"\D", "", contact)) >= 8 else None


def check_text(text: str) -> str:
    """A reminder text a facilitator wrote: known placeholders only, braces balanced."""
    text = text.strip().replace("\r\n", "\n")
    if not text:
        raise AppError(422, N_("Write the message, or leave the default."), field="text")
    if len(text) > MAX_TEXT:
        raise AppError(
            422,
            N_("The message is longer than %(max)s characters."),
            {"max": MAX_TEXT},
            field="text",
        )
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise AppError(
            422, N_("A { or } has no partner. Placeholders look like {nama}."), field="text"
        ) from exc
    for name in fields:
        if name not in PLACEHOLDERS:
            raise AppError(
                422,
                N_("Unknown placeholder {%(name)s}. You can use: %(known)s."),
                {"name": name[:30], "known": ", ".join("{" + p + "}" for p in PLACEHOLDERS)},
                field="text",
            )
    return text


def cohort_texts(session: Session, *, cohort_id: int) -> dict[tuple[str, str], str]:
    """{(stage kind, locale): text} the cohort's facilitators wrote."""
    return {
        (r.stage, r.locale): r.text
        for r in session.execute(
            select(ReminderText).where(col(ReminderText.cohort_id) == cohort_id)
        ).scalars()
    }


def default_text(kind: StageKind, locale: str) -> str:
    return translations(locale).gettext(DEFAULT_TEXTS[kind])


@dataclass(frozen=True)
class ReminderLink:
    person: Person
    message: str
    whatsapp: str | None
    mailto: str | None


def reminder_for(
    person: Person,
    *,
    cohort: Cohort,
    texts: dict[tuple[str, str], str],
    base_url: str,
    facilitator: str,
    tz: tzinfo,
) -> ReminderLink:
    """The friendly message for the person's stage in their language, and the links that
    open it in WhatsApp or the mail program."""
    locale = person.locale if person.locale in ("id", "en") else "id"
    kind = person.stage.kind
    gettext = translations(locale).gettext
    template = texts.get((kind.value, locale)) or default_text(kind, locale)
    module = person.stage.module
    step = gettext(NEXT_STEPS[kind])
    if module is not None:
        step = step % {"n": module.position, "title": pick(module.title, locale)}
    values = {
        "nama": plain_name(person.name),
        "langkah": step,
        "tautan": base_url.rstrip("/") + LINKS[kind],
        "tanggal_bimtek": fmt_date(cohort.workshop_start, locale, str(tz)),
        "batas_akhir": fmt_date(cohort.post_closes, locale, str(tz)),
        "fasilitator": facilitator,
    }
    return contact_link(person, template.format_map(values), locale)


def contact_link(person: Person, message: str, locale: str) -> ReminderLink:
    """The links that open ``message`` to the person in WhatsApp or the mail program."""
    whatsapp = mailto = None
    channel = person.channel
    if channel == "whatsapp" and person.contact:
        digits = re.sub(r"\D", "", person.contact)
        if digits.startswith("0"):
            digits = "62" + digits[1:]
        whatsapp = f"https://wa.me/{digits}?text={quote(message, safe='')}"
    elif channel == "email" and person.contact:
        subject = translations(locale).gettext("Integrity Family: the next step")
        mailto = (
            f"mailto:{quote(person.contact, safe='@.+')}"
            f"?subject={quote(subject, safe='')}&body={quote(message, safe='')}"
        )
    return ReminderLink(person, message, whatsapp, mailto)


CHANNELS = ("whatsapp", "email", "other")


def reminder_record(
    session: Session,
    *,
    actor_id: int,
    cohort: Cohort,
    person_id: int,
    stage: str,
    channel: str,
    now: datetime,
    ladder: Iterable[StageSlot],
) -> Reminder:
    """Record that the facilitator reminded a participant (the server sends nothing)."""
    if channel not in CHANNELS:
        raise AppError(422, N_("Unknown channel."), field="channel")
    if stage not in {s.key for s in ladder} | set(FOLLOWUP_KEYS):
        raise FilterError(N_("There is no stage called “%(value)s”."), "stage", stage)
    row = Reminder(
        cohort_id=cohort.id or 0,
        user_id=person_id,
        sent_by=actor_id,
        stage=stage,
        channel=channel,
        at=now,
    )
    session.add(row)
    session.flush()
    return row


def reminder_text_save(
    session: Session,
    *,
    actor_id: int,
    cohort_id: int,
    kind: StageKind,
    locale: str,
    text: str | None,
    now: datetime,
) -> None:
    """Set (or, with ``text`` None, reset to the default) a cohort's message for a stage."""
    row = session.execute(
        select(ReminderText).where(
            col(ReminderText.cohort_id) == cohort_id,
            col(ReminderText.stage) == kind.value,
            col(ReminderText.locale) == locale,
        )
    ).scalar_one_or_none()
    if text is None:
        if row is not None:
            session.delete(row)
        return
    text = check_text(text)
    if row is None:
        row = ReminderText(
            cohort_id=cohort_id, stage=kind.value, locale=locale, text=text, updated_at=now
        )
    row.text, row.updated_by, row.updated_at = text, actor_id, now
    session.add(row)


@dataclass
class CohortCard:
    """A cohort on the facilitator's home page."""

    cohort: Cohort
    region: str
    days_to_workshop: int
    couples: int
    participants: int
    activated: float | None
    pre_taken: float | None
    on_schedule: float | None
    complete: float | None  # share of couples


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def cohort_card(workspace: Workspace, *, region: str, today: date) -> CohortCard:
    people = workspace.people
    couples = workspace.couples
    return CohortCard(
        cohort=workspace.cohort,
        region=region,
        days_to_workshop=(workspace.cohort.workshop_start - today).days,
        couples=len(couples),
        participants=len(people),
        activated=share(sum(p.activated for p in people), len(people)),
        pre_taken=share(sum(p.facts.facts.pre_taken for p in people if p.facts), len(people)),
        on_schedule=share(sum(p.behind is None for p in people), len(people)),
        complete=share(sum(c.stage.kind == StageKind.certificate for c in couples), len(couples)),
    )
