"""Small-cell suppression: the one implementation used by the KPK pages, the exports and the API.

KPK sees aggregates only, and an aggregate of very few people is nearly a personal record. The
rules (``docs/suppression.md`` explains them to readers, in Indonesian and English):

1. **Primary suppression.** A figure computed from fewer than ``k`` people
   (``k = settings.min_cell_size``, default 5) is hidden: ``Figure.value`` is ``None``,
   ``Figure.suppressed`` is ``True`` and the reason is ``Reason.SMALL``. A figure of **nobody**
   (``n == 0``) is *no data* — not suppressed: there is no one to protect, and a zero is shown
   as "–" (a count keeps its value 0 for the API and exports, a mean or a rate has none).
2. **Complementary suppression.** In a table of counts with its totals (``suppress_table``) or
   a list of groups with its total (``suppress_groups``), a line — a row with its row total, a
   column with its column total, the row totals with the grand total, the column totals with
   the grand total, or the groups with their total — that holds exactly **one** hidden entry
   would give it away by subtraction (total − the visible cells). So the smallest other
   non-zero visible cell of that line is hidden too (``Reason.COMPLEMENT``; ties go to the
   first by position; the line's total only when no cell qualifies), and this repeats, line by
   line in a fixed order, until no line holds exactly one hidden entry. A total of fewer than
   ``k`` people is itself hidden by rule 1. Zeros are never hidden and never chosen.
3. **Differencing across filters.** A filtered view (a region narrowed to one OPD, one role…)
   can be subtracted from the wider view. ``check_subset(group, subset, k=k)`` says a subset
   may be shown only when both the subset and the remainder ``group − subset`` are 0 or ≥ k;
   otherwise the page hides the view (``Figure.hidden(Reason.DIFFERENCE)``) and says why
   (``SubsetCheck.message``).
4. **Rendering.** ``display`` (pages: ``"< 5"`` or ``"–"``), ``api_value`` (JSON:
   ``(None, True)`` when suppressed) and ``export_value`` (CSV/XLSX: the text ``"< 5"`` in a
   suppressed cell) are the only places that turn a figure into output.

What this protects against: recovering a hidden cell from **one** row or column and its total,
and narrowing a view by filters until a small group shows. It does not make the table immune
to every combination of several equations (interval attacks); with hidden cells of at least
two per line and ``k ≥ 5`` that leaves ranges, not people.

Pure standard library, no database, no web: the services compute, this module decides what may
be shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from app.i18n import N_

V = TypeVar("V")
W = TypeVar("W")
T_co = TypeVar("T_co", covariant=True)

NO_DATA_TEXT = "–"
"""Shown for a figure of nobody (n = 0) or one without a value; an en dash, like ``fmt_percent``."""


class Reason(StrEnum):
    """Why a figure is hidden."""

    SMALL = "small"
    """Computed from fewer than ``k`` people (primary suppression)."""
    COMPLEMENT = "complement"
    """Hidden so that another hidden figure cannot be worked out from a total."""
    DIFFERENCE = "difference"
    """Hidden because a filter would single out fewer than ``k`` people against a wider view."""


REASON_MESSAGES: dict[Reason, str] = {
    Reason.SMALL: N_("Fewer than %(k)s people: hidden so that no one can be recognised."),
    Reason.COMPLEMENT: N_(
        "Hidden as well, so that a hidden figure cannot be worked out from the total and the "
        "other figures."
    ),
    Reason.DIFFERENCE: N_(
        "Hidden: compared with the wider view, this filter would single out fewer than %(k)s "
        "people."
    ),
}
"""Message ids (English, translated where shown) with a ``%(k)s`` placeholder."""


def _check_k(k: int) -> None:
    if type(k) is not int or k < 1:  # not a bool either (a bool's type is bool)
        raise ValueError(f"k must be a positive integer, not {k!r}")


def _check_n(n: int, what: str = "n") -> None:
    if type(n) is not int or n < 0:  # not a bool either
        raise ValueError(f"{what} must be a non-negative integer, not {n!r}")


@dataclass(frozen=True, slots=True)
class Figure(Generic[T_co]):
    """One number for an aggregate view, with the number of people it is computed from.

    ``n`` is the base (people counted, or the people a rate, a mean or a gain is computed
    from); ``value`` the figure itself — ``None`` when suppressed, and for a measure of nobody.
    ``k`` is the threshold it was judged by, so that ``display`` can say "< k". Build it with
    ``figure`` or ``count`` (which apply the primary rule), not directly.
    """

    n: int
    value: T_co | None
    k: int
    suppressed: bool = False
    reason: Reason | None = None

    def __post_init__(self) -> None:
        _check_n(self.n)
        _check_k(self.k)
        if self.suppressed != (self.reason is not None):
            raise ValueError("a suppressed figure has a reason, and only a suppressed one")
        if self.suppressed and self.value is not None:
            raise ValueError("a suppressed figure has no value")

    @property
    def no_data(self) -> bool:
        """Nobody to count (n = 0): shown as "–", never suppressed, and not a secret."""
        return self.n == 0 and not self.suppressed

    @property
    def shown(self) -> bool:
        """The value may be shown (it may still be ``None`` for a measure of nobody)."""
        return not self.suppressed

    def hidden(self, reason: Reason) -> Figure[T_co]:
        """This figure suppressed for ``reason`` (a figure already hidden keeps its reason)."""
        if self.suppressed:
            return self
        return Figure(n=self.n, value=None, k=self.k, suppressed=True, reason=reason)


def figure(n: int, value: V | None, *, k: int) -> Figure[V]:
    """A figure computed from ``n`` people, suppressed when ``0 < n < k``.

    With ``n == 0`` the figure is "no data": a mean or a rate of nobody has no value, so
    ``value`` is dropped (use ``count`` for a head count, whose 0 is a value).
    """
    # (``Figure`` checks n and k)
    if n == 0:
        return Figure(n=0, value=None, k=k)
    if n < k:
        return Figure(n=n, value=None, k=k, suppressed=True, reason=Reason.SMALL)
    return Figure(n=n, value=value, k=k)


def count(n: int, *, k: int) -> Figure[int]:
    """A head count: its value is its base. A count of 0 is "no data" with the value 0."""
    if n == 0:
        return Figure(n=0, value=0, k=k)
    return figure(n, n, k=k)


def follow(source: Figure[Any], target: Figure[W]) -> Figure[W]:
    """``target`` hidden wherever ``source`` is, for the same reason.

    For a rate, a mean or a gain shown in the cell of a count table: suppress the count table
    first, then let the other figures of the same cell follow its pattern.
    """
    if source.suppressed and source.reason is not None:
        return target.hidden(source.reason)
    return target


# --- complementary suppression -----------------------------------------------------------------


def _protect(
    values: Sequence[int], lines: Sequence[tuple[tuple[int, ...], int]], k: int
) -> dict[int, Reason]:
    """Which entries to hide, and why.

    ``values`` are the counts of all entries (cells and totals alike); each line is the indices
    of its cells, in display order, and the index of its total. Primary suppression first, then
    a complement for every line with exactly one hidden entry, in passes over the lines in
    their given order until a pass changes nothing. Each step hides one more non-zero entry, so
    it ends; a line with one hidden entry always has a candidate (a hidden cell is non-zero, so
    the total is too, and a hidden total is the sum of its cells, so one of them is non-zero).
    """
    hidden = {i: Reason.SMALL for i, v in enumerate(values) if 0 < v < k}
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            if sum(1 for e in (*cells, total) if e in hidden) != 1:
                continue
            candidates = [e for e in cells if e not in hidden and values[e] > 0]
            if not candidates:
                candidates = [total]
            # min() keeps the first of equal keys: ties go to the earlier position.
            chosen = min(candidates, key=lambda e: values[e])
            assert chosen not in hidden and values[chosen] > 0
            hidden[chosen] = Reason.COMPLEMENT
            changed = True
    return hidden


def _entry(value: int, k: int, reason: Reason | None) -> Figure[int]:
    if reason is None:
        return Figure(n=value, value=value, k=k)
    return Figure(n=value, value=None, k=k, suppressed=True, reason=reason)


@dataclass(frozen=True, slots=True)
class Groups:
    """A list of groups (regions, roles, stages…) with their total, suppressed."""

    cells: tuple[Figure[int], ...]
    total: Figure[int]
    k: int


@dataclass(frozen=True, slots=True)
class Column:
    """A list of groups with its total, suppressed as ``suppress_groups`` does, whose entries
    become figures only when asked for (``column[i]``, ``column.total``): a national list of
    hundreds of cohorts is suppressed whole, but a page shows a few of them."""

    counts: tuple[int, ...]  # the groups, then their total
    hidden: Mapping[int, Reason]  # index → why it is hidden
    k: int

    def __len__(self) -> int:
        return len(self.counts) - 1

    def __getitem__(self, i: int) -> Figure[int]:
        if not 0 <= i < len(self.counts) - 1:
            raise IndexError(i)
        return _entry(self.counts[i], self.k, self.hidden.get(i))

    @property
    def total(self) -> Figure[int]:
        last = len(self.counts) - 1
        return _entry(self.counts[last], self.k, self.hidden.get(last))

    def reason(self, i: int) -> Reason | None:
        """Why group ``i`` is hidden (None: it is shown), without making its figure."""
        return self.hidden.get(i)


def suppress_column(counts: Sequence[int], *, k: int) -> Column:
    """Primary and complementary suppression of groups whose total is shown (or known),
    decided on the counts; the figures are made on demand."""
    _check_k(k)
    values = list(counts)
    for v in values:
        _check_n(v, "a count")
    total_index = len(values)
    values.append(sum(values))
    hidden = _protect(values, [(tuple(range(total_index)), total_index)], k)
    return Column(counts=tuple(values), hidden=hidden, k=k)


def suppress_groups(counts: Sequence[int], *, k: int) -> Groups:
    """Primary and complementary suppression of groups whose total is shown (or known).

    >>> g = suppress_groups([12, 3, 20, 8], k=5)
    >>> [c.value for c in g.cells], g.total.value
    ([12, None, 20, None], 43)
    """
    column = suppress_column(counts, k=k)
    return Groups(cells=tuple(column[i] for i in range(len(column))), total=column.total, k=k)


@dataclass(frozen=True, slots=True)
class Table:
    """A table of counts (rows × columns) with row, column and grand totals, suppressed."""

    cells: tuple[tuple[Figure[int], ...], ...]
    row_totals: tuple[Figure[int], ...]
    column_totals: tuple[Figure[int], ...]
    total: Figure[int]
    k: int


def suppress_table(counts: Sequence[Sequence[int]], *, k: int) -> Table:
    """Primary and complementary suppression of a table of counts whose totals are shown.

    Totals are the sums of the cells. The lines checked, in this order: every row with its
    row total, every column with its column total, the row totals with the grand total, the
    column totals with the grand total.
    """
    _check_k(k)
    grid = [list(row) for row in counts]
    n_rows = len(grid)
    n_cols = len(grid[0]) if grid else 0
    if any(len(row) != n_cols for row in grid):
        raise ValueError("every row of a table has the same number of cells")
    for row in grid:
        for v in row:
            _check_n(v, "a count")

    # Entries: the cells row by row, then the row totals, the column totals, the grand total.
    def cell(i: int, j: int) -> int:
        return i * n_cols + j

    def row_total(i: int) -> int:
        return n_rows * n_cols + i

    def column_total(j: int) -> int:
        return n_rows * n_cols + n_rows + j

    grand = n_rows * n_cols + n_rows + n_cols
    values = [v for row in grid for v in row]
    values += [sum(row) for row in grid]
    values += [sum(grid[i][j] for i in range(n_rows)) for j in range(n_cols)]
    values.append(sum(values[: n_rows * n_cols]))

    lines = [(tuple(cell(i, j) for j in range(n_cols)), row_total(i)) for i in range(n_rows)]
    lines += [(tuple(cell(i, j) for i in range(n_rows)), column_total(j)) for j in range(n_cols)]
    lines.append((tuple(row_total(i) for i in range(n_rows)), grand))
    lines.append((tuple(column_total(j) for j in range(n_cols)), grand))
    hidden = _protect(values, lines, k)

    def fig(e: int) -> Figure[int]:
        return _entry(values[e], k, hidden.get(e))

    return Table(
        cells=tuple(tuple(fig(cell(i, j)) for j in range(n_cols)) for i in range(n_rows)),
        row_totals=tuple(fig(row_total(i)) for i in range(n_rows)),
        column_totals=tuple(fig(column_total(j)) for j in range(n_cols)),
        total=fig(grand),
        k=k,
    )


# --- differencing across filters --------------------------------------------------------------


class SubsetProblem(StrEnum):
    SUBSET_SMALL = "subset_small"
    """The filtered view itself has fewer than ``k`` people."""
    REMAINDER_SMALL = "remainder_small"
    """The wider view minus the filtered one leaves fewer than ``k`` people."""


SUBSET_MESSAGES: dict[SubsetProblem, str] = {
    SubsetProblem.SUBSET_SMALL: N_(
        "This selection has fewer than %(k)s people, so its figures are hidden. Choose a wider "
        "selection."
    ),
    SubsetProblem.REMAINDER_SMALL: N_(
        "Fewer than %(k)s people fall outside this selection, so its figures are hidden: "
        "subtracting them from the wider view would reveal those people. Choose a wider "
        "selection."
    ),
}
"""Message ids (English, translated where shown) with a ``%(k)s`` placeholder."""


@dataclass(frozen=True, slots=True)
class SubsetCheck:
    """Whether a filtered view (``subset`` of ``group`` people) may be shown beside its group."""

    group: int
    subset: int
    remainder: int
    k: int
    problem: SubsetProblem | None

    @property
    def safe(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str | None:
        """The message id saying why the view is refused (``%(k)s`` placeholder), or None."""
        return None if self.problem is None else SUBSET_MESSAGES[self.problem]


def check_subset(group: int, subset: int, *, k: int) -> SubsetCheck:
    """May a view of ``subset`` people, taken from a wider view of ``group``, be shown?

    Only when the subset and the remainder ``group − subset`` are each 0 or at least ``k``:
    otherwise the two views subtracted give a group of fewer than ``k``. A page calls this for
    every filter in the URL, with ``group`` the size of the view without that filter, and hides
    the filtered figures when any check fails.
    """
    _check_n(group, "group")
    _check_n(subset, "subset")
    _check_k(k)
    if subset > group:
        raise ValueError(f"a subset ({subset}) cannot be larger than its group ({group})")
    remainder = group - subset
    problem = None
    if 0 < subset < k:
        problem = SubsetProblem.SUBSET_SMALL
    elif 0 < remainder < k:
        problem = SubsetProblem.REMAINDER_SMALL
    return SubsetCheck(group=group, subset=subset, remainder=remainder, k=k, problem=problem)


# --- output -----------------------------------------------------------------------------------


def format_count(value: int, locale: str) -> str:
    """A whole number with the locale's thousands separator: ``1.234`` (id), ``1,234`` (en)."""
    separator = "," if locale == "en" else "."
    return f"{value:,}".replace(",", separator)


def suppressed_text(k: int, locale: str = "id") -> str:
    """The text of a suppressed cell: ``< 5``."""
    return "< " + format_count(k, locale)


def display(figure: Figure[V], *, locale: str, fmt: Callable[[V, str], str]) -> str:
    """The text of a figure on a page: ``< 5`` when suppressed, ``–`` for no data, else
    ``fmt(value, locale)`` (``fmt_percent`` for a share, ``format_count`` for a count…)."""
    if figure.suppressed:
        return suppressed_text(figure.k, locale)
    if figure.no_data or figure.value is None:
        return NO_DATA_TEXT
    return fmt(figure.value, locale)


def explain(figure: Figure[Any]) -> str | None:
    """The message id saying why a figure is hidden (``%(k)s`` placeholder), or None."""
    return None if figure.reason is None else REASON_MESSAGES[figure.reason]


def api_value(figure: Figure[V]) -> tuple[V | None, bool]:
    """``(value, suppressed)`` for the JSON API: ``(None, True)`` when suppressed, ``(None,
    False)`` for a measure of nobody, ``(0, False)`` for a count of nobody."""
    if figure.suppressed:
        return None, True
    return figure.value, False


def export_value(figure: Figure[V]) -> V | str | None:
    """The cell of a CSV or XLSX export: the number itself, the text ``< 5`` when suppressed
    (never a number a spreadsheet could add up), empty (``None``) when there is no value."""
    if figure.suppressed:
        return suppressed_text(figure.k)
    return figure.value
