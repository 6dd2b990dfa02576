"""The KPK downloads ``/kpk/export.xlsx`` and ``/kpk/export.csv``: what the page shows, as
numbers a spreadsheet can use (counts as whole numbers, shares with a percent format), hidden
figures as the text "< 5", formulas neutralized, the filter in the file name, an audit line
for every download, and never a name, a username or a contact."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import openpyxl
import pytest
from sqlalchemy import select

from app.accounts.models import AuditLog
from app.cohorts.models import Cohort
from app.i18n import translations
from app.reports.views import FOLLOWUP_SECTIONS, SECTIONS, export_columns
from tests.conftest import login
from tests.factories import PASSWORD
from tests.reports.test_pages import CONTACTS, NAMES, World, world_in

SECTION = {key: translations("id").gettext(name) for key, name in SECTIONS.items()}
FOLLOWUP = {key: translations("id").gettext(name) for key, name in FOLLOWUP_SECTIONS.items()}
FORMULA = '=HYPERLINK("http://evil.example","klik")'


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    """The pages' world, with a cohort title that a spreadsheet would take for a formula."""
    with world_in(tmp_path_factory.mktemp("kpk-exports")) as built:
        with built.db.write() as session:
            cohort = session.execute(select(Cohort).where(Cohort.slug == "besar")).scalar_one()
            cohort.title = FORMULA
        yield built


def audits(world: World) -> list[dict]:
    with world.db.read() as session:
        return [
            {"actor": a.actor_id, "target": a.target, **(a.detail or {})}
            for a in session.execute(
                select(AuditLog).where(AuditLog.action == "kpk.export").order_by(AuditLog.id)
            ).scalars()
        ]


def sheet_rows(content: bytes) -> tuple[list, list[list]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert len(book.worksheets) == 1
    ws = book.worksheets[0]
    rows = list(ws.iter_rows())
    return [c.value for c in rows[0]], [list(r) for r in rows[1:]]


def test_the_xlsx_has_numbers_percentages_hidden_cells_and_no_formula(world):
    before = len(audits(world))
    response = world.kpk.get("/kpk/export.xlsx?group_by=cohort")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="kpk-laporan-' in response.headers["content-disposition"]
    header, rows = sheet_rows(response.content)
    assert header == [c.header for c in export_columns("id")]
    col = {c.key: i for i, c in enumerate(export_columns("id"))}
    sections = [r[col["section"]].value for r in rows]
    found = list(dict.fromkeys(sections))
    assert found[: len(SECTION)] == list(SECTION.values())  # all eight, in order
    # then the follow-ups (no group of them here: nobody answered anything after the workshop)
    assert found[len(SECTION) :] == [
        FOLLOWUP[key] for key in ("survey", "survey_item", "checkin", "retention")
    ]
    invited = rows[0]
    assert invited[col["people"]].value == 20 and isinstance(invited[col["people"]].value, int)
    share = rows[1][col["share"]]  # activated: 18 of 20
    assert share.value == pytest.approx(0.9) and share.number_format == "0.0%"
    assert rows[2][col["officials"]].value == "< 5"  # pre-test: 3 officials
    by_cohort = {
        r[col["group"]].value: r[col["people"]].value
        for r in rows
        if sections[r[0].row - 2] == SECTION["funnel_group"]
        and r[col["item"]].value == invited[col["item"]].value
    }
    assert by_cohort == {"Angkatan kecil": "< 5", "Angkatan sedang": "< 5", "'" + FORMULA: 10}
    gain = next(r for r in rows if r[col["matched"]].value == 5 and r[col["group"]].value is None)
    assert gain[col["pre_mean"]].value == pytest.approx(0.4)
    assert gain[col["pre_mean"]].number_format == "0.0%"
    assert gain[col["class_gain"]].value == pytest.approx(2 / 3)
    assert gain[col["only_pre"]].value == "< 5" and gain[col["excluded"]].value == "< 5"
    compared = [r for r in rows if r[col["cohort"]].value is not None]
    assert [r[col["cohort"]].value for r in compared] == ["besar", "kecil", "sedang"]
    assert compared[0][col["group"]].value == "'" + FORMULA  # neutralized
    assert compared[0][col["activated"]].value == pytest.approx(0.8)
    assert compared[1][col["people"]].value == "< 5"
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for r in rows for c in r)
    logged = audits(world)[before:]
    assert logged == [
        {
            "actor": logged[0]["actor"],
            "target": "kpk",
            "kind": "xlsx",
            "filter": {},
            "group_by": "cohort",
            "interval": "quarter",
        }
    ]


def test_the_csv_is_utf8_with_a_bom_and_names_its_filter(world):
    before = len(audits(world))
    response = world.kpk.get("/kpk/export.csv?region=kota-uji&role=official&interval=year")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    name = response.headers["content-disposition"]
    assert "kpk-laporan-kota-uji-official-2026-03-11.csv" in name
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [c.header for c in export_columns("id")]
    col = {c.key: i for i, c in enumerate(export_columns("id"))}
    assert rows[1][col["people"]] == "10"  # the officials invited
    assert rows[1][col["share"]] == "100"  # percent, 0–100
    assert rows[1][col["couples_both"]] == ""  # a role filter splits the couples
    trend = [r for r in rows if r[col["group"]] in ("2025", "2026")]
    assert [r[col["people"]] for r in trend] == ["< 5", "< 5"]  # 2 and 8 officials
    assert any(r[col["group"]] == "'" + FORMULA for r in rows)
    assert audits(world)[before:] == [
        {
            "actor": audits(world)[before]["actor"],
            "target": "kpk",
            "kind": "csv",
            "filter": {"region": "kota-uji", "role": "official"},
            "interval": "year",
        }
    ]


def test_a_cohorts_download_and_a_hidden_view(world):
    response = world.kpk.get("/kpk/export.csv?cohort=besar&group_by=organization")
    assert response.status_code == 200
    assert "kpk-laporan-besar-" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    col = {c.key: i for i, c in enumerate(export_columns("id"))}
    assert rows[1][col["people"]] == "10"
    # a view that singles out 4 people: every figure hidden in the file as on the page
    hidden = world.kpk.get("/kpk/export.csv?period=2026")
    body = list(csv.reader(io.StringIO(hidden.content.decode("utf-8-sig"))))[1:]
    people = {r[col["people"]] for r in body if r[col["people"]]}
    assert people == {"< 5"}


def test_refusals(world):
    assert world.kpk.get("/kpk/export.xlsx?region=nope").status_code == 422
    assert world.kpk.get("/kpk/export.pdf").status_code == 404
    for username in ("bsr-001-a", "rina"):
        client = world.make_client()
        login(client, username, PASSWORD)
        for kind in ("xlsx", "csv"):
            assert client.get(f"/kpk/export.{kind}").status_code == 403
    anonymous = world.make_client()
    assert anonymous.get("/kpk/export.csv", follow_redirects=False).status_code == 303
    assert all(a["kind"] in ("xlsx", "csv") for a in audits(world))


def test_no_name_username_or_contact_in_any_download(world):
    for url in (
        "/kpk/export.csv?group_by=organization",
        "/kpk/export.csv?group_by=role",
        "/kpk/export.xlsx?group_by=organization",
    ):
        response = world.kpk.get(url)
        if "xlsx" in url:
            _, rows = sheet_rows(response.content)
            text = " ".join(str(c.value) for r in rows for c in r if c.value is not None)
        else:
            text = response.content.decode("utf-8-sig")
        text = text.lower()
        for secret in (*NAMES.values(), *CONTACTS, *world.usernames):
            assert secret.lower() not in text, (url, secret)
