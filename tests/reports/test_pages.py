"""The KPK pages over HTTP: the dashboard ``/kpk`` and a cohort's page, on a small world built
by hand through the learning flows (fixture curriculum: two modules, module 2 after the
workshop), with the figures a KPK analyst sees — small groups shown as "< 5", their complements
hidden too, a filter that singles people out refused — and who may open them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts.models import User
from app.config import ROOT, Settings
from app.db import Database, make_engine, metadata
from app.i18n import translations
from app.main import create_app
from app.reports.service import Comparison, ViewCheck
from app.reports.suppression import SUBSET_MESSAGES, SubsetProblem
from app.reports.views import Page, comparison_page, parse_page
from tests.conftest import SECRET, complete, fixture_content, login, post_form, take_quiz
from tests.factories import PASSWORD, make_cohort, make_couple, make_user

START = "2026-03-02 03:00:00+00:00"  # 10:00 WIB, a week before the workshop of "besar"
AFTER = "2026-03-11 03:00:00+00:00"  # the day after it: the post-test is open

# distinctive personal data that must never reach a KPK page or export
NAMES = {"bsr-001-a": "Wiratmaja Sukmawati", "bsr-001-b": "Kusumaningrum Hadiprojo"}
CONTACTS = ("+6281299887766", "sukmawati.wiratmaja@contoh.id")
# pre-test and post-test scores (two items: 0, 50 or 100 %) of the five who take both
SCORES = {
    "bsr-001-a": (False, True),
    "bsr-001-b": (0.5, True),
    "bsr-002-a": (0.5, 0.5),
    "bsr-002-b": (False, 0.5),
    "bsr-003-a": (True, True),
}


@dataclass
class World:
    db: Database
    settings: Settings
    kpk: TestClient  # signed in as a KPK analyst
    usernames: list[str]
    make_client: Callable[[], TestClient]
    clock: Any  # the time machine's traveller: the world's "now" is AFTER


def build_world(db: Database, settings: Settings, make_client, clock) -> tuple[TestClient, list]:
    """Kota Uji with three cohorts: "kecil" (workshop 10 Nov 2025, 2 couples = 4 people),
    "sedang" (16 Feb 2026, 3 couples = 6) and "besar" (9–10 Mar 2026, 5 couples = 10).
    In "besar": bsr-005 has not activated; bsr-001 … bsr-003 took the pre-test; five of
    them (all but bsr-003-b) passed both modules and took the post-test (``SCORES``)."""
    clock.move_to(START)
    rina = make_user(db, settings, "rina", "facilitator")
    make_user(db, settings, "analis", "kpk")
    usernames = []
    for slug, prefix, day, n in (
        ("kecil", "kcl", date(2025, 11, 10), 2),
        ("sedang", "sdg", date(2026, 2, 16), 3),
        ("besar", "bsr", date(2026, 3, 9), 5),
    ):
        cohort = make_cohort(db, slug, workshop_start=day, facilitator=rina)
        for i in range(1, n + 1):
            code = f"{prefix}-{i:03d}"
            make_couple(db, settings, cohort, code)
            usernames += [f"{code}-a", f"{code}-b"]
    with db.write() as session:
        for user in session.execute(select(User).where(User.username.like("bsr-00%"))).scalars():
            if user.username in ("bsr-005-a", "bsr-005-b"):
                user.password_hash = None  # never activated
            if user.username in NAMES:
                user.display_name = NAMES[user.username]
                user.contact = CONTACTS[list(NAMES).index(user.username)]
    people = {}
    for username in (*SCORES, "bsr-003-b"):
        person = make_client()
        login(person, username, PASSWORD)
        people[username] = person
        take_quiz(person, db, "pre-test", right=SCORES.get(username, (0.5,))[0])
        if username in SCORES:
            complete(person, "awal")
            complete(person, "kedua")
            take_quiz(person, db, "kuis-satu", right=True)
    clock.move_to(AFTER)
    for username, (_, post) in SCORES.items():
        person = people[username]
        complete(person, "ketiga")
        take_quiz(person, db, "kuis-dua", right=True)
        take_quiz(person, db, "post-test", right=post)
    kpk = make_client()
    login(kpk, "analis", PASSWORD)
    return kpk, usernames


@contextmanager
def world_in(directory: Path) -> Iterator[World]:
    """The world in a database of its own, built once for a module of tests (the learning
    flows through HTTP take a while). Always SQLite; the summary is checked at the end as
    the ``db`` fixture does."""
    from app.curriculum.sync import sync_content
    from app.reports.summary import summary_differences

    settings = Settings(
        env="test",
        database_url=f"sqlite:///{directory / 'world.db'}",
        secret_key=SECRET,
        data_dir=directory / "var",
        content_dir=ROOT / "modules",
    )
    engine = make_engine(settings.database_url)
    metadata.create_all(engine)
    db = Database(engine)
    sync_content(db, fixture_content())
    app = create_app(settings=settings, db=db)
    clients: list[TestClient] = []

    def make_client() -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        return client

    traveller = time_machine.travel(START, tick=False)
    clock = traveller.start()
    try:
        kpk, usernames = build_world(db, settings, make_client, clock)
        yield World(db, settings, kpk, usernames, make_client, clock)
        with db.read() as session:
            assert not summary_differences(session)
    finally:
        for client in clients:
            client.close()
        traveller.stop()
        engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    with world_in(tmp_path_factory.mktemp("kpk-pages")) as built:
        yield built


# ---------------------------------------------------------------- reading a page


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(html: str, name: str) -> str:
    match = re.search(rf'<section[^>]*id="{name}".*?</section>', html, re.S)
    assert match, f"no section {name}"
    return match.group(0)


def tables(html: str) -> list[list[list[str]]]:
    """Every table's body rows, each a list of its cells' texts."""
    out = []
    for table in re.findall(r"<table.*?</table>", html, re.S):
        body = re.search(r"<tbody>(.*?)</tbody>", table, re.S)
        rows = re.findall(r"<tr>(.*?)</tr>", body.group(1) if body else "", re.S)
        out.append(
            [[text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]
        )
    return out


def key_figures(html: str) -> list[str]:
    return [text_of(d) for d in re.findall(r"<dd>(.*?)</dd>", section(html, "gain"), re.S)]


def gettext(message: str, locale: str = "id", **values) -> str:
    text = translations(locale).gettext(message)
    return text % values if values else text


# ---------------------------------------------------------------- the figures


def test_the_dashboard_shows_funnel_gain_trend_and_cohorts(world):
    page = world.kpk.get("/kpk")
    assert page.status_code == 200
    html = page.text
    for heading in ("funnel-h", "gain-h", "trend-h", "cohorts-h", "suppression-h"):
        assert f'id="{heading}"' in html
    assert "<svg" in section(html, "funnel") and 'role="img"' in html
    # the funnel: step | participants | % of invited | officials | spouses | couples both,
    # one partner only, % of couples both
    funnel = tables(section(html, "funnel"))[0]
    assert [row[1:] for row in funnel[:4]] == [
        ["20", "100%", "10", "10", "10", "–", "100%"],  # invited: 10 couples
        ["18", "90%", "9", "9", "9", "–", "90%"],  # activated: all but bsr-005
        ["6", "30%", "< 5", "< 5", "< 5", "–", "< 5"],  # pre-test: 3 officials, 3 spouses
        ["5", "25%", "< 5", "< 5", "< 5", "< 5", "< 5"],  # module 1: 2 couples + 1 official
    ]
    assert funnel[4][1:] == ["–", "0%", "–", "–", "–", "–", "0%"]  # nobody marked present
    assert [row[1:3] for row in funnel[5:]] == [  # module 2, post-test, reflections …
        ["5", "25%"],
        ["5", "25%"],
        ["–", "0%"],
        ["–", "0%"],
        ["–", "0%"],
    ]
    assert (
        'title="'
        + gettext("Fewer than %(k)s people: hidden so that no one can be recognised.", k=5)
        in html
    )
    # the gain: matched 5 (one only took the pre-test, one had a full pre-test score)
    figures = key_figures(html)
    assert figures[:6] == [
        "5",
        "< 5",
        "40,0%",
        "80,0%",
        "0,67",  # (80 − 40) / (100 − 40)
        "0,62",  # (1 + 1 + 0 + 0,5) / 4: the one at 100 % is left out
    ]
    assert figures[6].startswith("0,96 [")  # d_z = 40 / √1750, with its interval
    assert figures[7] == "< 5"  # left out: one
    by_value, by_module = tables(section(html, "gain"))[:2]
    assert [r[1] for r in by_module] == ["5", "5"] and [r[1] for r in by_value] == ["5", "5"]
    # the trend per quarter: 4 people in Q4 2025, so Q1 2026 (16) is hidden as well
    trend = tables(section(html, "trend"))[0]
    assert [r[1] for r in trend] == ["< 5", "< 5"]
    # the cohorts: 4 (kecil) hidden, and the smallest other (6, sedang) with it
    cohorts = tables(section(html, "cohorts"))[0]
    assert [r[0] for r in cohorts] == ["Angkatan besar", "Angkatan kecil", "Angkatan sedang"]
    assert cohorts[0][4:9] == ["10", "80%", "83%", "0%", "0,67"]
    assert cohorts[1][4] == cohorts[2][4] == "< 5"
    assert cohorts[0][2] == "9 Maret 2026"
    assert '<a href="/kpk/cohorts/besar">' in html


def test_grouping_by_cohort_hides_the_small_group_and_its_complement(world):
    html = world.kpk.get("/kpk?group_by=cohort").text
    grouped = tables(section(html, "funnel"))[1]
    assert [r[0] for r in grouped] == ["Angkatan kecil", "Angkatan sedang", "Angkatan besar"]
    # couples, then invited (count only), then each step: count and share
    assert [r[1:3] for r in grouped] == [["< 5", "< 5"], ["< 5", "< 5"], ["5", "10"]]
    assert grouped[2][3] == "8 80%"  # activated in besar
    gain_groups = tables(section(html, "gain"))[2]
    assert [r[:2] for r in gain_groups] == [  # matched: nobody (no data), nobody, five
        ["Angkatan kecil", "–"],
        ["Angkatan sedang", "–"],
        ["Angkatan besar", "5"],
    ]
    assert gain_groups[2][2:6] == ["< 5", "40,0%", "80,0%", "0,67"]


def test_a_filter_that_singles_out_a_few_is_refused_with_the_reason(world):
    # 2026 holds 16 of the 20: the 4 outside it could be worked out
    html = world.kpk.get("/kpk?period=2026").text
    message = gettext(SUBSET_MESSAGES[SubsetProblem.REMAINDER_SMALL], k=5)
    assert message in unescape(html)
    funnel = tables(section(html, "funnel"))[0]
    assert {cell for row in funnel for cell in row[1:]} <= {"< 5"}
    assert key_figures(html)[:6] == ["< 5"] * 6
    assert "<svg" not in section(html, "funnel")
    # one cohort of 4: the selection itself is too small
    small = world.kpk.get("/kpk?cohort=kecil").text
    assert gettext(SUBSET_MESSAGES[SubsetProblem.SUBSET_SMALL], k=5) in unescape(small)
    # a safe filter: officials only (10 of 20), couples not split
    officials = world.kpk.get("/kpk?role=official").text
    assert 'class="warn"' not in officials
    assert tables(section(officials, "funnel"))[0][0][1:] == ["10", "100%", "10", "–"]


def test_the_filter_form_and_the_words_of_the_filter(world):
    html = world.kpk.get("/kpk").text
    assert 'name="region"' in html and 'name="group_by"' in html
    assert "disabled" in re.search(r'<select id="f-organization".*?</select>', html, re.S).group(0)
    chosen = world.kpk.get("/kpk?region=kota-uji&role=spouse").text
    assert re.search(r'<select id="f-organization" name="organization">', chosen)
    assert "Dinas bsr-001" in chosen  # the region's OPDs to choose from
    showing = text_of(re.search(r'<p class="kpk-showing.*?</p>', chosen, re.S).group(0))
    assert "Kota Uji" in showing and gettext("Spouse") in showing
    assert 'href="/kpk/export.xlsx?region=kota-uji&amp;role=spouse"' in chosen


def test_unknown_filters_are_a_422_with_the_message(world):
    for url, message, value in (
        ("/kpk?region=nope", "There is no region “%(value)s”.", "nope"),
        ("/kpk?group_by=colour", "There is no grouping “%(value)s”.", "colour"),
        ("/kpk?interval=week", "There is no interval “%(value)s”.", "week"),
        ("/kpk?organization=abc", "There is no OPD “%(value)s”.", "abc"),
        ("/kpk?period=2024-13", None, "2024-13"),
    ):
        page = world.kpk.get(url)
        assert page.status_code == 422, url
        if message:
            assert gettext(message, value=value) in unescape(page.text)
        assert value in page.text
    # a page number that is not one is the first page
    assert world.kpk.get("/kpk?page=zwei").status_code == 200
    assert world.kpk.get("/kpk?page=999999999").status_code == 200


def test_a_cohorts_page(world):
    page = world.kpk.get("/kpk/cohorts/besar")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Angkatan besar</h1>" in html
    assert "Kota Uji" in html and "9 Maret 2026" in html and "10 Maret 2026" in html
    assert 'id="cohorts-h"' not in html  # no comparison on one cohort's page
    assert 'name="region"' not in html and 'name="cohort"' not in html
    # grouped by OPD by default: every OPD of this cohort has 2 people
    grouped = tables(section(html, "funnel"))[1]
    assert len(grouped) == 5 and {r[2] for r in grouped} == {"< 5"}
    assert 'href="/kpk/export.csv?cohort=besar&amp;group_by=organization"' in html
    by_role = world.kpk.get("/kpk/cohorts/besar?group_by=role").text
    assert [r[1] for r in tables(section(by_role, "funnel"))[1]] == ["5", "5"]
    assert world.kpk.get("/kpk/cohorts/nope").status_code == 404
    assert world.kpk.get("/kpk/cohorts/besar?group_by=nope").status_code == 422


def test_no_name_username_or_contact_reaches_the_pages(world):
    for url in ("/kpk", "/kpk?group_by=organization", "/kpk/cohorts/besar?group_by=role"):
        html = world.kpk.get(url).text.lower()
        for secret in (*NAMES.values(), *CONTACTS, *world.usernames):
            assert secret.lower() not in html, (url, secret)


def test_the_pages_in_english(world):
    make_user(world.db, world.settings, "analyst", "kpk")
    client = world.make_client()
    login(client, "analyst", PASSWORD)
    post_form(client, "/language", {"locale": "en", "next": "/kpk"}, page="/kpk")
    html = client.get("/kpk").text
    for heading in (
        "How far the participants are",
        "Learning gain",
        "Trend over time",
        "Cohorts compared",
        "Why are some figures hidden?",
    ):
        assert heading in html
    assert key_figures(html)[2:5] == ["40.0%", "80.0%", "0.67"]
    assert "9 March 2026" in html


# ---------------------------------------------------------------- who may see them


def test_only_kpk_and_administrators_see_the_pages(world):
    make_user(world.db, world.settings, "admin2", "admin")
    for username, status in (("rina", 403), ("bsr-001-a", 403), ("admin2", 200)):
        client = world.make_client()
        login(client, username, PASSWORD)
        for url in ("/kpk", "/kpk/cohorts/besar"):
            assert client.get(url).status_code == status, (username, url)
    anonymous = world.make_client()
    response = anonymous.get("/kpk?region=kota-uji", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/kpk")


# ---------------------------------------------------------------- cost


def grow(db, settings, cohorts: int, couples: int, start: int) -> None:
    for c in range(start, start + cohorts):
        cohort = make_cohort(db, f"ang-{c}", workshop_start=date(2025, 1 + c % 12, 10))
        for i in range(couples):
            make_couple(db, settings, cohort, f"a{c:02d}-{i:03d}")


PAGES = (
    "/kpk",
    "/kpk?group_by=organization",
    "/kpk?region=kota-uji&group_by=cohort&interval=month",
    "/kpk?role=official&group_by=quarter",
    "/kpk/cohorts/ang-1",
)


def test_statements_do_not_grow_with_the_data(mini, settings, make_client, count_queries):
    make_user(mini, settings, "analis", "kpk")
    grow(mini, settings, 2, 3, start=1)
    client = make_client()
    login(client, "analis", PASSWORD)

    def statements() -> dict[str, int]:
        out = {}
        for path in PAGES:
            client.get(path)
            with count_queries() as counter:
                assert client.get(path).status_code == 200, path
            out[path] = counter.count
        return out

    small = statements()
    grow(mini, settings, 6, 3, start=3)  # 2 cohorts, 6 couples → 8 cohorts, 24 couples
    assert statements() == small
    assert max(small.values()) <= 30


def test_the_comparison_has_pages_of_25_cohorts():
    rows = [object()] * 60
    comparison = Comparison(rows=rows, total=60, check=ViewCheck())
    first, last = comparison_page(comparison, 1), comparison_page(comparison, 3)
    assert (first.pages, len(first.rows), len(last.rows)) == (3, 25, 10)
    assert comparison_page(comparison, parse_page("99")).number == 3
    assert [parse_page(v) for v in ("", "0", "-2", "zwei", "2", "1" * 20)] == [1, 1, 1, 1, 2, 1]
    assert comparison_page(None, 1) == Page(1, 1, [], 0)


def test_the_dashboard_pages_through_its_cohorts(mini, settings, make_client):
    make_user(mini, settings, "analis", "kpk")
    grow(mini, settings, 26, 1, start=1)
    client = make_client()
    login(client, "analis", PASSWORD)
    first = client.get("/kpk").text
    assert "Halaman 1 dari 2" in first
    assert '<a class="button" href="/kpk?page=2#cohorts">' in first
    last = client.get("/kpk?page=2").text
    assert "Halaman 2 dari 2" in last and '<a class="button" href="/kpk?page=1#cohorts">' in last
