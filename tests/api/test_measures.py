"""The measures of the JSON API — funnel, gain, trend, comparison — over HTTP, on a small world
built by hand (``enrolled`` and ``measured`` in ``conftest.py``: cohorts of 10, 4 and 6
participants): every figure a ``{"value", "suppressed"}`` and nothing more, a group of 4 and
its complement hidden, a filter that singles out too few people hiding everything, unknown
filters refused with 422, a token required, and no person's name or username in any answer."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from app.api import schemas, service
from app.db import utcnow
from app.reports import service as reports
from app.reports.measures import INTERVALS
from tests.api.conftest import create_token
from tests.api.test_router import assert_problem
from tests.conftest import login
from tests.factories import PASSWORD, make_cohort, make_couple, make_user

ENDPOINTS = ("funnel", "gain", "trend", "comparison")
HIDDEN = {"value": None, "suppressed": True}
HIDDEN_STEP = {"people": HIDDEN, "rate": HIDDEN}
STEPS = [
    "invited",
    "activated",
    "pretest",
    "module1",
    "attended",  # module 2 of the fixture curriculum belongs after the workshop
    "module2",
    "posttest",
    "reflections",
    "pledge",
    "certificate",
]
REMAINDER_SMALL = (
    "Fewer than 5 people fall outside this selection, so its figures are hidden: subtracting "
    "them from the wider view would reveal those people. Choose a wider selection."
)
SUBSET_SMALL = (
    "This selection has fewer than 5 people, so its figures are hidden. Choose a wider selection."
)


def shown(value: Any) -> dict:
    return {"value": value, "suppressed": False}


def figures(body: Any) -> list[dict]:
    """Every figure of an answer (an object with ``suppressed``), wherever it is."""
    if isinstance(body, list):
        return [f for item in body for f in figures(item)]
    if not isinstance(body, dict):
        return []
    if "suppressed" in body:
        return [body]
    return [f for value in body.values() for f in figures(value)]


@pytest.fixture
def get(client, token):
    def get(path: str) -> dict:
        response = client.get(f"/api/v1/{path}", headers=token.headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        for figure in figures(body):  # never the number of people behind a figure
            assert set(figure) == {"value", "suppressed"}, figure
            assert figure["value"] is None or not figure["suppressed"], figure
        return body

    return get


def steps_of(row: dict) -> dict[str, dict]:
    return {step["key"]: step for step in row["steps"]}


# ---------------------------------------------------------------- the funnel


def test_the_funnel_counts_the_invited_and_the_activated(get, enrolled):
    body = get("funnel?lang=en")
    assert body["k"] == 5 and body["group_by"] is None and body["groups"] == []
    assert body["hidden_reason"] is None and body["hidden_filters"] == []
    assert body["filters"] == dict.fromkeys(reports.FILTERS)
    assert [s["key"] for s in body["steps"]] == STEPS
    assert body["steps"][:2] == [
        {"key": "invited", "label": "Invited"},
        {"key": "activated", "label": "Activated"},
    ]
    assert body["steps"][5] == {"key": "module2", "label": "Module 2 passed"}
    total = body["total"]
    assert total["people"] == shown(20) and total["couples"] == shown(10)
    steps = steps_of(total)
    assert steps["invited"] == {
        "key": "invited",
        "people": shown(20),
        "rate": shown(1.0),
        "officials": shown(10),
        "spouses": shown(10),
        "couples_both": shown(10),
        "couples_one": shown(0),
        "couples_rate": shown(1.0),
    }
    # three of 20 did not activate: couple uji-005, and uji-004's spouse
    assert steps["activated"] == {
        "key": "activated",
        "people": shown(17),
        "rate": shown(0.85),
        "officials": shown(9),
        "spouses": shown(8),
        "couples_both": shown(8),
        "couples_one": HIDDEN,  # uji-004 alone
        "couples_rate": shown(0.8),
    }
    assert steps["pretest"]["people"] == shown(0) and steps["pretest"]["rate"] == shown(0.0)

    # the labels in Indonesian by default, the keys the same
    indonesian = get("funnel")
    assert [s["key"] for s in indonesian["steps"]] == STEPS
    labels = {s["key"]: s["label"] for s in indonesian["steps"]}
    assert labels["activated"] == "Sudah aktivasi" and labels["module2"] == "Modul 2 lulus"
    assert indonesian["total"] == total


def test_a_group_of_four_is_hidden_and_so_is_its_complement(get, enrolled):
    body = get("funnel?group_by=cohort&lang=en")
    assert body["group_by"] == "cohort"
    assert body["total"]["people"] == shown(20)  # the total of the groups, shown
    groups = {g["key"]: g for g in body["groups"]}
    assert list(groups) == ["tng-2025", "tng-2026a", "tng-2026b"]
    assert groups["tng-2025"]["label"] == "Angkatan tng-2025"
    assert groups["tng-2025"]["people"] == shown(10)
    assert groups["tng-2026a"]["people"] == HIDDEN  # 4 people
    assert groups["tng-2026b"]["people"] == HIDDEN  # 6, hidden so that 20 − 10 − 6 ≠ 4
    assert groups["tng-2025"]["couples"] == shown(5)
    assert groups["tng-2026a"]["couples"] == HIDDEN == groups["tng-2026b"]["couples"]
    for key in ("tng-2026a", "tng-2026b"):
        assert steps_of(groups[key])["activated"] == {"key": "activated", **HIDDEN_STEP}
    assert steps_of(groups["tng-2025"])["activated"] == {
        "key": "activated",
        "people": shown(7),
        "rate": shown(0.7),
    }
    # a group's steps never carry the partners' or the couples' figures
    for group in body["groups"]:
        assert all(set(step) == {"key", "people", "rate"} for step in group["steps"])

    by_quarter = get("funnel?group_by=quarter&lang=en")
    assert [(g["key"], g["label"], g["people"]) for g in by_quarter["groups"]] == [
        ("2025-Q4", "Q4 2025", shown(10)),
        ("2026-Q1", "Q1 2026", HIDDEN),
        ("2026-Q2", "Q2 2026", HIDDEN),
    ]
    by_year = get("funnel?group_by=year")
    assert [(g["key"], g["people"]) for g in by_year["groups"]] == [
        ("2025", shown(10)),
        ("2026", shown(10)),
    ]


def test_the_couples_figures_appear_only_where_the_funnel_has_them(get, enrolled):
    officials = get("funnel?role=official")
    assert officials["filters"]["role"] == "official"
    assert officials["hidden_reason"] is None  # 10 officials, 10 spouses outside
    assert "couples" not in officials["total"]
    activated = steps_of(officials["total"])["activated"]
    assert activated == {
        "key": "activated",
        "people": shown(9),
        "rate": shown(0.9),
        "officials": shown(9),
        "spouses": shown(0),
    }
    by_role = get("funnel?group_by=role")
    assert [(g["key"], g["label"], g["people"]) for g in by_role["groups"]] == [
        ("official", "Pejabat", shown(10)),
        ("spouse", "Pasangan", shown(10)),
    ]
    assert all("couples" not in g for g in by_role["groups"])  # a role has no couples
    assert "couples_both" in steps_of(by_role["total"])["activated"]


# ---------------------------------------------------------------- narrowing too far


def test_a_filter_that_leaves_fewer_than_k_outside_hides_every_figure(get, enrolled):
    for endpoint in ENDPOINTS:
        # 2026: 10 people; of them, the cohort tng-2026b has 6, which leaves 4 outside
        body = get(f"{endpoint}?period=2026&cohort=tng-2026b&lang=en")
        assert body["hidden_filters"] == ["cohort"], endpoint
        assert body["hidden_reason"] == REMAINDER_SMALL
        assert body["filters"]["period"] == "2026" and body["filters"]["cohort"] == "tng-2026b"
        every = figures(body)
        assert every and all(f == HIDDEN for f in every), endpoint
        indonesian = get(f"{endpoint}?period=2026&cohort=tng-2026b")["hidden_reason"]
        assert indonesian != REMAINDER_SMALL and "5" in indonesian

        wider = get(f"{endpoint}?period=2026&lang=en")  # 10 of 20: shown
        assert wider["hidden_reason"] is None and wider["hidden_filters"] == []
        assert not all(f["suppressed"] for f in figures(wider)), endpoint
    assert get("funnel?period=2026")["total"]["people"] == shown(10)


def test_a_filter_of_fewer_than_k_people_is_hidden_too(get, enrolled):
    organization = enrolled.organizations["UJI-001"]  # one couple
    body = get(f"funnel?organization={organization}&lang=en")
    assert body["hidden_filters"] == ["organization"] and body["hidden_reason"] == SUBSET_SMALL
    assert body["filters"]["organization"] == organization
    assert all(f == HIDDEN for f in figures(body))
    assert get("gain?cohort=tng-2026a")["hidden_filters"] == ["cohort"]  # 4 people
    assert get("funnel?cohort=tng-2025")["hidden_reason"] is None  # 10 of 20


# ---------------------------------------------------------------- learning: gain, trend, comparison


def test_gain_trend_and_comparison_of_the_learning(get, measured):
    gain = get("gain")
    assert gain["hidden_reason"] is None and gain["group_by"] is None
    total = gain["total"]
    assert total["gain"]["n"] == shown(5)  # matched: the five who took both tests
    assert total["gain"]["pre_mean"] == shown(50.0)
    assert total["gain"]["post_mean"] == shown(100.0)
    assert total["gain"]["class_gain"] == shown(1.0)
    assert total["gain"]["excluded"] == shown(0)
    assert total["gain"]["d_z"] == shown(None)  # every change alike: no spread, no d_z
    assert total["only_pre"] == shown(6) and total["only_post"] == shown(0)
    assert [(t["slug"], t["title"]) for t in gain["modules"]] == [
        ("satu", "Modul Satu"),
        ("dua", "Modul Dua"),
    ]
    assert {t["slug"] for t in gain["values"]} == {"integritas", "kejujuran"}
    assert all(t["gain"]["n"] == shown(5) for t in gain["modules"] + gain["values"])

    grouped = {g["key"]: g for g in get("gain?group_by=cohort")["groups"]}
    assert grouped["tng-2025"]["gain"]["n"] == shown(5)
    assert grouped["tng-2025"]["only_pre"] == HIDDEN  # 2
    assert grouped["tng-2026a"]["only_pre"] == HIDDEN  # 4
    assert grouped["tng-2026a"]["gain"]["n"] == shown(0)
    assert grouped["tng-2026a"]["gain"]["pre_mean"] == shown(None)  # nobody: no data

    funnel = steps_of(get("funnel")["total"])
    assert [funnel[s]["people"] for s in ("pretest", "module1", "module2", "posttest")] == [
        shown(11),
        shown(5),
        shown(5),
        shown(5),
    ]

    trend = get("trend?lang=en")
    assert trend["interval"] == "quarter"
    rows = trend["rows"]
    assert [(r["period"], r["label"]) for r in rows] == [
        ("2025-Q4", "Q4 2025"),
        ("2026-Q1", "Q1 2026"),
        ("2026-Q2", "Q2 2026"),
    ]
    first = rows[0]
    assert first["people"] == shown(10) and first["activated"] == shown(0.7)
    assert first["posttest"] == shown(0.5) and first["couples_complete"] == shown(0.0)
    assert first["gain"]["n"] == shown(5) and first["gain"]["post_mean"] == shown(100.0)
    for row in rows[1:]:  # 4 people, and 6 hidden beside them
        assert row["people"] == row["activated"] == row["posttest"] == HIDDEN
    yearly = get("trend?interval=year")["rows"]
    assert [(r["period"], r["people"], r["activated"]) for r in yearly] == [
        ("2025", shown(10), shown(0.7)),
        ("2026", shown(10), shown(1.0)),
    ]

    everything = get("comparison?lang=en")
    assert (everything["page"], everything["per_page"], everything["total"]) == (1, 50, 3)
    assert [c["slug"] for c in everything["items"]] == ["tng-2025", "tng-2026a", "tng-2026b"]
    first = get("comparison?per_page=1&lang=en")
    assert (first["page"], first["per_page"], first["total"]) == (1, 1, 3)
    [cohort] = first["items"]
    assert cohort == {
        "slug": "tng-2025",
        "title": "Angkatan tng-2025",
        "region": "kota-uji",
        "workshop_start": "2025-10-14",
        "status": {"key": "closed", "label": "Closed"},
        "people": shown(10),
        "activation": shown(0.7),
        # 7 took the pre-test, hidden as the complement of a smaller cohort: so is 5 / 7
        "post_uptake": HIDDEN,
        "completion": shown(0.0),
        "gain": first["items"][0]["gain"],
        "reasons": [{"key": "completion", "label": "Few couples finished"}],
    }
    assert cohort["gain"]["n"] == shown(5)
    second = get("comparison?per_page=1&page=2")
    assert second["total"] == 3 and [c["slug"] for c in second["items"]] == ["tng-2026a"]
    assert second["items"][0]["people"] == HIDDEN
    last = get("comparison?per_page=2&page=2")
    assert [c["slug"] for c in last["items"]] == ["tng-2026b"]
    assert last["items"][0]["status"]["key"] == "open"
    beyond = get("comparison?per_page=2&page=3")
    assert beyond["items"] == [] and beyond["total"] == 3


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("funnel?role=boss", "role"),
        ("gain?period=2024-13", "period"),
        ("trend?period=1999", "period"),
        ("funnel?group_by=nope", "group_by"),
        ("gain?group_by=", "group_by"),
        ("trend?group_by=region", "group_by"),  # the trend has intervals, not groups
        ("trend?interval=week", "interval"),
        ("comparison?per_page=201", "per_page"),
        ("comparison?page=0", "page"),
        ("funnel?lang=fr", "lang"),
        ("gain?organization=abc", "organization"),
        ("funnel?region=Kota%20Uji", "region"),
        ("funnel?province=a%00b", "province"),
        ("funnel?regio=kota-uji", "regio"),  # a misspelt filter never answers with everyone
    ],
)
def test_invalid_parameters_are_422_problems(client, token, path, parameter):
    body = assert_problem(client.get(f"/api/v1/{path}", headers=token.headers), 422)
    assert [e["parameter"] for e in body["errors"]] == [f"query.{parameter}"], body


@pytest.mark.parametrize(
    ("path", "parameter", "detail"),
    [
        ("funnel?region=tidak-ada", "region", "There is no region “tidak-ada”."),
        ("gain?province=Atlantis", "province", "There is no province “Atlantis”."),
        ("trend?organization=999", "organization", "There is no OPD “999”."),
        ("comparison?cohort=tidak-ada", "cohort", "There is no cohort “tidak-ada”."),
    ],
)
def test_filter_values_that_match_nothing_are_422_problems_naming_them(
    client, world, token, path, parameter, detail
):
    body = assert_problem(client.get(f"/api/v1/{path}", headers=token.headers), 422)
    assert body["detail"] == detail
    assert body["errors"] == [{"parameter": f"query.{parameter}", "problem": detail}]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_measures_need_a_valid_token(client, db, token, endpoint):
    path = f"/api/v1/{endpoint}"
    missing = client.get(path)
    assert_problem(missing, 401)
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.get(path, headers={"Authorization": f"Bearer {token.secret}x"})
    assert_problem(wrong, 401)
    assert wrong.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert client.get(path, headers=token.headers).status_code == 200
    with db.write() as session:
        service.token_revoke(session, actor=None, now=utcnow(), name=token.name)
    assert_problem(client.get(path, headers=token.headers), 401)
    assert client.get(path, headers=create_token(db, "lain").headers).status_code == 200


@pytest.mark.parametrize("role", ["participant", "kpk"])
def test_a_browser_session_opens_no_measure(client, db, settings, role):
    if role == "participant":
        make_couple(db, settings, make_cohort(db, "uji"), "uji-001")
        username = "uji-001-a"
    else:
        username = "analis-kpk"
        make_user(db, settings, username, role)
    assert login(client, username, PASSWORD).status_code == 303
    assert client.get("/").status_code == 200  # signed in
    for endpoint in ENDPOINTS:
        response = client.get(f"/api/v1/{endpoint}")
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


# ---------------------------------------------------------------- no one's name


def test_no_name_or_username_in_any_answer(client, measured, token):
    organization = measured.organizations["UJI-001"]
    filters = ["", "lang=en", "role=official", "role=spouse", "cohort=tng-2026a"]
    filters += [f"organization={organization}", "region=kota-uji&province=Banten&period=2025"]
    grouped = [f"group_by={g}&lang={lang}" for g in reports.GROUP_BY for lang in ("id", "en")]
    paths = ["openapi.json", "docs"]
    for endpoint in ENDPOINTS:
        paths += [f"{endpoint}?{query}" for query in filters]
    paths += [f"{endpoint}?{query}" for endpoint in ("funnel", "gain") for query in grouped]
    paths += [f"trend?interval={i}&lang=en" for i in INTERVALS]
    paths += ["comparison?per_page=1&page=2", "comparison?per_page=200"]
    secrets = [*measured.usernames, *measured.names, "Sastrowardoyo", "Nurhayati"]
    for path in paths:
        response = client.get(f"/api/v1/{path}", headers=token.headers)
        assert response.status_code in (200, 422), (path, response.text)
        for secret in secrets:
            assert secret.lower() not in response.text.lower(), (path, secret)


# ---------------------------------------------------------------- the schema


def test_the_schema_documents_the_measures(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/funnel", "/gain", "/trend", "/comparison"} <= set(schema["paths"])
    components = schema["components"]["schemas"]
    assert components["FigureOut"]["required"] == ["value", "suppressed"]
    assert set(components["FigureOut"]["properties"]) == {"value", "suppressed"}
    for endpoint in ENDPOINTS:
        operation = schema["paths"][f"/{endpoint}"]["get"]
        assert operation["tags"] == ["Measures"] and operation["security"] == [{"token": []}]
        assert set(operation["responses"]) == {"200", "401", "422", "429"}
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert {"region", "province", "organization", "cohort", "period", "role", "lang"} <= set(
            parameters
        )
    funnel = {p["name"]: p for p in schema["paths"]["/funnel"]["get"]["parameters"]}
    assert funnel["group_by"]["schema"]["anyOf"][0]["enum"] == list(reports.GROUP_BY)
    trend = {p["name"]: p for p in schema["paths"]["/trend"]["get"]["parameters"]}
    assert trend["interval"]["schema"]["enum"] == list(INTERVALS) and "group_by" not in trend
    comparison = {p["name"] for p in schema["paths"]["/comparison"]["get"]["parameters"]}
    assert {"page", "per_page"} <= comparison


def test_the_choices_are_the_reports_own():
    assert get_args(schemas.GroupBy) == reports.GROUP_BY
    assert get_args(schemas.Interval) == INTERVALS
    assert get_args(schemas.PartnerRole) == reports.ROLES
    assert get_args(schemas.Lang) == ("id", "en")
