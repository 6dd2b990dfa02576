"""The application with its clock set back (or ahead) to ``TEST_CLOCK_AT`` (an ISO date and
time with its offset) when the server starts, running on from there: for the browser tests of
what happens weeks after a workshop."""

from __future__ import annotations

import os
from datetime import datetime

from fastapi import FastAPI

from app.db import utcnow
from app.main import create_app


def create() -> FastAPI:
    at = datetime.fromisoformat(os.environ["TEST_CLOCK_AT"])
    offset = at - utcnow()
    return create_app(clock=lambda: utcnow() + offset)
