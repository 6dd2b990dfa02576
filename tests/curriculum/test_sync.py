"""``content sync``: upsert by slug, versions, revisions, refusal to drop completed lessons."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app import cli
from app.curriculum.content import load_content
from app.curriculum.models import Choice, ContentVersion, Lesson, LessonProgress, Question, Quiz
from app.curriculum.sync import SyncRefused, sync_content
from tests.conftest import FIXTURE_CONTENT
from tests.factories import make_cohort, make_couple


def load(root: Path):
    content, problems = load_content(root)
    assert problems == []
    return content


@pytest.fixture
def copy(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_first_sync_loads_everything_rendered_once(db, copy):
    report = sync_content(db, load(copy))
    assert report.changed and report.version == 1
    assert report.counts["lessons_added"] == 3 and report.counts["questions_added"] == 7
    with db.read() as session:
        lesson = session.execute(select(Lesson).where(Lesson.slug == "awal")).scalar_one()
        assert '<a href="/learn/lessons/kedua"' in lesson.html["id"]
        assert "<strong>lurus hati</strong>" in lesson.html["id"]
        assert lesson.title == {"id": "Pelajaran awal", "en": "First lesson"}
        kedua = session.execute(select(Lesson).where(Lesson.slug == "kedua")).scalar_one()
        assert "<script>" not in kedua.html["id"]
        quizzes = set(session.execute(select(Quiz.slug)).scalars())
        assert quizzes == {"kuis-satu", "kuis-dua", "pre-test", "post-test"}


def test_second_sync_without_changes_records_nothing(db, copy):
    sync_content(db, load(copy))
    again = sync_content(db, load(copy))
    assert not again.changed and "unchanged" in str(again)
    with db.read() as session:
        assert session.query(ContentVersion).count() == 1


def test_editing_a_question_keeps_the_old_revision(db, copy):
    sync_content(db, load(copy))
    with db.read() as session:
        old = session.execute(select(Question).where(Question.slug == "s-c-2")).scalar_one()
    edit(copy / "01-satu/checks.yaml", "Adil berarti…", "Keadilan berarti…")
    report = sync_content(db, load(copy))
    assert report.version == 2 and report.counts["questions_revised"] == 1
    with db.read() as session:
        rows = (
            session.execute(
                select(Question).where(Question.slug == "s-c-2").order_by(Question.revision)
            )
            .scalars()
            .all()
        )
        assert [(r.revision, r.current) for r in rows] == [(1, False), (2, True)]
        assert rows[0].text["id"] == "Adil berarti…"  # the past stays as it was given
        assert session.query(Choice).filter_by(question_id=old.id).count() == 4


def test_removing_a_completed_lesson_is_refused_unless_forced(db, copy, settings):
    sync_content(db, load(copy))
    cohort = make_cohort(db, "uji")
    official, _ = make_couple(db, settings, cohort, "x1")
    with db.write() as session:
        lesson = session.execute(select(Lesson).where(Lesson.slug == "ketiga")).scalar_one()
        session.add(
            LessonProgress(
                user_id=official.id, lesson_id=lesson.id, completed_at=lesson_completed()
            )
        )
    (copy / "02-dua/lessons/01-ketiga.md").unlink()
    (copy / "02-dua/checks.yaml").write_text("[]\n")
    (copy / "02-dua/lessons/01-baru.md").write_text(
        (FIXTURE_CONTENT / "02-dua/lessons/01-ketiga.md")
        .read_text()
        .replace("slug: ketiga", "slug: baru")
    )
    with pytest.raises(SyncRefused, match=r"ketiga \(1 completed\).*--force"):
        sync_content(db, load(copy))
    with db.read() as session:  # nothing half-written
        assert session.query(ContentVersion).count() == 1
        assert session.query(Lesson).filter_by(slug="baru").count() == 0
    report = sync_content(db, load(copy), force=True)
    assert report.counts["lessons_removed"] == 1
    with db.read() as session:
        gone = session.execute(select(Lesson).where(Lesson.slug == "ketiga")).scalar_one()
        assert gone.active is False
        assert session.query(LessonProgress).count() == 1  # history kept


def lesson_completed():
    from datetime import UTC, datetime

    return datetime(2026, 1, 5, tzinfo=UTC)


def test_sync_command_refuses_invalid_content(tmp_path, copy, settings, db, monkeypatch):
    edit(copy / "01-satu/module.yaml", "phase: before", "phase: sometime")
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli, "_database", lambda: db)
    result = CliRunner().invoke(cli.app, ["content", "sync", str(copy)])
    assert result.exit_code == 1
    assert "module.yaml:2" in result.output and "nothing was synced" in result.output
    with db.read() as session:
        assert session.query(ContentVersion).count() == 0


def test_real_curriculum_syncs(db):
    from tests.conftest import real_content

    report = sync_content(db, real_content())
    assert report.changed
    with db.read() as session:
        assert session.query(Lesson).count() >= 15
        for html in session.execute(select(Lesson.html)).scalars():
            assert "<script" not in html["id"] and "lesson:" not in html["id"]
