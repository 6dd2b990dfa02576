"""The audit log for administrators (``/admin/audit``): filters, paging, the CSV export, and
no way to change or remove an entry."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.routing import Match

from app.accounts.models import AuditLog, Role, User
from app.admin.service import (
    AUDIT_PAGE_SIZE,
    AdminError,
    AuditQuery,
    audit_export,
    audit_log,
    audit_query,
    staff_create,
)
from app.audit import audit_record
from app.errors import Forbidden
from tests.authz_world import build_world
from tests.conftest import login
from tests.factories import PASSWORD, actor, make_cohort, make_user

WIB = ZoneInfo("Asia/Jakarta")
FIRST_DAY = date(2026, 3, 1)
ACTIONS = ("export.csv", "export.xlsx", "roster.import", "attendance.mark")
ROW_RE = re.compile(r'<tr id="a(\d+)"')


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in Jakarta, as the UTC time the log stores."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB).astimezone(UTC)


@pytest.fixture
def people(db, settings):
    """An administrator (reading English) and a facilitator; no audit entry yet."""
    kepala = make_user(db, settings, "kepala", Role.admin, locale="en")
    rina = make_user(db, settings, "rina", Role.facilitator)
    return kepala, rina


@pytest.fixture
def volume(db, people):
    """120 entries over three days in Jakarta (40 a day, from 00:00 every 30 minutes), by the
    administrator, the facilitator and the system in turn, four actions, two targets."""
    kepala, rina = people
    actors = (kepala.id, rina.id, None)
    with db.write() as session:
        for i in range(120):
            day = FIRST_DAY + timedelta(days=i // 40)
            slot = i % 40
            audit_record(
                session,
                now=local(day, slot // 2, 30 * (slot % 2)),
                actor_id=actors[i % 3],
                action=ACTIONS[i % 4],
                target="cohort:tng-2026" if i % 2 == 0 else "cohort:bks-2026",
                detail={"n": i},
            )
    return kepala, rina


@pytest.fixture
def admin_client(client, people) -> TestClient:
    assert login(client, "kepala", PASSWORD).status_code == 303
    return client


def page_of(db, who, tz=ZoneInfo("Asia/Jakarta"), **params):
    query = audit_query(params={k: str(v) for k, v in params.items()})
    with db.read() as session:
        return audit_log(session, actor=actor(who), query=query, tz=tz)


def count_of(db, who, **params) -> int:
    return page_of(db, who, **params).total


# ---------------------------------------------------------------- filters and pages


def test_every_filter_narrows_the_log_in_sql(db, volume):
    kepala, rina = volume
    assert count_of(db, kepala) == 120
    assert count_of(db, kepala, actor="rina") == 40
    assert count_of(db, kepala, actor="RI") == 40  # a beginning, any case
    assert count_of(db, kepala, actor="kep") == 40
    assert count_of(db, kepala, actor="r%") == 0  # a wildcard is a plain character
    assert count_of(db, kepala, actor="nobody") == 0
    assert count_of(db, kepala, action="export.csv") == 30
    assert count_of(db, kepala, action="export.") == 60  # a prefix
    assert count_of(db, kepala, action="export.*") == 60
    assert count_of(db, kepala, action="export") == 0  # no dot, no star: one exact action
    assert count_of(db, kepala, target="tng") == 60
    assert count_of(db, kepala, target="TNG-2026") == 60
    assert count_of(db, kepala, target="_") == 0
    assert count_of(db, kepala, actor="rina", action="export.", target="tng") == 10
    # days in Jakarta: each day holds its 40 entries, from its local midnight on
    assert count_of(db, kepala, **{"from": "2026-03-02", "to": "2026-03-02"}) == 40
    assert count_of(db, kepala, **{"from": "2026-03-02"}) == 80
    assert count_of(db, kepala, to="2026-03-01") == 40
    assert count_of(db, kepala, to="2026-02-28") == 0
    assert count_of(db, kepala, **{"from": "2026-03-04"}) == 0
    assert count_of(db, kepala, actor="rina", **{"from": "2026-03-03"}) == 13

    view = page_of(db, kepala, **{"from": "2026-03-02", "to": "2026-03-02"})
    days = {e.at.astimezone(WIB).date() for e in view.entries}
    assert days == {date(2026, 3, 2)}
    assert min(e.at for e in view.entries) == local(date(2026, 3, 2))  # 00:00 is included


def test_a_day_is_read_in_the_applications_time_zone(db, volume):
    kepala, _ = volume
    # 2026-03-02 00:00 in Jakarta is still 1 March in UTC: the day follows APP_TIMEZONE
    day = {"from": "2026-03-02", "to": "2026-03-02"}
    jakarta = page_of(db, kepala, **day)
    utc = page_of(db, kepala, tz=ZoneInfo("UTC"), **day)
    assert {e.at.astimezone(WIB).date() for e in jakarta.entries} == {date(2026, 3, 2)}
    assert {e.at.date() for e in utc.entries} == {date(2026, 3, 2)}
    assert {e.id for e in utc.entries} != {e.id for e in jakarta.entries}


def test_pages_of_fifty_newest_first(db, volume, count_queries):
    kepala, rina = volume
    seen: list[int] = []
    for number in (1, 2, 3):
        with count_queries() as counter:
            view = page_of(db, kepala, page=number)
        assert counter.count == 3  # the actions, the count, the page: whatever the log holds
        assert (view.total, view.page, view.pages) == (120, number, 3)
        assert len(view.entries) == (AUDIT_PAGE_SIZE if number < 3 else 20)
        times = [e.at for e in view.entries]
        assert times == sorted(times, reverse=True)
        seen += [e.id for e in view.entries]
    assert len(set(seen)) == 120
    assert page_of(db, kepala, page=99).page == 3  # past the end: the last page
    assert page_of(db, kepala, page="x").page == 1
    first, second, third = page_of(db, kepala).entries[:3]
    assert first.at == local(date(2026, 3, 3), 19, 30)
    assert first.detail == [("n", "119")]
    assert (first.actor_username, first.actor_name) == (None, None)  # the system
    assert (second.actor_username, second.actor_name) == ("rina", "Rina")
    assert (third.actor_username, third.actor_name) == ("kepala", "Kepala")
    view = page_of(db, kepala)
    assert view.actions == sorted(ACTIONS)
    assert view.families == ["attendance.", "export.", "roster."]


def test_bad_filters_are_refused_with_the_field_named():
    for params, field in (
        ({"from": "2026-02-30"}, "from"),
        ({"from": "kemarin"}, "from"),
        ({"to": "20260301"}, "to"),
        ({"to": "0999-01-01"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"actor": "x" * 65}, "actor"),
        ({"target": "cohort:\x00"}, "target"),
    ):
        with pytest.raises(AdminError) as refused:
            audit_query(params=params)
        assert refused.value.field == field and refused.value.status == 422
    assert audit_query(params={"from": " 2026-03-01 ", "to": "2026-03-01"}).start == FIRST_DAY


@pytest.mark.parametrize("who", ["facilitator", "kpk", "participant"])
def test_the_service_refuses_everyone_but_administrators(db, settings, who):
    world = build_world(db, settings)
    with pytest.raises(Forbidden), db.read() as session:
        audit_log(session, actor=getattr(world, who), query=AuditQuery(), tz=settings.tz)
    with pytest.raises(Forbidden), db.write() as session:
        audit_export(
            session,
            actor=getattr(world, who),
            query=AuditQuery(),
            now=datetime.now(UTC),
            tz=settings.tz,
            locale="en",
        )


# ---------------------------------------------------------------- the page


def test_real_actions_show_on_the_page(db, settings, people, admin_client, make_client, mini):
    kepala, rina = people
    with db.write() as session:
        staff_create(
            session,
            actor=actor(kepala),
            form={
                "username": "analis",
                "name": "Analis KPK",
                "role": "kpk",
                "password": "kabut-pagi-tanjung-41",
            },
            settings=settings,
            now=datetime.now(UTC),
        )
        audit_record(session, now=datetime.now(UTC), actor_id=None, action="content.sync")
    make_cohort(db, "uji", facilitator=rina)  # made by the factories' administrator
    facilitator = make_client()
    login(facilitator, "rina", PASSWORD)
    assert facilitator.get("/facilitator/cohorts/uji/export.csv").status_code == 200

    page = admin_client.get("/admin/audit")
    assert page.status_code == 200
    html = page.text
    for text in (
        "Audit log",
        "user.create",
        "user:analis",
        "<dt>role</dt><dd>kpk</dd>",
        "Kepala",
        "export.csv",
        "cohort:uji",
        "Rina",
        "cohort.create",
        "region.create",
        "content.sync",
        ">system<",
    ):
        assert text in html, text
    assert 'href="/admin/audit.csv"' in html
    assert '<option value="export.">export.*</option>' in html

    only = admin_client.get("/admin/audit?actor=rina")
    assert len(ROW_RE.findall(only.text)) == 1 and "export.csv" in only.text
    assert "1 entry matches" in only.text and "Clear the filter" in only.text
    assert 'value="rina"' in only.text

    home = admin_client.get("/admin")
    assert 'href="/admin/audit"' in home.text


def test_details_are_escaped_and_long_values_shortened(db, admin_client, people):
    kepala, _ = people
    long = "panjang-" * 40
    with db.write() as session:
        audit_record(
            session,
            now=datetime.now(UTC),
            actor_id=kepala.id,
            action="note.test",
            target="<b>target</b>",
            detail={"html": "<script>alert(1)</script>", "long": long, "list": [1, "dua"]},
        )
    html = admin_client.get("/admin/audit").text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>target</b>" not in html and "&lt;b&gt;target&lt;/b&gt;" in html
    assert long not in html and long[:60] in html and "…" in html
    assert "<dt>list</dt><dd>[1, &#34;dua&#34;]</dd>" in html


def test_paging_on_the_page(admin_client, volume):
    first = admin_client.get("/admin/audit")
    assert len(ROW_RE.findall(first.text)) == 50
    assert "120 entries" in first.text and "Page 1 of 3" in first.text
    assert 'href="/admin/audit?page=2"' in first.text
    last = admin_client.get("/admin/audit?page=3")
    assert len(ROW_RE.findall(last.text)) == 20 and "Page 3 of 3" in last.text
    assert 'href="/admin/audit?page=2"' in last.text and "?page=4" not in last.text
    filtered = admin_client.get("/admin/audit?action=export.&page=2")
    assert "60 entries match" in filtered.text and "Page 2 of 2" in filtered.text
    assert len(ROW_RE.findall(filtered.text)) == 10
    assert 'href="/admin/audit?action=export.&page=1"' not in filtered.text
    assert 'href="/admin/audit?action=export."' in filtered.text  # back to page 1
    assert 'href="/admin/audit.csv?action=export."' in filtered.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-02-30", "Enter a date like 2025-10-14."),
        ("to=not-a-date", "Enter a date like 2025-10-14."),
        ("from=2026-03-03&to=2026-03-01", "The end date is before the start date."),
    ],
)
def test_a_bad_filter_is_a_422_page_with_the_form(admin_client, volume, query, message):
    page = admin_client.get(f"/admin/audit?{query}")
    assert page.status_code == 422
    assert message in page.text and 'aria-invalid="true"' in page.text
    assert 'action="/admin/audit"' in page.text  # the form again, to correct it
    assert not ROW_RE.findall(page.text)
    export = admin_client.get(f"/admin/audit.csv?{query}")
    assert export.status_code == 422 and message in export.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=99999-01-01", "Enter a date between"),
        ("actor=%00rina", "This field contains characters that are not allowed."),
    ],
)
def test_a_filter_the_input_gate_refuses_is_a_422_page(admin_client, volume, query, message):
    """Values no filter can mean (a control character, a year outside 2000–2100) are refused
    by the input gate before the log is read: the error page with the reason."""
    for path in ("/admin/audit", "/admin/audit.csv"):
        page = admin_client.get(f"{path}?{query}")
        assert page.status_code == 422 and message in page.text, path
        assert not ROW_RE.findall(page.text)


@pytest.mark.parametrize("who", ["facilitator", "kpk", "participant"])
def test_only_administrators_open_the_log(db, settings, make_client, who):
    world = build_world(db, settings)
    username = {"facilitator": "rina", "kpk": "analis", "participant": world.official.username}
    client = make_client()
    assert login(client, username[who], PASSWORD).status_code == 303
    for path in ("/admin/audit", "/admin/audit.csv", "/admin/audit?page=2"):
        assert client.get(path).status_code == 403
    with db.read() as session:
        assert not session.execute(
            select(AuditLog).where(AuditLog.action == "export.audit")
        ).first()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/audit.csv", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


# ---------------------------------------------------------------- the CSV export


def read_csv(response) -> list[dict[str, str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_csv_holds_the_filter_and_is_audited(db, admin_client, volume):
    kepala, rina = volume
    response = admin_client.get("/admin/audit.csv?actor=rina&from=2026-03-03&action=export.")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    today = datetime.now(UTC).astimezone(WIB).date().isoformat()
    disposition = response.headers["content-disposition"]
    assert disposition == (f'attachment; filename="audit-log-rina-export-2026-03-03-{today}.csv"')
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header == "Time,Username,Name,Action,Target,Details"
    rows = read_csv(response)
    expected = page_of(db, kepala, actor="rina", action="export.", **{"from": "2026-03-03"})
    assert len(rows) == expected.total == 6
    assert [r["Details"] for r in rows] == [
        f"n: {n}" for e in expected.entries for _, n in e.detail
    ]
    assert {r["Username"] for r in rows} == {"rina"}
    assert {r["Name"] for r in rows} == {"Rina"}
    assert all(r["Action"].startswith("export.") for r in rows)
    assert rows[0]["Time"] == "2026-03-03 16:00"  # in Jakarta, newest first
    assert [r["Time"] for r in rows] == sorted((r["Time"] for r in rows), reverse=True)

    with db.read() as session:
        record = session.execute(
            select(AuditLog).where(AuditLog.action == "export.audit")
        ).scalar_one()
    assert record.actor_id == kepala.id and record.target == "audit_log"
    assert record.detail == {
        "actor": "rina",
        "action": "export.",
        "from": "2026-03-03",
        "rows": 6,
    }

    everything = read_csv(admin_client.get("/admin/audit.csv"))
    assert len(everything) == 121  # the 120, and the first export, but not itself
    assert everything[0]["Action"] == "export.audit"
    assert everything[0]["Details"] == "actor: rina; action: export.; from: 2026-03-03; rows: 6"
    system = [r for r in everything if r["Username"] == ""]
    assert len(system) == 40 and {r["Name"] for r in system} == {"system"}
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(AuditLog)).scalar_one() == 122


def test_the_csv_neutralizes_formulas(db, admin_client, people):
    kepala, _ = people
    with db.write() as session:
        evil = make_user_in(session, "evil", '=HYPERLINK("http://x")')
        audit_record(
            session,
            now=datetime.now(UTC),
            actor_id=evil.id,
            action="note.test",
            target="=cmd|' /C calc'!A0",
            detail={"=cmd|' /C calc'!A0": "@SUM(1)", "plain": "=cmd"},
        )
    rows = read_csv(admin_client.get("/admin/audit.csv?action=note.test"))
    assert len(rows) == 1
    row = rows[0]
    assert row["Name"] == '\'=HYPERLINK("http://x")'
    assert row["Target"] == "'=cmd|' /C calc'!A0"
    assert row["Details"] == "'=cmd|' /C calc'!A0: @SUM(1); plain: =cmd"
    assert not any(v[:1] in "=+-@" for v in row.values() if v)


def make_user_in(session, username: str, display_name: str) -> User:
    user = User(username=username, display_name=display_name, role=Role.kpk)
    session.add(user)
    session.flush()
    return user


# ---------------------------------------------------------------- nothing changes the log


MUTATING = ("POST", "PUT", "PATCH", "DELETE")
PROBES = ("/admin/audit", "/admin/audit.csv", "/admin/audit/1", "/admin/audit/1/delete")


def every_route(app) -> list:
    """Every route of the application, those of the included routers too."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # a FastAPI that keeps included routes flat in ``app.routes``
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def test_no_route_changes_or_deletes_an_entry(app):
    routes = every_route(app)
    paths = {(getattr(r, "path", ""), m) for r in routes for m in getattr(r, "methods", ()) or ()}
    assert {("/admin", "GET"), ("/admin/users", "POST")} <= paths  # the list is complete
    audit_routes = []
    for route in routes:
        methods = set(getattr(route, "methods", None) or ())
        path = getattr(route, "path", "")
        if path.startswith("/admin/audit"):
            audit_routes.append((path, methods))
            assert methods <= {"GET", "HEAD"}, (path, methods)
        for probe in PROBES:
            for method in MUTATING:
                scope = {"type": "http", "path": probe, "root_path": "", "method": method}
                match, _ = route.matches(scope)
                assert match is not Match.FULL, (path, method, probe)
    assert sorted(audit_routes) == [("/admin/audit", {"GET"}), ("/admin/audit.csv", {"GET"})]


def test_writing_methods_are_refused(db, admin_client, volume):
    page = admin_client.get("/admin/audit")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    for method in MUTATING:
        for path in ("/admin/audit", "/admin/audit.csv"):
            response = admin_client.request(method, path, data={"csrf_token": token})
            assert response.status_code == 405, (method, path)
        for path in ("/admin/audit/1", "/admin/audit/1/delete"):
            response = admin_client.request(method, path, data={"csrf_token": token})
            assert response.status_code == 404, (method, path)
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(AuditLog)).scalar_one() == 120
