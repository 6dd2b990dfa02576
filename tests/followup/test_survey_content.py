"""The survey file is validated like the rest of the content: each problem names the file and
line; the real file passes; a sync keeps it with the content version."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.curriculum.content import load_content
from app.followup.service import survey_text
from tests.conftest import FIXTURE_CONTENT

ROOT = Path(__file__).resolve().parents[2]


def _edited(tmp_path, change) -> list[str]:
    root = tmp_path / "content"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(FIXTURE_CONTENT, root)
    path = root / "survey.yaml"
    path.write_text(change(path.read_text("utf-8")), "utf-8")
    _, problems = load_content(root)
    return [str(p) for p in problems]


def test_the_real_survey_is_valid_and_bilingual():
    content, problems = load_content(ROOT / "modules")
    assert problems == []
    survey = content.survey
    assert survey is not None
    likert = [i for i in survey.items if i.kind == "likert"]
    assert len(likert) == 8
    topics = {i.topic for i in likert}
    assert topics == {"materials", "facilitators", "method", "venue", "usefulness"}
    assert [i.slug for i in survey.items if i.kind == "choice"] == ["rekomendasi"]
    assert sum(i.kind == "open" for i in survey.items) == 2
    assert all(i.text.id and i.text.en for i in survey.items)


def test_a_survey_problem_names_the_file_and_the_line(tmp_path):
    # an English text missing
    lines = (FIXTURE_CONTENT / "survey.yaml").read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if "Materi pelajaran jelas" in line) + 1
    texts = _edited(
        tmp_path,
        lambda text: (
            "\n".join(line for n, line in enumerate(text.splitlines(), 1) if n != at + 1) + "\n"
        ),
    )
    assert any(t.startswith("content/survey.yaml:") and "en: Field required" in t for t in texts), (
        texts
    )


def test_a_choice_needs_options_and_a_kind_must_be_known(tmp_path):
    texts = _edited(tmp_path, lambda t: t.replace("kind: choice", "kind: likert", 1))
    assert any("survey.yaml" in t and "a likert item has no options" in t for t in texts), texts
    texts = _edited(tmp_path, lambda t: t.replace("kind: open", "kind: essay", 1))
    assert any("survey.yaml" in t and "kind" in t for t in texts), texts
    texts = _edited(tmp_path, lambda t: t.replace("slug: materi-sesuai", "slug: materi-jelas"))
    assert any("two items have the same slug" in t for t in texts), texts


def test_the_survey_file_is_required(tmp_path):
    texts = _edited(tmp_path, lambda t: t)
    assert texts == []
    (tmp_path / "content" / "survey.yaml").unlink()
    _, problems = load_content(tmp_path / "content")
    assert "content/survey.yaml: file is missing" in [str(p) for p in problems]


def test_a_sync_keeps_the_survey_with_the_content_version(mini):
    with mini.read() as session:
        survey = survey_text(session)
    assert survey is not None and survey["version"] == 1
    assert survey["items"][0]["slug"] == "materi-jelas"
