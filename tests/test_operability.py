"""What an operator reads: a request id on every answer and error page, one JSON log line
per request with the route's template and nothing personal, and /metrics when switched on."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from app.edge import ACCESS_LOG
from tests.conftest import login
from tests.factories import make_user


@pytest.fixture
def access_lines(caplog):
    """The access log's lines, parsed (the logger does not propagate: listen to it)."""
    ACCESS_LOG.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger=ACCESS_LOG.name)
    yield lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOG.name]
    ACCESS_LOG.removeHandler(caplog.handler)


def test_every_answer_carries_a_request_id_and_a_proxys_id_is_kept(client):
    first = client.get("/login").headers["x-request-id"]
    second = client.get("/login").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", first) and first != second
    kept = client.get("/login", headers={"X-Request-ID": "nginx-7f3a9c21e4"})
    assert kept.headers["x-request-id"] == "nginx-7f3a9c21e4"
    odd = client.get("/login", headers={"X-Request-ID": "<script>"})
    assert re.fullmatch(r"[0-9a-f]{16}", odd.headers["x-request-id"])


def test_an_error_page_shows_the_id_of_its_log_line(client, access_lines):
    request_id = client.get("/login").headers["x-request-id"]
    page = client.get("/nowhere-at-all")
    assert page.status_code == 404
    assert "Bila Anda meminta bantuan, sebutkan kode ini:" in page.text
    assert f"<code>{page.headers['x-request-id']}</code>" in page.text
    ids = [line["request_id"] for line in access_lines()]
    assert request_id in ids and page.headers["x-request-id"] in ids


def test_one_json_line_per_request_with_the_route_template_and_nothing_personal(
    client, db, settings, access_lines
):
    make_user(db, settings, "nina", "admin", password="sandi-yang-panjang-9")
    assert login(client, "nina", "sandi-yang-panjang-9").status_code == 303
    client.get("/admin?q=nina-rahasia")
    client.get("/static/favicon.svg")
    client.get("/api/v1/regions?q=kota-rahasia")
    lines = access_lines()
    assert {tuple(sorted(line)) for line in lines} == {
        ("bytes", "duration_ms", "method", "request_id", "route", "status", "time")
    }
    routes = [(line["method"], line["route"], line["status"]) for line in lines]
    assert ("POST", "/login", 303) in routes
    assert ("GET", "/static/{path}", 200) in routes
    assert ("GET", "/api/v1/regions", 401) in routes
    admin = next(line for line in lines if line["route"].startswith("/admin"))
    assert admin["route"] == "/admin" and admin["status"] == 200 and admin["duration_ms"] >= 0
    text = json.dumps(lines)
    for personal in ("nina", "rahasia", "sandi", "testclient", "csrf"):
        assert personal not in text


def test_metrics_are_off_unless_switched_on(client, settings, db):
    from app.main import create_app

    assert client.get("/metrics").status_code == 404
    on = settings.model_copy(update={"metrics": True})
    with TestClient(create_app(on, db)) as c:
        c.get("/login")
        c.get("/login")
        c.get("/nowhere")
        body = c.get("/metrics")
    assert body.status_code == 200
    assert body.headers["content-type"].startswith("text/plain")
    assert 'integritas_requests_total{method="GET",route="/login",status="200"} 2.0' in body.text
    assert 'integritas_requests_total{method="GET",route="(no route)",status="404"} 1.0' in (
        body.text
    )
    assert 'integritas_request_seconds_bucket{le="0.005",method="GET",route="/login"}' in body.text
