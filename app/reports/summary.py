"""The per-participant summary the KPK reports read, kept current in the same transaction as
the learning events it depends on.

- ``summary_rows(session, users=…)`` recomputes participants' rows from the raw tables, with
  the learning package's facts (``facts_of_many``, the rules' ``module_done``) and the
  quizzes' scores (``person_scores``): the one definition of what the reports count.
- A write transaction marks whom it changed (``app.db.touch_learning``: the services that
  change learning with Core statements call it; rows written through the ORM —
  lesson progress, attempts, attendance, reflections, pledges, certificates, participants and
  couples — are noticed after each flush). Just before the commit, ``refresh`` recomputes the
  touched couples' rows, writes what changed, and adds the difference of each changed row to
  its cells of ``report_cohort`` and ``report_opd`` (``UPDATE … SET c = c + Δ``: concurrent
  transactions cannot lose each other's sums).
- ``rebuild`` recomputes everything (after a content sync, which can change what "module 2
  passed" means; after ``seed-synthetic``; for a database that has none yet).
- The same hooks raise each changed couple's ``learning_version`` (and, for rows the
  summary does not count — an answered lesson check, a quiz's extra attempts — only that):
  the facilitator's pages keep a couple's facts until its version moves.

A test proves the kept tables equal a rebuild on generated data, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import Select, bindparam, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from app.accounts.models import Role, User
from app.certificates.models import REVOKED_ON_ERASURE, Certificate
from app.cohorts.models import Attendance, Couple
from app.curriculum.models import IntegrityValue, Lesson, LessonProgress, Module, Quiz
from app.curriculum.outline import Curriculum, LessonInfo, ModuleInfo, QuizInfo
from app.db import TOUCHED_ALL, TOUCHED_COUPLES, TOUCHED_USERS, touch_learning
from app.family.models import FamilyReflection, PledgeSignature
from app.learning.rules import module_done
from app.learning.standing import FactsReader
from app.quizzes.gain import ScoresReader
from app.quizzes.models import CheckAnswer, ExtraAttempts, QuizAttempt
from app.reports.models import (
    CUBE_COLUMNS,
    MILESTONES,
    MODULE_SLOTS,
    SCORE_COLUMNS,
    TOPICS,
    VALUE_SLOTS,
    participant_summary,
    report_cohort,
    report_opd,
)

Row = dict[str, Any]
BATCH = 4000  # participants recomputed per statement group in a rebuild

CELL_KEYS = ("cohort_id", "organization_id", "role")


# ---------------------------------------------------------------- the curriculum's shape


def outline(session: Session) -> tuple[Curriculum, dict[str, str]]:
    """The curriculum as the rules and the reports need it (modules with their titles, their
    lessons' phases, quizzes; no lesson text), and the topic slot of each module and value
    slug (``m1``, ``v3`` …). Three small statements."""
    modules: dict[int, ModuleInfo] = {}
    for r in session.execute(
        select(
            col(Module.id),
            col(Module.slug),
            col(Module.phase),
            col(Module.position),
            col(Module.title),
            col(Lesson.id),
            col(Lesson.slug),
            col(Lesson.phase),
            col(Lesson.position),
        )
        .join(Lesson, col(Lesson.module_id) == Module.id)
        .where(col(Module.active).is_(True), col(Lesson.active).is_(True))
        .order_by(col(Module.position), col(Lesson.position))
    ).all():
        module = modules.get(r[0])
        if module is None:
            module = modules[r[0]] = ModuleInfo(r[0], r[1], r[4], {}, r[2], r[3])
        module.lessons.append(LessonInfo(r[5], r[6], {}, 0, r[7], r[0], r[8]))
    quizzes = {
        r[1]: QuizInfo(r[0], r[1], r[2], r[3], {}, r[4], r[5])
        for r in session.execute(
            select(
                col(Quiz.id),
                col(Quiz.slug),
                col(Quiz.kind),
                col(Quiz.module_id),
                col(Quiz.pass_mark),
                col(Quiz.max_attempts),
            )
        ).all()
        if r[2] != "module" or r[3] in modules
    }
    curriculum = Curriculum(0, list(modules.values()), quizzes, {})
    values = list(
        session.execute(select(col(IntegrityValue.slug)).order_by(col(IntegrityValue.position)))
        .scalars()
        .all()
    )
    if len(curriculum.modules) > MODULE_SLOTS or len(values) > VALUE_SLOTS:
        raise ValueError(
            f"the reports count at most {MODULE_SLOTS} modules and {VALUE_SLOTS} values "
            f"(the curriculum has {len(curriculum.modules)} and {len(values)})"
        )
    slots = {("module", m.slug): f"m{i}" for i, m in enumerate(curriculum.modules, 1)}
    slots |= {("value", v): f"v{i}" for i, v in enumerate(values, 1)}
    return curriculum, {f"{k[0]}:{k[1]}": s for k, s in slots.items()}


# ---------------------------------------------------------------- recomputation


def _bp(percent: float) -> int:
    """A percent in hundredths of a percentage point (an integer, so sums are exact)."""
    return round(percent * 100)


def individual_gain(pre_bp: int, post_bp: int) -> int | None:
    """One person's normalized gain (post − pre) / (100 − pre) in ten-thousandths; None when
    the pre-test was 100 % (nothing left to gain)."""
    if pre_bp >= 10000:
        return None
    return round((post_bp - pre_bp) * 10000 / (10000 - pre_bp))


class SummaryReader:
    """The statements ``summary_rows`` runs for one ``users`` select, built once (the refresh
    keeps one with a bound parameter: building them costs more than running them)."""

    def __init__(self, users: Select) -> None:
        self.people = (
            select(
                col(User.id),
                col(Couple.cohort_id),
                col(Couple.organization_id),
                col(User.couple_id),
                col(User.partner_role),
            )
            .join(Couple, col(Couple.id) == User.couple_id)
            .where(col(User.id).in_(users), col(User.role) == Role.participant)
        )
        self.facts = FactsReader(users)
        self.scores = ScoresReader(users)
        self.attended = (
            select(col(Attendance.user_id))
            .where(col(Attendance.user_id).in_(users), col(Attendance.present).is_(True))
            .group_by(col(Attendance.user_id))
        )
        # a certificate revoked because its holder's data were erased was received all the
        # same: the aggregates stay equal after an erasure
        self.certified = select(col(Certificate.user_id)).where(
            col(Certificate.user_id).in_(users),
            col(Certificate.revoked_at).is_(None)
            | (col(Certificate.revoke_reason) == REVOKED_ON_ERASURE),
        )

    def read(self, session: Session, params: dict[str, Any] | None = None) -> dict[int, Row]:
        return _summary_rows(session, self, params)


def summary_rows(session: Session, *, users: Select) -> dict[int, Row]:
    """{user_id: row of ``participant_summary``} recomputed from the raw tables for every
    participant of ``users`` who is in a couple."""
    return SummaryReader(users).read(session)


def _summary_rows(
    session: Session, reader: SummaryReader, params: dict[str, Any] | None
) -> dict[int, Row]:
    curriculum, slots = outline(session)
    people = session.execute(reader.people, params).all()
    if not people:
        return {}
    facts = reader.facts.read(session, params)
    scores = reader.scores.read(session, params)
    attended = set(session.execute(reader.attended, params).scalars())
    certified = set(session.execute(reader.certified, params).scalars())
    rows: dict[int, Row] = {}
    for uid, cohort_id, organization_id, couple_id, role in people:
        f = facts[uid].facts
        row: Row = {
            "user_id": uid,
            "cohort_id": cohort_id,
            "organization_id": organization_id,
            "couple_id": couple_id,
            "role": role or "official",
            "activated": int(f.activated),
            "pretest": int(f.pre_taken),
            "attended": int(uid in attended),
            "posttest": int(f.post_taken),
            "reflections": int(f.reflections_confirmed >= len(curriculum.modules)),
            "pledge": int(f.signed),
            "certificate": int(uid in certified),
        }
        modules = curriculum.modules
        for i in range(1, MODULE_SLOTS + 1):
            done = i <= len(modules) and module_done(curriculum, modules[i - 1], f)
            row[f"module{i}"] = int(done)
        row |= dict.fromkeys(SCORE_COLUMNS)
        s = scores.get(uid)
        row["only_pre"] = int(s is not None and s.pre is not None and s.post is None)
        row["only_post"] = int(s is not None and s.post is not None and s.pre is None)
        if s is not None and s.pre is not None and s.post is not None:
            _put_scores(row, "all", s.pre, s.post)
            for (by, slug), parts in s.topics.items():
                slot = slots.get(f"{by}:{slug}")
                if slot is not None and "pre" in parts and "post" in parts:
                    _put_scores(row, slot, parts["pre"], parts["post"])
        rows[uid] = row
    _couple_columns(rows.values())
    return rows


def _put_scores(row: Row, topic: str, pre: float, post: float) -> None:
    pre_bp, post_bp = _bp(pre), _bp(post)
    row[f"{topic}_pre"], row[f"{topic}_post"] = pre_bp, post_bp
    row[f"{topic}_gain"] = individual_gain(pre_bp, post_bp)


def _couple_columns(rows: Iterable[Row]) -> None:
    """The couple's counts on its lead row (the partner with the lower user id): for each
    milestone, both partners done, or one of them only. Needs both partners' rows."""
    couples: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        couples[row["couple_id"]].append(row)
    for partners in couples.values():
        partners.sort(key=lambda r: r["user_id"])
        for i, row in enumerate(partners):
            row["lead"] = int(i == 0)
            for m in MILESTONES:
                done = sum(p[m] for p in partners)
                row[f"both_{m}"] = int(i == 0 and len(partners) == 2 and done == 2)
                row[f"one_{m}"] = int(i == 0 and done == 1)


def contribution(row: Mapping[str, Any]) -> dict[str, int]:
    """What one summary row adds to its cells (the columns of ``report_cohort``)."""
    out = {
        "people": 1,
        "couples": row["lead"],
        "only_pre": row["only_pre"],
        "only_post": row["only_post"],
    }
    for m in MILESTONES:
        out[f"n_{m}"] = row[m]
        out[f"both_{m}"] = row[f"both_{m}"]
        out[f"one_{m}"] = row[f"one_{m}"]
    for t in TOPICS:
        pre, post, gain = row[f"{t}_pre"], row[f"{t}_post"], row[f"{t}_gain"]
        matched = pre is not None and post is not None
        out[f"{t}_n"] = int(matched)
        out[f"{t}_pre"] = pre if matched else 0
        out[f"{t}_post"] = post if matched else 0
        out[f"{t}_d2"] = (post - pre) ** 2 if matched else 0
        out[f"{t}_gn"] = int(matched and gain is not None)
        out[f"{t}_gain"] = gain if matched and gain is not None else 0
    return out


def cube_sums(table: Any) -> list[Any]:
    """The SQL that sums summary rows into the columns of a cube (for a rebuild and the
    agreement test): the same arithmetic as ``contribution``."""
    s = participant_summary.c
    sums: list[Any] = [
        func.count().label("people"),
        func.sum(s.lead).label("couples"),
        func.sum(s.only_pre).label("only_pre"),
        func.sum(s.only_post).label("only_post"),
    ]
    sums += [func.sum(s[m]).label(f"n_{m}") for m in MILESTONES]
    sums += [func.sum(s[f"both_{m}"]).label(f"both_{m}") for m in MILESTONES]
    sums += [func.sum(s[f"one_{m}"]).label(f"one_{m}") for m in MILESTONES]
    for t in TOPICS:
        pre, post, gain = s[f"{t}_pre"], s[f"{t}_post"], s[f"{t}_gain"]
        # a topic's three columns are all set or all NULL, except gain (NULL at pre = 100 %)
        sums += [
            func.count(pre).label(f"{t}_n"),
            func.coalesce(func.sum(pre), 0).label(f"{t}_pre"),
            func.coalesce(func.sum(post), 0).label(f"{t}_post"),
            func.coalesce(func.sum((post - pre) * (post - pre)), 0).label(f"{t}_d2"),
            func.count(gain).label(f"{t}_gn"),
            func.coalesce(func.sum(gain), 0).label(f"{t}_gain"),
        ]
    assert [c.name for c in sums] == list(CUBE_COLUMNS)  # in the cubes' column order
    return sums


def cube_keys(table: Any) -> list[str]:
    return [c.name for c in table.primary_key.columns]


# ---------------------------------------------------------------- keeping it current


def _dialect_insert(session: Session, table: Any) -> Any:
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def _add_to_cells(session: Session, deltas: dict[tuple[Any, ...], dict[str, int]]) -> None:
    """Add each delta to its cell of both cubes (created at 0 when missing), in key order so
    that concurrent transactions take the rows' locks in the same order."""
    for table in (report_cohort, report_opd):
        keys = cube_keys(table)
        per_cell: dict[tuple[Any, ...], dict[str, int]] = {}
        for full_key, delta in deltas.items():
            key = tuple(dict(zip(CELL_KEYS, full_key, strict=True))[k] for k in keys)
            cell = per_cell.setdefault(key, dict.fromkeys(CUBE_COLUMNS, 0))
            for c, v in delta.items():
                cell[c] += v
        for key in sorted(per_cell, key=lambda k: tuple(str(v) for v in k)):
            delta = {c: v for c, v in per_cell[key].items() if v}
            if not delta:
                continue
            stmt = _dialect_insert(session, table).values(
                **dict(zip(keys, key, strict=True)), **dict.fromkeys(CUBE_COLUMNS, 0) | delta
            )
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=keys,
                    set_={c: table.c[c] + stmt.excluded[c] for c in delta},
                )
            )


def _cell_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["cohort_id"], row["organization_id"], row["couple_id"], row["role"])


_COUPLES: list[SummaryReader] = []


def _couples_reader() -> SummaryReader:
    """The refresh's reader: the participants of the couples ``:couple_ids``."""
    if not _COUPLES:
        _COUPLES.append(
            SummaryReader(
                select(col(User.id)).where(
                    col(User.couple_id).in_(bindparam("couple_ids", expanding=True)),
                    col(User.role) == Role.participant,
                )
            )
        )
    return _COUPLES[0]


# ids per ``… IN (…)``: well under SQLite's 32,766 bound parameters
_IN_CHUNK = 5000


def refresh(session: Session, *, users: Iterable[int] = (), couples: Iterable[int] = ()) -> int:
    """Recompute the summary of these participants' couples (and these couples), write the
    rows that changed and add their differences to the cubes. Returns the rows changed."""
    couple_ids = set(couples)
    user_ids = set(users)
    if user_ids:
        couple_ids |= set(
            session.execute(
                select(col(User.couple_id)).where(
                    col(User.id).in_(user_ids), col(User.couple_id).is_not(None)
                )
            ).scalars()
        )
    if not couple_ids and not user_ids:
        return 0
    # one refresh of a couple at a time (PostgreSQL; SQLite has one writer anyway): partners
    # acting at the same moment would otherwise both replace the couple's rows, and the later
    # one subtract what the first already replaced. Each statement after the lock sees what
    # the other committed (READ COMMITTED).
    session.execute(
        select(col(Couple.id))
        .where(col(Couple.id).in_(sorted(couple_ids)))
        .order_by(col(Couple.id))
        .with_for_update()
    ).all()
    bump_learning_version(session, couple_ids)
    # people who left a couple keep no row; everyone of the couples gets recomputed
    stale = user_ids | set(
        session.execute(
            select(participant_summary.c.user_id).where(
                participant_summary.c.couple_id.in_(couple_ids)
            )
        ).scalars()
    )
    new = _couples_reader().read(session, {"couple_ids": sorted(couple_ids)}) if couple_ids else {}
    everyone = stale | set(new)
    old = {
        r["user_id"]: dict(r)
        for r in session.execute(
            select(participant_summary).where(participant_summary.c.user_id.in_(everyone))
        ).mappings()
    }
    deltas: dict[tuple[Any, ...], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(CUBE_COLUMNS, 0)
    )
    gone: list[int] = []  # rows replaced or removed
    rows: list[dict[str, Any]] = []  # rows written
    changed = 0
    for uid in sorted(everyone):
        before, after = old.get(uid), new.get(uid)
        if before == after:
            continue
        changed += 1
        if before is not None:
            cell = deltas[_cell_key(before)]
            for c, v in contribution(before).items():
                cell[c] -= v
            gone.append(uid)
        if after is not None:
            cell = deltas[_cell_key(after)]
            for c, v in contribution(after).items():
                cell[c] += v
            rows.append(after)
    # a whole roster's rows in a few statements: one delete per chunk, one insert for all
    for i in range(0, len(gone), _IN_CHUNK):
        session.execute(
            delete(participant_summary).where(
                participant_summary.c.user_id.in_(gone[i : i + _IN_CHUNK])
            )
        )
    if rows:
        session.execute(insert(participant_summary), rows)
    _add_to_cells(session, _merge_couples(deltas))
    return changed


def _merge_couples(
    deltas: dict[tuple[Any, ...], dict[str, int]],
) -> dict[tuple[Any, ...], dict[str, int]]:
    """(cohort, organization, couple, role) → (cohort, organization, role)."""
    out: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(CUBE_COLUMNS, 0))
    for (cohort_id, organization_id, _couple, role), delta in deltas.items():
        cell = out[(cohort_id, organization_id, role)]
        for c, v in delta.items():
            cell[c] += v
    return out


def bump_learning_version(
    session: Session, couple_ids: Iterable[int] | None = None, *, of_users: Iterable[int] = ()
) -> None:
    """Raise the ``learning_version`` of these couples (or of these participants' couples;
    with neither, of every couple) in the transaction that changed their learning: what the
    facilitator's pages keep of them is read again."""
    statement = (
        update(Couple)
        .values(learning_version=col(Couple.learning_version) + 1)
        .execution_options(synchronize_session=False)
    )
    users = sorted(of_users)
    if users:
        couples = select(col(User.couple_id)).where(col(User.id).in_(users))
        session.execute(statement.where(col(Couple.id).in_(couples)))
    elif couple_ids is not None:
        ids = sorted(couple_ids)
        for i in range(0, len(ids), _IN_CHUNK):
            session.execute(statement.where(col(Couple.id).in_(ids[i : i + _IN_CHUNK])))
    else:
        session.execute(statement)


def rebuild(session: Session) -> int:
    """Recompute every participant's row and both cubes from the raw tables. Returns the
    number of participants."""
    bump_learning_version(session, None)
    session.execute(delete(report_opd))
    session.execute(delete(report_cohort))
    session.execute(delete(participant_summary))
    total = 0
    planner = _set_planner(session, _PG_PLANNER)
    for chunk in _couple_chunks(session):
        rows = summary_rows(session, users=chunk)
        if rows:
            _write_rows(session, rows.values())
            total += len(rows)
    _set_planner(session, planner)
    _sum_cubes(session)
    return total


def _couple_chunks(session: Session) -> Iterator[Select]:
    """``select(user ids)`` by ranges of couples, about ``BATCH`` participants each (on
    PostgreSQL ``_PG_BATCH``, see there; partners are never split: the couple's columns need
    both)."""
    couples = list(
        session.execute(
            select(col(User.couple_id))
            .where(col(User.role) == Role.participant, col(User.couple_id).is_not(None))
            .group_by(col(User.couple_id))
            .order_by(col(User.couple_id))
        ).scalars()
    )
    size = _PG_BATCH if session.get_bind().dialect.name == "postgresql" else BATCH
    step = max(1, size // 2)
    for i in range(0, len(couples), step):
        low, high = couples[i], couples[min(i + step, len(couples)) - 1]
        yield select(col(User.id)).where(
            col(User.role) == Role.participant,
            col(User.couple_id).between(low, high),
        )


def summary_is_built(session: Session) -> bool:
    """Whether the summary holds every participant who is in a couple."""
    have = session.execute(select(func.count()).select_from(participant_summary)).scalar_one()
    want = session.execute(
        select(func.count())
        .select_from(User)
        .where(col(User.role) == Role.participant, col(User.couple_id).is_not(None))
    ).scalar_one()
    return bool(have == want)


# ---------------------------------------------------------------- the transaction's hooks

# rows written through the ORM that can change a participant's summary
_USER_ROWS = (LessonProgress, QuizAttempt, Attendance, PledgeSignature, Certificate)


# rows that change only what the facilitator's pages show of a participant (the last
# activity, a quiz's extra attempts): their couple's version is raised, the summary is not
# recomputed
_SHOWN_ROWS = (CheckAnswer, ExtraAttempts)
_SHOWN_USERS = "learning_shown_users"


@event.listens_for(OrmSession, "after_flush")
def _notice(session: OrmSession, _context: Any) -> None:
    # a dirty row counts only with a net change (an attribute set to the value it had
    # makes a row dirty without changing it: a roster imported again changes nothing)
    dirty = [obj for obj in session.dirty if session.is_modified(obj, include_collections=False)]
    for obj in (*session.new, *dirty, *session.deleted):
        if isinstance(obj, _USER_ROWS):
            touch_learning(session, users=[obj.user_id])
        elif isinstance(obj, _SHOWN_ROWS):
            session.info.setdefault(_SHOWN_USERS, set()).add(obj.user_id)
        elif isinstance(obj, FamilyReflection):
            touch_learning(session, couples=[obj.couple_id])
        elif isinstance(obj, Couple) and obj.id is not None:
            touch_learning(session, couples=[obj.id])
        elif isinstance(obj, User) and obj.role == Role.participant and obj.id is not None:
            touch_learning(session, users=[obj.id])
            if obj.couple_id is not None:
                touch_learning(session, couples=[obj.couple_id])


@event.listens_for(OrmSession, "before_commit")
def _refresh_before_commit(session: OrmSession) -> None:
    info = session.info
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this hook: notice its rows now
    shown = info.pop(_SHOWN_USERS, set()) - info.get(TOUCHED_USERS, set())
    if shown and not info.get(TOUCHED_ALL):
        bump_learning_version(session, of_users=shown)  # type: ignore[arg-type]
    if not (info.get(TOUCHED_USERS) or info.get(TOUCHED_COUPLES) or info.get(TOUCHED_ALL)):
        return
    if info.pop(TOUCHED_ALL, False):
        info.pop(TOUCHED_USERS, None)
        info.pop(TOUCHED_COUPLES, None)
        rebuild(session)  # type: ignore[arg-type]
        session.flush()
        info.pop(TOUCHED_USERS, None)
        info.pop(TOUCHED_COUPLES, None)
        return
    while session.info.get(TOUCHED_USERS) or session.info.get(TOUCHED_COUPLES):
        users = session.info.pop(TOUCHED_USERS, set())
        couples = session.info.pop(TOUCHED_COUPLES, set())
        refresh(session, users=users, couples=couples)  # type: ignore[arg-type]
        session.flush()


@event.listens_for(OrmSession, "after_rollback")
def _forget(session: OrmSession) -> None:
    session.info.pop(_SHOWN_USERS, None)
    session.info.pop(TOUCHED_USERS, None)
    session.info.pop(TOUCHED_COUPLES, None)
    session.info.pop(TOUCHED_ALL, None)


# ---------------------------------------------------------------- proof


def summary_differences(session: Session, *, limit: int = 20) -> list[str]:
    """Where the kept summary and cubes differ from a recomputation from the raw tables
    (empty: they agree). For the tests and ``integritas report-summary check``."""
    problems: list[str] = []
    fresh = summary_rows(
        session,
        users=select(col(User.id)).where(
            col(User.role) == Role.participant, col(User.couple_id).is_not(None)
        ),
    )
    kept = {r["user_id"]: dict(r) for r in session.execute(select(participant_summary)).mappings()}
    for uid in sorted(set(fresh) | set(kept)):
        a, b = kept.get(uid), fresh.get(uid)
        if a != b:
            if a is None or b is None:
                problems.append(
                    f"participant {uid}: kept {a is not None}, recomputed {b is not None}"
                )
            else:
                cols = [c for c in b if a.get(c) != b[c]]
                problems.append(
                    f"participant {uid}: "
                    + ", ".join(f"{c} kept {a.get(c)} ≠ {b[c]}" for c in cols)
                )
    for table in (report_cohort, report_opd):
        keys = cube_keys(table)
        source = select(*(participant_summary.c[k] for k in keys), *cube_sums(table)).group_by(
            *(participant_summary.c[k] for k in keys)
        )
        sums = {tuple(r[k] for k in keys): dict(r) for r in session.execute(source).mappings()}
        cells = {
            tuple(r[k] for k in keys): dict(r) for r in session.execute(select(table)).mappings()
        }
        for key in sorted(set(sums) | set(cells), key=str):
            cell, summed = cells.get(key), sums.get(key)
            if summed is None:
                if cell is not None and any(cell[c] for c in CUBE_COLUMNS):
                    problems.append(f"{table.name} {key}: kept a cell nobody is in")
                continue
            if cell is None:
                problems.append(f"{table.name} {key}: missing")
                continue
            cols = [c for c in CUBE_COLUMNS if int(cell[c]) != int(summed[c] or 0)]
            if cols:
                problems.append(
                    f"{table.name} {key}: "
                    + ", ".join(f"{c} kept {cell[c]} ≠ {summed[c]}" for c in cols[:6])
                )
    return problems[:limit]


# ---------------------------------------------------------------- a rebuild's bulk writes

_PG_BATCH = 20_000
"""Participants per chunk of a rebuild on PostgreSQL. It plans the nested ``IN (select …)`` of
the selectors (``couple_complete``, ``participant_facts``) as hash joins over whole tables
(``user_account``, ``quiz_attempt`` scanned several times), so a chunk costs much the same
whatever its size. A rebuild at 100,000 couples took 140 s in chunks of 4,000 participants
(without ``_PG_PLANNER``); with it, 100 s in chunks of 20,000 (peak RSS 410 MB), 79 s in
chunks of 40,000 (730 MB). On SQLite each chunk is read through the indexes, and ``BATCH``
is as fast."""

_PG_PLANNER = {"jit": "off", "enable_mergejoin": "off"}
"""The planner's settings for a rebuild's chunks on PostgreSQL (for the rest of the
transaction only, then set back). The per-person scores (``person_scores``) were merge joins
that read ``attempt_item``'s index from its first row up to the chunk's last attempt, so the
later a chunk, the longer it took (about 3 s for the 4th chunk of 40,000 participants, 1.7 s
as a hash join); JIT compiling took 0.3 s of every large statement."""


def _set_planner(session: Session, settings: Mapping[str, str]) -> dict[str, str]:
    """PostgreSQL: these settings for the rest of the transaction (``set_config(…, true)``);
    returns the ones they replace. Elsewhere nothing."""
    if session.get_bind().dialect.name != "postgresql" or not settings:
        return {}
    before = {
        name: session.execute(select(func.current_setting(name))).scalar_one() for name in settings
    }
    for name, value in settings.items():
        session.execute(select(func.set_config(name, value, True)))
    return before


def _write_rows(session: Session, rows: Iterable[Row]) -> None:
    """Write summary rows as they are, in the driver's own bulk form (the values are already
    what the driver takes: integers, None and the role's text): ``COPY`` on PostgreSQL, one
    prepared ``INSERT`` run as an executemany on SQLite (SQLAlchemy's per-value processing of
    some 100 columns cost more than the insert itself); other databases: ``insert``."""
    conn = session.connection()
    dialect = conn.dialect
    names = [c.name for c in participant_summary.columns]
    values = [tuple(row[n] for n in names) for row in rows]
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    table = quote(participant_summary.name)
    if dialect.name == "postgresql":
        driver: Any = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as out:
            for v in values:
                out.write_row(v)
    elif dialect.name == "sqlite":
        marks = ", ".join("?" for _ in names)
        conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608
    else:
        conn.execute(
            insert(participant_summary), [dict(zip(names, v, strict=True)) for v in values]
        )


def _sum_cubes(session: Session) -> None:
    """``report_opd`` summed from the summary rows (``cube_sums``), then ``report_cohort``
    summed from ``report_opd``: every column is an integer sum over disjoint cells, so the
    sums of the sums are the sums of the rows, from some 100 times fewer rows."""
    keys = cube_keys(report_opd)
    source = select(*(participant_summary.c[k] for k in keys), *cube_sums(report_opd)).group_by(
        *(participant_summary.c[k] for k in keys)
    )
    session.execute(insert(report_opd).from_select([*keys, *CUBE_COLUMNS], source))
    keys = cube_keys(report_cohort)
    session.execute(
        insert(report_cohort).from_select(
            [*keys, *CUBE_COLUMNS],
            select(
                *(report_opd.c[k] for k in keys),
                *(func.sum(report_opd.c[c]).label(c) for c in CUBE_COLUMNS),
            ).group_by(*(report_opd.c[k] for k in keys)),
        )
    )
