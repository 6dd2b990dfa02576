"""The reports' summary tables: one row per participant (``participant_summary``), and its sums
per cohort and partner role (``report_cohort``) and per cohort, OPD and role (``report_opd``).

They are kept by ``app.reports.summary`` in the same transaction as the learning events they
depend on; every KPK page, export and API answer reads the sums. Every column of the sums is
an integer (scores in hundredths of a percentage point, individual gains in ten-thousandths),
so a sum kept by adding and subtracting is exactly the sum recomputed from the raw tables.

The columns are written once here, from the milestones and topics below; the tables are plain
SQLAlchemy tables on the application's metadata (Alembic and ``alembic check`` see them).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
)
from sqlmodel import SQLModel

MODULE_SLOTS = 6
"""Modules a curriculum may have for the reports (by position: ``m1`` … ``m6``)."""
VALUE_SLOTS = 12
"""Integrity values a curriculum may have for the reports (by position: ``v1`` … ``v12``)."""

MILESTONES: tuple[str, ...] = (
    "activated",
    "pretest",
    *(f"module{i}" for i in range(1, MODULE_SLOTS + 1)),
    "attended",
    "posttest",
    "reflections",
    "pledge",
    "certificate",
)
"""What a participant has done (1) or not (0). ``module<i>``: the i-th module of the
curriculum passed (its quiz; a module without a quiz: its lessons done); ``attended``: present
on at least one workshop day; ``reflections``: every family reflection of the couple confirmed;
``certificate``: a certificate that is not revoked."""

TOPICS: tuple[str, ...] = (
    "all",
    *(f"m{i}" for i in range(1, MODULE_SLOTS + 1)),
    *(f"v{i}" for i in range(1, VALUE_SLOTS + 1)),
)
"""Where gain is measured: the whole test, each module's items, each value's items."""

# per participant: the scores of the topic when matched (both tests taken), else NULL
SCORE_COLUMNS: tuple[str, ...] = tuple(
    f"{t}_{part}" for t in TOPICS for part in ("pre", "post", "gain")
)
# per cube cell: sums over the participants of the cell
GAIN_SUMS: tuple[str, ...] = ("n", "pre", "post", "d2", "gn", "gain")
CUBE_COLUMNS: tuple[str, ...] = (
    "people",
    "couples",
    "only_pre",
    "only_post",
    *(f"n_{m}" for m in MILESTONES),
    *(f"both_{m}" for m in MILESTONES),
    *(f"one_{m}" for m in MILESTONES),
    *(f"{t}_{s}" for t in TOPICS for s in GAIN_SUMS),
)

_metadata = SQLModel.metadata


participant_summary = Table(
    "participant_summary",
    _metadata,
    # no foreign keys: a derived table, kept by ``app.reports.summary`` (a deleted participant's
    # row must stay until the summary subtracts it from its cells, not vanish by a cascade)
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("cohort_id", Integer, nullable=False),
    Column("organization_id", Integer, nullable=False),
    Column("couple_id", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    # the couple's counts are carried by one partner's row (the lower user id)
    Column("lead", SmallInteger, nullable=False),
    Column("only_pre", SmallInteger, nullable=False),
    Column("only_post", SmallInteger, nullable=False),
    *(Column(m, SmallInteger, nullable=False) for m in MILESTONES),
    *(Column(f"both_{m}", SmallInteger, nullable=False) for m in MILESTONES),
    *(Column(f"one_{m}", SmallInteger, nullable=False) for m in MILESTONES),
    *(Column(c, Integer, nullable=True) for c in SCORE_COLUMNS),
    Index("ix_participant_summary_cohort_id_organization_id", "cohort_id", "organization_id"),
    Index("ix_participant_summary_couple_id", "couple_id"),
)


def _cube(name: str, *keys: Column) -> Table:
    return Table(
        name,
        _metadata,
        *keys,
        Column("role", String(16), primary_key=True),
        *(Column(c, BigInteger, nullable=False) for c in CUBE_COLUMNS),
    )


report_cohort = _cube(
    "report_cohort",
    Column("cohort_id", Integer, ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True),
)
report_opd = _cube(
    "report_opd",
    Column("cohort_id", Integer, ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organization_id",
        Integer,
        ForeignKey("organization.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

Index("ix_report_opd_organization_id", report_opd.c.organization_id)
