"""``integritas content sync``: upsert the curriculum files into the database by stable slug.

- A new content version is recorded whenever anything changed.
- Lesson Markdown is rendered and sanitized here, once per change, never per request.
- A question whose text changed gets a new revision; the old one stays for past attempts.
- Removing a lesson someone completed is refused unless forced (it is then hidden, not deleted).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app.config import Settings
from app.curriculum.content import Content, LessonDoc, QuestionDoc
from app.curriculum.models import (
    Choice,
    ContentVersion,
    IntegrityValue,
    Lesson,
    LessonProgress,
    Module,
    Question,
    QuestionValue,
    Quiz,
)
from app.curriculum.render import render_markdown
from app.db import Database, saved_id, touch_learning, utcnow
from app.privacy.service import NoticeChanged, notice_publish


class SyncRefused(RuntimeError):
    pass


@dataclass
class SyncReport:
    version: int
    changed: bool
    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.changed:
            return f"Content unchanged (version {self.version})."
        parts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in self.counts.items() if v)
        return f"Content version {self.version} recorded. {parts or 'No row changed.'}"


def _digest(payload: object) -> str:
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


def _bi(text) -> dict:
    return {k: v for k, v in text.model_dump().items() if v}


def _lesson_payload(doc: LessonDoc) -> dict:
    return {
        "meta": doc.meta.model_dump(),
        "body": doc.body,
        "title_en": doc.title_en,
        "body_en": doc.body_en,
    }


def sync_content(
    db: Database, content: Content, *, force: bool = False, settings: Settings | None = None
) -> SyncReport:
    """Load the content into the database by stable slug; module quizzes get the pass mark
    and attempt count of the settings (``APP_PASS_MARK``, ``APP_MODULE_QUIZ_ATTEMPTS``)."""
    policy = settings or Settings()
    digest = content.digest()
    with db.write() as session:
        latest = session.execute(
            select(ContentVersion).order_by(col(ContentVersion.id).desc()).limit(1)
        ).scalar_one_or_none()
        if latest is not None and latest.digest == digest:
            return SyncReport(version=latest.id, changed=False)
        counts = dict.fromkeys(
            [
                "lessons_added",
                "lessons_changed",
                "lessons_removed",
                "questions_added",
                "questions_revised",
                "questions_retired",
            ],
            0,
        )
        version = ContentVersion(digest=digest)
        session.add(version)
        session.flush()
        version_id = saved_id(version)
        _sync_values(session, content)
        modules = _sync_modules(session, content)
        lessons = _sync_lessons(session, content, modules, version_id, counts, force)
        _sync_quizzes(session, content, modules, policy)
        _sync_questions(session, content, modules, lessons, counts)
        if content.privacy is not None:
            counts["privacy_notice"] = _sync_privacy(session, content)
        version.summary = {
            "counts": counts,
            "pledge": content.pledge.model_dump() if content.pledge else None,
            "glossary": [t.model_dump() for t in content.glossary],
            "survey": content.survey.model_dump() if content.survey else None,
        }
        touch_learning(session, everyone=True)
        return SyncReport(version=version_id, changed=True, counts=counts)


def _sync_privacy(session: Session, content: Content) -> int:
    """Publish the privacy notice's version (1 when it is new, 0 when it was published)."""
    assert content.privacy is not None
    notice = content.privacy
    try:
        return int(
            notice_publish(
                session,
                version=notice.version,
                effective=notice.effective,
                text=notice.model_dump(mode="json", exclude={"version", "effective"}),
                now=utcnow(),
            )
        )
    except NoticeChanged as exc:
        raise SyncRefused(str(exc)) from exc


def _sync_values(session: Session, content: Content) -> None:
    existing = {v.slug: v for v in session.execute(select(IntegrityValue)).scalars()}
    for position, value in enumerate(content.values, 1):
        row = existing.get(value.slug) or IntegrityValue(
            slug=value.slug, position=position, title={}
        )
        row.position, row.title, row.kpk = position, _bi(value.title), value.kpk
        session.add(row)
    session.flush()


def _sync_modules(session: Session, content: Content) -> dict[str, Module]:
    existing = {m.slug: m for m in session.execute(select(Module)).scalars()}
    seen = set()
    for position, doc in enumerate(content.modules, 1):
        d = doc.data
        row = existing.get(d.slug) or Module(
            slug=d.slug, position=position, phase=d.phase, title={}, summary={}, discussion=[]
        )
        row.position, row.phase, row.active = position, d.phase, True
        row.title, row.summary = _bi(d.title), _bi(d.summary)
        row.discussion = [_bi(t) for t in d.discussion]
        session.add(row)
        existing[d.slug] = row
        seen.add(d.slug)
    for slug, row in existing.items():
        if slug not in seen:
            row.active = False
    session.flush()
    return existing


def _sync_lessons(
    session: Session,
    content: Content,
    modules: dict[str, Module],
    version_id: int,
    counts: dict,
    force: bool,
) -> dict[str, Lesson]:
    existing = {row.slug: row for row in session.execute(select(Lesson)).scalars()}
    wanted = {doc.meta.slug for doc in content.lessons}
    removed = [row for slug, row in existing.items() if slug not in wanted and row.active]
    if removed and not force:
        completed = dict(
            session.execute(
                select(col(Lesson.slug), func.count(col(LessonProgress.id)))
                .join(LessonProgress, col(LessonProgress.lesson_id) == Lesson.id)
                .where(
                    col(Lesson.id).in_([r.id for r in removed]),
                    col(LessonProgress.completed_at).is_not(None),
                )
                .group_by(col(Lesson.slug))
            ).all()
        )
        if completed:
            names = ", ".join(f"{slug} ({n} completed)" for slug, n in sorted(completed.items()))
            raise SyncRefused(
                f"Refusing to remove lessons that participants have completed: {names}. "
                "Put them back, or run again with --force to hide them (their history is kept)."
            )
    for row in removed:
        row.active = False
        counts["lessons_removed"] += 1
    for m in content.modules:
        module = modules[m.data.slug]
        for position, doc in enumerate(m.lessons, 1):
            digest = _digest(_lesson_payload(doc))
            row = existing.get(doc.meta.slug)
            if row is None:
                row = Lesson(
                    slug=doc.meta.slug,
                    module_id=saved_id(module),
                    position=position,
                    phase=doc.meta.phase,
                    minutes=doc.meta.minutes,
                    title={},
                    html={},
                    values=[],
                    sources=[],
                    discussion=[],
                    digest="",
                    content_version_id=version_id,
                )
                counts["lessons_added"] += 1
            elif row.digest != digest:
                counts["lessons_changed"] += 1
            if row.digest != digest:
                html = {"id": render_markdown(doc.body)}
                if doc.body_en:
                    html["en"] = render_markdown(doc.body_en)
                row.html = html
                row.title = {"id": doc.meta.title, **({"en": doc.title_en} if doc.title_en else {})}
                row.values = list(doc.meta.values)
                row.sources = list(doc.meta.sources)
                row.discussion = [_bi(t) for t in doc.meta.discussion]
                row.minutes, row.phase, row.words = doc.meta.minutes, doc.meta.phase, doc.words
                row.digest = digest
                row.content_version_id = version_id
            row.module_id, row.position, row.active = module.id, position, True
            session.add(row)
            existing[doc.meta.slug] = row
    session.flush()
    return existing


def _sync_quizzes(
    session: Session, content: Content, modules: dict[str, Module], policy: Settings
) -> None:
    existing = {q.slug: q for q in session.execute(select(Quiz)).scalars()}
    wanted = [
        (m.data.quiz.slug, "module", modules[m.data.slug].id, _bi(m.data.quiz.title))
        for m in content.modules
    ]
    wanted += [("pre-test", "pre", None, {}), ("post-test", "post", None, {})]
    for slug, kind, module_id, title in wanted:
        row = existing.get(slug) or Quiz(slug=slug, kind=kind, title={})
        row.kind, row.module_id, row.title = kind, module_id, title
        row.max_attempts = policy.module_quiz_attempts if kind == "module" else 1
        row.pass_mark = policy.pass_mark
        session.add(row)
    session.flush()


def _question_payload(doc: QuestionDoc, pool: str) -> dict:
    return {"pool": pool, **doc.data.wording()}


def _sync_questions(
    session: Session,
    content: Content,
    modules: dict[str, Module],
    lessons: dict[str, Lesson],
    counts: dict,
) -> None:
    current = {
        q.slug: q
        for q in session.execute(select(Question).where(col(Question.current).is_(True))).scalars()
    }
    items: list[tuple[QuestionDoc, str]] = []
    for m in content.modules:
        items += [(q, "check") for q in m.checks] + [(q, "quiz") for q in m.quiz]
    items += [(q, "prepost") for q in content.prepost]
    seen = set()
    positions: dict[tuple, int] = {}
    for doc, pool in items:
        d = doc.data
        seen.add(d.slug)
        key = (pool, d.lesson if pool == "check" else d.tags.module)
        positions[key] = positions.get(key, 0) + 1
        digest = _digest(_question_payload(doc, pool))
        row = current.get(d.slug)
        lesson_id = lessons[d.lesson].id if pool == "check" and d.lesson else None
        module_id = saved_id(modules[d.tags.module])
        if row is not None and row.digest == digest:
            row.position = positions[key]
            continue
        revision = 1
        if row is not None:
            row.current = False
            revision = row.revision + 1
            counts["questions_revised"] += 1
        else:
            previous = session.execute(
                select(func.max(col(Question.revision))).where(col(Question.slug) == d.slug)
            ).scalar()
            revision = (previous or 0) + 1
            counts["questions_added"] += 1
        new = Question(
            slug=d.slug,
            revision=revision,
            current=True,
            pool=pool,
            lesson_id=lesson_id,
            module_id=module_id,
            position=positions[key],
            type=d.type,
            text=_bi(d.text),
            explanation=_bi(d.explanation),
            source=d.source,
            digest=digest,
        )
        session.add(new)
        session.flush()
        new_id = saved_id(new)
        session.add_all(
            Choice(
                question_id=new_id,
                position=i,
                text=_bi(c.text),
                feedback=_bi(c.feedback),
                correct=c.correct,
            )
            for i, c in enumerate(d.choices, 1)
        )
        session.add_all(
            QuestionValue(question_id=new_id, value_slug=v) for v in dict.fromkeys(d.tags.values)
        )
    retired = [slug for slug in current if slug not in seen]
    if retired:
        session.execute(
            update(Question)
            .where(col(Question.slug).in_(retired), col(Question.current).is_(True))
            .values(current=False)
        )
        counts["questions_retired"] += len(retired)
    session.flush()
