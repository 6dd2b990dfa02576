"""The curriculum files: the real ones hold the counts the program needs; broken ones are
reported with file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import cli
from app.config import ROOT
from app.curriculum.content import load_content

FIXTURE = Path(__file__).parent.parent / "fixtures" / "content"
VALUES = [
    "kejujuran",
    "kemandirian",
    "keadilan",
    "akuntabilitas",
    "transparansi",
    "profesionalisme",
    "integritas",
    "kerja-sama",
    "kepedulian",
]


def test_real_curriculum_is_valid_and_complete():
    content, problems = load_content(ROOT / "modules")
    assert problems == []
    assert [m.data.slug for m in content.modules] == [
        "nilai-integritas",
        "korupsi-sektor-keluarga",
        "waspada-pencucian-uang",
    ]
    assert [m.data.phase for m in content.modules] == ["before", "before", "after"]
    assert [v.slug for v in content.values] == VALUES
    lessons = content.lessons
    assert len(lessons) >= 15
    for lesson in lessons:
        assert 350 <= lesson.words <= 900, (lesson.file, lesson.words)
        assert lesson.meta.discussion and lesson.meta.sources
        assert lesson.body_en and lesson.title_en, f"{lesson.file} has no English version"
    for module in content.modules:
        assert len(module.quiz) >= 10, module.data.slug
        per_lesson = {lesson.meta.slug: 0 for lesson in module.lessons}
        for q in module.checks:
            per_lesson[q.data.lesson] += 1
        assert all(2 <= n <= 3 for n in per_lesson.values()), per_lesson
    assert len(content.prepost) >= 24
    assert {q.data.tags.module for q in content.prepost} == {m.data.slug for m in content.modules}
    assert {v for q in content.prepost for v in q.data.tags.values} == set(VALUES)
    every = [q for m in content.modules for q in (*m.checks, *m.quiz)] + content.prepost
    assert all(q.data.source and q.data.explanation.id for q in every)
    assert content.pledge is not None and len(content.pledge.points) >= 5
    assert len(content.glossary) >= 15, "the glossary explains the lesson words"


def test_module_one_teaches_the_nine_values_in_the_workshop_order():
    content, _ = load_content(ROOT / "modules")
    module = content.modules[0]
    # lessons 2–4 teach three values each, after the introduction
    taught = [v for lesson in module.lessons[1:4] for v in lesson.meta.values]
    order = [v for v in dict.fromkeys(taught) if v in VALUES]
    assert order == VALUES


def test_fixture_content_is_valid():
    content, problems = load_content(FIXTURE)
    assert problems == []
    assert len(content.lessons) == 3
    assert [t.term for t in content.glossary] == ["LHKPN", "Gratifikasi", "ASN"]


def _broken(tmp_path: Path, file: str, old: str, new: str) -> tuple[Path, int]:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    path = root / file
    text = path.read_text()
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return root, line


BROKEN = [
    ("01-satu/lessons/02-kedua.md", "slug: kedua", "slug: awal", "duplicate lesson slug 'awal'"),
    (
        "01-satu/checks.yaml",
        'text: {id: "Adil berarti…"}',
        'text: {en: "Fair means…"}',
        "text.id: Field required",
    ),
    (
        "01-satu/checks.yaml",
        "    - text: {id: sama rata selalu}\n",
        "    - text: {id: sama rata selalu}\n      correct: true\n",
        "exactly one correct choice, not 2",
    ),
    (
        "01-satu/quiz.yaml",
        "values: [kejujuran, keadilan]",
        "values: [kejujuran, kemewahan]",
        "unknown value tag 'kemewahan'",
    ),
    (
        "01-satu/lessons/01-awal.md",
        "(lesson:kedua)",
        "(lesson:tidak-ada)",
        "link to unknown lesson 'tidak-ada'",
    ),
    ("02-dua/quiz.yaml", "  type: single", "  type: [single", "YAML cannot be read"),
    (
        "01-satu/checks.yaml",
        '    - text: {id: Salah, en: "False"}',
        '    - text: {id: Keliru, en: "False"}',
        "exactly the choices Benar, Salah",
    ),
    (
        "02-dua/lessons/01-ketiga.md",
        "phase: after",
        "phase: before",
        "differs from its module's phase",
    ),
    (
        "pre-post.yaml",
        "tags: {module: dua, values: [kejujuran]}",
        "tags: {module: tiga, values: [kejujuran]}",
        "unknown module tag 'tiga'",
    ),
    (
        "01-satu/lessons/02-kedua.md",
        "minutes: 4",
        "minutes: empat",
        "minutes: Input should be a valid integer",
    ),
    ("glossary.yaml", "  - term: ASN", "  - term: lhkpn", "duplicate glossary term 'lhkpn'"),
    (
        "glossary.yaml",
        '      id: "Pemberian dalam arti luas kepada pejabat."\n',
        "",
        "terms.1.text.id: Field required",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "message"), BROKEN)
def test_broken_content_is_reported_with_file_and_line(tmp_path, file, old, new, message):
    root, line = _broken(tmp_path, file, old, new)
    _, problems = load_content(root)
    rendered = [str(p) for p in problems]
    matching = [p for p in rendered if message in p]
    assert matching, rendered
    assert any(p.startswith(f"content/{file}:") for p in matching), matching
    numbers = [int(m.group(1)) for p in matching if (m := re.match(r"[^:]+:(\d+):", p))]
    # the problem points at the changed line or next to it (the key above, the line where
    # the YAML parser noticed)
    assert any(abs(line - n) <= 3 for n in numbers), (numbers, line)


def test_content_check_command_fails_on_broken_content(tmp_path):
    root, _ = _broken(tmp_path, *BROKEN[0][:3])
    result = CliRunner().invoke(cli.app, ["content", "check", str(root)])
    assert result.exit_code == 1
    assert "duplicate lesson slug 'awal'" in result.output
    assert "problem(s) found" in result.output


def test_content_check_command_passes_on_modules():
    result = CliRunner().invoke(cli.app, ["content", "check", str(ROOT / "modules")])
    assert result.exit_code == 0, result.output
    assert "Content is valid" in result.output


def test_missing_folder_is_a_clear_problem(tmp_path):
    _, problems = load_content(tmp_path / "nowhere")
    assert "does not exist" in str(problems[0])
