"""The learning path on the small fixture curriculum: order, phases, partner progress."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.curriculum.models import LessonProgress
from tests.conftest import complete, csrf_of, login, post_form, take_quiz
from tests.factories import make_cohort, make_couple, make_user

TODAY = date(2026, 3, 2)


@pytest.fixture
def couple(mini, settings, time_machine):
    time_machine.move_to("2026-03-02 03:00:00+00:00", tick=False)
    cohort = make_cohort(mini, "uji", workshop_start=TODAY + timedelta(days=7))
    return make_couple(mini, settings, cohort, "tng26-001")


def start(client, db, username="tng26-001-a"):
    """Sign in and take the pre-test, which comes before the first lesson."""
    login(client, username, "kata-sandi-uji-123")
    assert take_quiz(client, db, "pre-test", right=False).status_code == 303


def test_the_pre_test_comes_before_the_first_lesson(client, couple, mini):
    login(client, "tng26-001-a", "kata-sandi-uji-123")
    page = client.get("/learn").text
    assert 'href="/learn/quizzes/pre-test"' in page
    assert 'href="/learn/lessons/awal"' not in page
    locked = client.get("/learn/lessons/awal")
    assert locked.status_code == 403 and "Kerjakan tes awal dulu" in locked.text
    take_quiz(client, mini, "pre-test", right=False)
    assert client.get("/learn/lessons/awal").status_code == 200


def test_a_new_participant_sees_the_map_with_only_the_first_lesson_open(client, couple, mini):
    start(client, mini)
    page = client.get("/learn")
    assert page.status_code == 200
    text = page.text
    assert "Modul Satu" in text and "Modul Dua" in text
    assert 'href="/learn/lessons/awal"' in text
    assert 'href="/learn/lessons/kedua"' not in text  # locked: no link
    assert "Terkunci" in text
    assert "Mulai dari sini" in text and "Pelajaran awal" in text
    assert "0 dari 3 pelajaran" in text


def test_before_the_pre_test_the_map_and_a_locked_lesson_point_to_it(client, couple, mini):
    login(client, "tng26-001-a", "kata-sandi-uji-123")
    text = client.get("/learn").text
    assert "Langkah berikutnya" in text
    assert 'href="/learn/quizzes/pre-test">Mulai tes awal' in text
    assert "Pelajaran berikutnya terbuka setelah lokakarya" not in text  # the pre-test is first
    assert text.count("Kerjakan tes awal dulu") == 3  # once per module, and once up top
    locked = client.get("/learn/lessons/awal")
    assert locked.status_code == 403
    assert 'href="/learn/quizzes/pre-test"' in locked.text


def test_locked_lesson_fetched_directly_is_403_saying_what_opens_it(client, couple, mini):
    start(client, mini)
    response = client.get("/learn/lessons/kedua")
    assert response.status_code == 403
    assert "Pelajaran ini belum terbuka" in response.text
    assert "Pelajaran awal" in response.text  # what opens it
    post = client.post(
        "/learn/lessons/kedua/complete", data={"csrf_token": csrf_of(client.get("/learn").text)}
    )
    assert post.status_code == 403


def test_completing_in_order_with_plain_forms(client, couple, mini):
    start(client, mini)
    response = complete(client, "awal")
    assert response.status_code == 303
    assert response.headers["location"] == "/learn/lessons/kedua"
    lesson = client.get("/learn/lessons/kedua")
    assert lesson.status_code == 200
    assert "<script>" not in lesson.text.split("<main", 1)[1]  # sanitized at sync
    again = complete(client, "awal")  # idempotent
    assert again.status_code == 303
    with mini.read() as session:
        assert session.query(LessonProgress).count() == 1


def test_completing_with_htmx_returns_a_fragment(client, couple, mini):
    start(client, mini)
    response = complete(client, "awal", htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="complete-box"' in response.text
    assert 'href="/learn/lessons/kedua"' in response.text
    assert 'hx-swap-oob="true"' in response.text and 'value="1"' in response.text


def test_after_lessons_open_only_when_the_workshop_is_over(client, couple, time_machine, mini):
    start(client, mini)
    complete(client, "awal")
    complete(client, "kedua")
    assert take_quiz(client, mini, "kuis-satu").status_code == 303
    response = client.get("/learn/lessons/ketiga")
    assert response.status_code == 403
    assert "setelah lokakarya" in response.text
    assert "11 Maret 2026" in response.text  # the day after the workshop's last day
    time_machine.move_to("2026-03-10 16:59:00+00:00", tick=False)  # 23:59 WIB, last day
    assert client.get("/learn/lessons/ketiga").status_code == 403
    time_machine.move_to("2026-03-10 17:00:00+00:00", tick=False)  # 00:00 WIB next day
    assert client.get("/learn/lessons/ketiga").status_code == 200


def test_before_lessons_stay_open_after_the_workshop_and_are_marked_late(
    client, couple, time_machine, mini
):
    time_machine.move_to("2026-03-20 03:00:00+00:00", tick=False)
    start(client, mini)
    assert client.get("/learn/lessons/awal").status_code == 200
    complete(client, "awal")
    page = client.get("/learn")
    assert "Selesai terlambat" in page.text


def test_partner_progress_shows_beside_ones_own(make_client, couple, mini):
    official, spouse = make_client(), make_client()
    start(official, mini)
    start(spouse, mini, "tng26-001-b")
    complete(spouse, "awal")
    page = official.get("/learn").text
    assert "tng26-001 b" in page  # the partner's name
    assert "1 dari 3 pelajaran" in page  # the partner's bar
    assert "0 dari 3 pelajaran" in page  # one's own


def test_one_participant_cannot_complete_for_another(make_client, couple, mini):
    a, b = couple
    official = make_client()
    start(official, mini)
    complete(official, "awal")
    with mini.read() as session:
        rows = session.query(LessonProgress).all()
    assert [r.user_id for r in rows] == [a.id]
    # another couple's participant sees nothing of theirs either
    spouse = make_client()
    start(spouse, mini, "tng26-001-b")
    assert spouse.get("/learn/lessons/kedua").status_code == 403


def test_staff_and_participants_without_couple_are_refused(client, mini, settings):
    make_user(mini, settings, "fasi", "facilitator")
    login(client, "fasi", "kata-sandi-uji-123")
    assert client.get("/learn").status_code == 403
    assert client.get("/learn/lessons/awal").status_code == 403


def test_unknown_lesson_is_404(client, couple, mini):
    start(client, mini)
    assert client.get("/learn/lessons/tidak-ada").status_code == 404


def test_english_reader_gets_the_english_lesson(client, couple, mini):
    start(client, mini)
    page = client.get("/learn")
    client.post(
        "/language", data={"locale": "en", "next": "/learn", "csrf_token": csrf_of(page.text)}
    )
    lesson = client.get("/learn/lessons/awal").text
    assert "First lesson" in lesson and "Honesty means" in lesson
    second = client.get("/learn")
    assert "Module One" in second.text


def test_lesson_page_runs_few_queries_and_renders_no_markdown(
    client, couple, count_queries, monkeypatch, mini, settings
):
    import markdown_it

    # many other participants with progress must not change the count
    cohort = make_cohort(mini, "lain")
    for n in range(5):
        make_couple(mini, settings, cohort, f"lain-{n}")
    start(client, mini)

    def no_render(*args, **kwargs):
        raise AssertionError("Markdown rendered during a request")

    monkeypatch.setattr(markdown_it.MarkdownIt, "render", no_render)
    with count_queries() as counter:
        response = client.get("/learn/lessons/awal")
    assert response.status_code == 200
    # session, couple, content version, completions, attempts, check answers
    assert counter.count <= 6, counter.statements
    with count_queries() as counter:
        assert client.get("/learn").status_code == 200
    assert counter.count <= 5, counter.statements


def test_glossary_explains_the_lesson_words_in_the_reader_language(client, couple, mini):
    assert client.get("/learn/glossary", follow_redirects=False).status_code == 303  # sign in
    start(client, mini)
    lesson = client.get("/learn/lessons/awal").text
    assert 'href="/learn/glossary">Lihat kamus istilah' in lesson
    page = client.get("/learn/glossary")
    assert page.status_code == 200
    text = page.text
    # alphabetical, grouped by letter, with the source where one is given
    assert text.index("<dt") < text.index(">ASN<") < text.index(">Gratifikasi<")
    assert text.index(">Gratifikasi<") < text.index(">LHKPN<")
    assert 'href="#huruf-A"' in text and 'href="#huruf-L"' in text
    assert "daftar harta pejabat untuk KPK" in text and "Sumber: UU 28/1999" in text
    post_form(client, "/language", {"locale": "en", "next": "/learn/glossary"}, page="/learn")
    english = client.get("/learn/glossary").text
    assert "the list of an official&#39;s assets for KPK" in english
    assert "Aparatur Sipil Negara: pegawai pemerintah." in english  # no English: Indonesian


def test_glossary_changes_make_a_new_content_version(mini, tmp_path):
    import shutil

    from app.curriculum.content import load_content
    from app.curriculum.service import glossary_terms
    from app.curriculum.sync import sync_content
    from tests.conftest import FIXTURE_CONTENT

    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    path = root / "glossary.yaml"
    path.write_text(path.read_text().replace("pegawai pemerintah", "pegawai negeri dan PPPK"))
    content, problems = load_content(root)
    assert problems == []
    report = sync_content(mini, content)
    assert report.changed
    with mini.read() as session:
        asn = next(t for t in glossary_terms(session) if t["term"] == "ASN")
    assert asn["text"]["id"] == "Aparatur Sipil Negara: pegawai negeri dan PPPK."


def test_the_lesson_body_kept_between_requests_follows_the_locale_and_a_content_sync(
    client, couple, mini, tmp_path
):
    """The lesson's body is rendered once per lesson, content version and locale and kept:
    each language still gets its own text, and a content sync shows the new text at once."""
    import shutil

    from app.curriculum.content import load_content
    from app.curriculum.sync import sync_content
    from tests.conftest import FIXTURE_CONTENT

    start(client, mini)
    kept = client.app.state.templates.globals["fragment"]
    before = len(kept)
    assert "Jujur berarti <strong>" in client.get("/learn/lessons/awal").text
    after_first = len(kept)
    assert after_first > before
    assert "Jujur berarti <strong>" in client.get("/learn/lessons/awal").text
    assert len(kept) == after_first  # the second view reused the first one's parts
    post_form(client, "/language", {"locale": "en", "next": "/learn"}, page="/learn")
    english = client.get("/learn/lessons/awal").text
    assert "Honesty means" in english and "Jujur berarti <strong>" not in english
    post_form(client, "/language", {"locale": "id", "next": "/learn"}, page="/learn")

    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    path = root / "01-satu" / "lessons" / "01-awal.md"
    path.write_text(path.read_text().replace("Jujur berarti **", "Kejujuran artinya **"))
    content, problems = load_content(root)
    assert problems == []
    assert sync_content(mini, content).changed
    page = client.get("/learn/lessons/awal").text
    assert "Kejujuran artinya <strong>" in page and "Jujur berarti <strong>" not in page
