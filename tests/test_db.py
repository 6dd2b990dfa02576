"""Concurrent writers wait for each other instead of failing."""

from __future__ import annotations

import threading

from sqlalchemy import text

from app.accounts.models import AuditLog


def test_concurrent_writers_all_succeed(db):
    errors = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with db.write() as session:
                    count = session.execute(text("SELECT count(*) FROM audit_log")).scalar()
                    session.add(AuditLog(actor_id=None, action="test", target=f"{n}-{i}-{count}"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.read() as session:
        assert session.query(AuditLog).count() == 60


def test_failed_write_leaves_nothing(db):
    try:
        with db.write() as session:
            session.add(AuditLog(actor_id=None, action="half"))
            session.flush()
            raise ValueError("stop")
    except ValueError:
        pass
    with db.read() as session:
        assert session.query(AuditLog).count() == 0
