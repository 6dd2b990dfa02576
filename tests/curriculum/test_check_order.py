"""Lesson checks show their choices in an order of the participant's own (a stored seed),
the same on every visit: the key is not always first, and partners do not see one order."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from app.accounts.models import User
from app.curriculum.models import Choice, Question
from app.quizzes.service import check_choices
from tests.conftest import complete, csrf_of, login, take_quiz
from tests.factories import make_cohort, make_couple

TODAY = date(2026, 3, 2)


@pytest.fixture
def couple(mini, settings, time_machine):
    time_machine.move_to("2026-03-02 03:00:00+00:00", tick=False)
    cohort = make_cohort(mini, "uji", workshop_start=TODAY + timedelta(days=7))
    official, spouse = make_couple(mini, settings, cohort, "tng26-001")
    with mini.write() as session:  # two fixed seeds: the test does not depend on chance
        for user, seed in ((official, 11), (spouse, 12)):
            session.execute(update(User).where(User.id == user.id).values(check_seed=seed))
    return official, spouse


def shown_order(client, lesson: str, question_id: int) -> list[int]:
    page = client.get(f"/learn/lessons/{lesson}").text
    form = re.search(rf'checks/{question_id}".*?</form>', page, re.S).group(0)
    return [int(v) for v in re.findall(r'name="choice" value="(\d+)"', form)]


def question(db, slug: str) -> tuple[int, list[int], int]:
    with db.read() as session:
        q = session.execute(select(Question).where(Question.slug == slug)).scalar_one()
        rows = session.execute(
            select(Choice.id, Choice.correct)
            .where(Choice.question_id == q.id)
            .order_by(Choice.position)
        ).all()
    return q.id, [r[0] for r in rows], next(r[0] for r in rows if r[1])


def reach_second_lesson(client, db, username: str) -> None:
    login(client, username, "kata-sandi-uji-123")
    take_quiz(client, db, "pre-test", right=False)
    assert complete(client, "awal").status_code == 303


def test_each_participant_sees_an_own_order_the_same_on_every_visit(make_client, couple, mini):
    qid, file_order, key = question(mini, "s-c-2")
    orders = []
    for username in ("tng26-001-a", "tng26-001-b"):
        client = make_client()
        reach_second_lesson(client, mini, username)
        first = shown_order(client, "kedua", qid)
        assert sorted(first) == sorted(file_order)  # every choice, once
        assert shown_order(client, "kedua", qid) == first  # a reload keeps it
        orders.append(first)
        # the answer is scored by the choice, wherever it stands
        page = client.get("/learn/lessons/kedua").text
        right = client.post(
            f"/learn/lessons/kedua/checks/{qid}", data={"choice": key, "csrf_token": csrf_of(page)}
        )
        assert "Tepat!" in right.text
        assert shown_order(client, "kedua", qid) == first  # and so does answering
    assert orders[0] != orders[1]


def test_the_order_follows_the_seed_and_true_false_keeps_benar_salah(mini):
    from app.curriculum.service import load_curriculum

    with mini.read() as session:
        curriculum = load_curriculum(session, 1)
    checks = [q for qs in curriculum.checks.values() for q in qs]
    single = next(q for q in checks if q.slug == "s-c-2")
    true_false = next(q for q in checks if q.type == "true_false")
    orders = {tuple(c["id"] for c in check_choices(single, seed)) for seed in range(40)}
    assert len(orders) > 12  # 4 choices: many of the 24 orders occur
    firsts = {order[0] for order in orders}
    assert firsts == {c["id"] for c in single.choices}  # the key is not always first
    assert check_choices(single, 7) == check_choices(single, 7)
    for seed in range(5):
        assert [c["text"]["id"] for c in check_choices(true_false, seed)] == ["Benar", "Salah"]


def test_a_check_kept_rendered_for_one_reader_carries_the_next_readers_own_token(
    make_client, couple, mini
):
    """A check is rendered once per answer state and kept (``app.web.Fragments``): a second
    reader in the same state (here the same order of choices) gets it with their own form
    token in every form, never the first reader's, and someone else's answer never shows."""
    official, spouse = couple
    with mini.write() as session:  # one order for both: both readers get the same kept part
        session.execute(update(User).where(User.id == spouse.id).values(check_seed=11))
    qid, _, key = question(mini, "s-c-2")
    first, second = make_client(), make_client()
    reach_second_lesson(first, mini, "tng26-001-a")
    page = first.get("/learn/lessons/kedua").text
    wrong = next(v for v in shown_order(first, "kedua", qid) if v != key)
    answered = first.post(
        f"/learn/lessons/kedua/checks/{qid}", data={"choice": wrong, "csrf_token": csrf_of(page)}
    )
    assert "Belum tepat" in answered.text
    first_token = csrf_of(page)

    reach_second_lesson(second, mini, "tng26-001-b")
    page = second.get("/learn/lessons/kedua").text
    form = re.search(rf'checks/{qid}".*?</form>', page, re.S).group(0)
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    assert tokens == {csrf_of(page)} and first_token not in page
    assert "Belum tepat" not in page  # not the first reader's answer
    assert "checked" not in form
    # the kept form works for its reader
    right = second.post(
        f"/learn/lessons/kedua/checks/{qid}", data={"choice": key, "csrf_token": csrf_of(page)}
    )
    assert right.status_code == 200 and "Tepat!" in right.text
    # and the first reader still sees their own wrong answer, with their own token
    again = first.get("/learn/lessons/kedua").text
    assert set(re.findall(r'name="csrf_token" value="([^"]+)"', again)) == {first_token}
    assert re.search(rf'value="{wrong}" checked', again)
