"""The audit log: one line for every privileged action, written by the service that makes the
change, in the same transaction, at the time of the injected clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.accounts.models import AuditLog


def audit_record(
    session: Session,
    *,
    now: datetime,
    actor_id: int | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(AuditLog(at=now, actor_id=actor_id, action=action, target=target, detail=detail))
