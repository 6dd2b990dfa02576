"""Small-cell suppression (``app/reports/suppression.py``): every expected table worked out by
hand, following the rules in ``docs/suppression.md``, plus a property test that no hidden cell
can be recovered from one row or column and its total."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from app.exports import Column, csv_stream, xlsx_file
from app.i18n import fmt_percent
from app.reports.suppression import (
    NO_DATA_TEXT,
    Figure,
    Reason,
    SubsetProblem,
    Table,
    api_value,
    check_subset,
    count,
    display,
    explain,
    export_value,
    figure,
    follow,
    format_count,
    suppress_groups,
    suppress_table,
    suppressed_text,
)

K = 5


def values(table: Table) -> list[list[int | None]]:
    """The table as shown: cells with their row total, then the column totals and the total."""
    rows: list[list[int | None]] = [
        [c.value for c in row] + [total.value]
        for row, total in zip(table.cells, table.row_totals, strict=True)
    ]
    rows.append([c.value for c in table.column_totals] + [table.total.value])
    return rows


def reasons(table: Table) -> dict[tuple[int, int], Reason]:
    return {
        (i, j): c.reason
        for i, row in enumerate(table.cells)
        for j, c in enumerate(row)
        if c.reason is not None
    }


# --- primary suppression ------------------------------------------------------------------------


def test_a_figure_of_four_people_is_suppressed() -> None:
    f = figure(4, 0.75, k=K)
    assert f.suppressed and f.value is None and f.reason is Reason.SMALL
    assert f.n == 4 and f.k == 5
    assert not f.no_data


def test_a_figure_of_exactly_k_people_is_shown() -> None:
    f = figure(5, 0.4, k=K)
    assert not f.suppressed and f.value == 0.4 and f.reason is None


def test_a_count_carries_its_base_as_value() -> None:
    assert count(12, k=K) == Figure(n=12, value=12, k=5)
    assert count(4, k=K) == Figure(n=4, value=None, k=5, suppressed=True, reason=Reason.SMALL)


def test_nobody_is_no_data_not_suppressed() -> None:
    rate: Figure[float] = figure(0, None, k=K)
    assert rate.no_data and not rate.suppressed and rate.value is None
    assert display(rate, locale="id", fmt=fmt_percent) == NO_DATA_TEXT == "–"
    assert api_value(rate) == (None, False)
    assert export_value(rate) is None

    # a value given for nobody is dropped: a mean of no one has none
    assert figure(0, 0.0, k=K).value is None

    zero = count(0, k=K)
    assert zero.no_data and not zero.suppressed and zero.value == 0
    assert display(zero, locale="id", fmt=format_count) == "–"
    assert api_value(zero) == (0, False)
    assert export_value(zero) == 0

    small = figure(3, 0.5, k=K)
    assert small.suppressed and not small.no_data
    assert display(small, locale="id", fmt=fmt_percent) == "< 5"
    assert api_value(small) == (None, True)
    assert export_value(small) == "< 5"


def test_k_is_configurable() -> None:
    assert figure(7, 0.5, k=10).suppressed
    assert not figure(10, 0.5, k=10).suppressed
    assert not figure(7, 0.5, k=5).suppressed
    assert display(figure(7, 0.5, k=10), locale="en", fmt=fmt_percent) == "< 10"
    assert export_value(figure(9, 1.0, k=10)) == "< 10"

    # 7 < 10 is hidden; its row complement is the 12, its column complement the 15;
    # then row 1 (15 hidden) takes the 20 and column 1 (12 and 20 hidden) is settled.
    table = suppress_table([[7, 12, 30], [15, 20, 40]], k=10)
    assert values(table) == [
        [None, None, 30, 49],
        [None, None, 40, 75],
        [22, 32, 70, 124],
    ]
    assert reasons(table) == {
        (0, 0): Reason.SMALL,
        (0, 1): Reason.COMPLEMENT,
        (1, 0): Reason.COMPLEMENT,
        (1, 1): Reason.COMPLEMENT,
    }
    assert table.k == 10 and all(c.k == 10 for row in table.cells for c in row)


# --- complementary suppression in a table ------------------------------------------------------

# k = 5       A    B    C  | total
#  row 0      4    7   20  |   31      4 < 5: hidden (primary)
#  row 1      6    5   30  |   41
#  row 2     15    9   25  |   49
#  total     25   21   75  |  121
#
# Row 0 now has one hidden cell: 31 − 7 − 20 = 4 would give it away, so its smallest other
# non-zero cell, the 7, is hidden too. Column A likewise: 25 − 6 − 15 = 4, so the 6 (smaller
# than 15) goes. Column B then has one hidden cell (the 7): of 5 and 9 the 5 goes. Row 1 now
# holds the 6 and the 5 — two hidden cells — and every line has 0 or 2.
SIMPLE = [[4, 7, 20], [6, 5, 30], [15, 9, 25]]


def test_the_small_cell_is_hidden() -> None:
    table = suppress_table(SIMPLE, k=K)
    cell = table.cells[0][0]
    assert cell.suppressed and cell.value is None and cell.reason is Reason.SMALL and cell.n == 4


def test_its_row_complement_is_hidden_so_total_minus_visible_does_not_reveal_it() -> None:
    table = suppress_table(SIMPLE, k=K)
    row = table.cells[0]
    assert row[1].suppressed and row[1].reason is Reason.COMPLEMENT
    total = table.row_totals[0].value
    assert total is not None and total == 31
    visible = sum(c.value for c in row if c.value is not None)
    assert total - visible == 4 + 7  # not 4


def test_its_column_complement_is_hidden_too() -> None:
    table = suppress_table(SIMPLE, k=K)
    column = [row[0] for row in table.cells]
    assert column[1].suppressed and column[1].reason is Reason.COMPLEMENT
    visible = sum(c.value for c in column if c.value is not None)
    total = table.column_totals[0].value
    assert total is not None and total == 25
    assert total - visible == 4 + 6  # not 4


def test_the_whole_simple_table() -> None:
    table = suppress_table(SIMPLE, k=K)
    assert values(table) == [
        [None, None, 20, 31],
        [None, None, 30, 41],
        [15, 9, 25, 49],
        [25, 21, 75, 121],
    ]
    assert reasons(table) == {
        (0, 0): Reason.SMALL,
        (0, 1): Reason.COMPLEMENT,
        (1, 0): Reason.COMPLEMENT,
        (1, 1): Reason.COMPLEMENT,
    }
    assert not any(t.suppressed for t in (*table.row_totals, *table.column_totals, table.total))


def test_a_complement_can_make_another_line_need_one() -> None:
    # k = 5       A    B    C  | total
    #  row 0      4   10   20  |   34
    #  row 1      8   12   30  |   50
    #  row 2     15    9   25  |   49
    #
    # Pass 1, rows: row 0 hides its 10. Columns: A hides its 8 (8 < 15); B has the 10 hidden
    # and hides its 9 (9 < 12). Pass 2: row 1 has only the 8, hides its 12 (12 < 30); row 2 has
    # only the 9, hides its 15 (15 < 25). Pass 3 changes nothing: every row holds 2 hidden,
    # columns A and B 3, column C none.
    table = suppress_table([[4, 10, 20], [8, 12, 30], [15, 9, 25]], k=K)
    assert values(table) == [
        [None, None, 20, 34],
        [None, None, 30, 50],
        [None, None, 25, 49],
        [27, 31, 75, 133],
    ]
    assert reasons(table) == {
        (0, 0): Reason.SMALL,
        (0, 1): Reason.COMPLEMENT,
        (1, 0): Reason.COMPLEMENT,
        (2, 1): Reason.COMPLEMENT,
        (1, 1): Reason.COMPLEMENT,
        (2, 0): Reason.COMPLEMENT,
    }


def test_zeros_are_never_hidden_nor_chosen_as_complement() -> None:
    # Row 0: the 4 is hidden; the 0 beside it is no cover (0 is known to be 0), so the 9 goes.
    # Column A then takes the 6 and row 1 — with only the 6 hidden — its 8 (0 < 8 but 0 is no
    # candidate). Column B holds no hidden cell; column C holds the 9 and the 8.
    table = suppress_table([[4, 0, 9], [6, 0, 8]], k=K)
    assert values(table) == [[None, 0, None, 13], [None, 0, None, 14], [10, 0, 17, 27]]
    zero = table.cells[0][1]
    assert zero.no_data and not zero.suppressed


def test_ties_go_to_the_first_position() -> None:
    # Row 0: 3 hidden; 8 and 8 tie, the first one (column B) goes.
    table = suppress_table([[3, 8, 8], [7, 9, 9]], k=K)
    assert table.cells[0][1].suppressed and not table.cells[0][2].suppressed
    groups = suppress_groups([3, 8, 8], k=K)
    assert [c.value for c in groups.cells] == [None, None, 8]


def test_a_total_below_k_is_hidden_and_protected_in_its_own_line() -> None:
    # k = 5       A    B | total
    #  row 0      2    1 |    3     2, 1 and the row total 3 are all < 5: hidden
    #  row 1     10   20 |   30
    #  total     12   21 |   33
    #
    # Row 0 holds 3 hidden entries. Column A has only the 2: its 10 goes; column B only the 1:
    # its 20 goes (row 1 now holds 2). The row totals with the grand total (3, 30 | 33) would
    # give the 3 away as 33 − 30, so the 30 goes as well.
    table = suppress_table([[2, 1], [10, 20]], k=K)
    assert values(table) == [[None, None, None], [None, None, None], [12, 21, 33]]
    assert table.row_totals[0].reason is Reason.SMALL
    assert table.row_totals[1].reason is Reason.COMPLEMENT


def test_a_whole_table_below_k() -> None:
    table = suppress_table([[1, 1], [0, 2]], k=K)
    assert values(table) == [[None, None, None], [0, None, None], [None, None, None]]
    assert table.total.reason is Reason.SMALL


def test_the_total_is_the_complement_when_no_cell_can_be() -> None:
    # k = 5       A    B | total
    #  row 0      4    0 |    4     the 4 and its row total: hidden (primary)
    #  row 1      7    0 |    7
    #  row 2      9    6 |   15
    #
    # Column A has only the 4: the 7 goes (7 < 9). Row 1 now has only the 7 and no other
    # non-zero cell, so its total 7 goes. The row totals (4, 7, 15 | 26) then hold two.
    table = suppress_table([[4, 0], [7, 0], [9, 6]], k=K)
    assert values(table) == [[None, 0, None], [None, 0, None], [9, 6, 15], [20, 6, 26]]
    assert table.row_totals[1].reason is Reason.COMPLEMENT


def test_a_table_of_counts_big_enough_is_left_alone() -> None:
    table = suppress_table([[5, 6], [70, 0]], k=K)
    assert values(table) == [[5, 6, 11], [70, 0, 70], [75, 6, 81]]


def test_empty_tables() -> None:
    assert suppress_table([], k=K).total == count(0, k=K)
    table = suppress_table([[], []], k=K)
    assert values(table) == [[0], [0], [0]]


def test_malformed_input_is_refused() -> None:
    with pytest.raises(ValueError):
        suppress_table([[1, 2], [3]], k=K)
    with pytest.raises(ValueError):
        suppress_table([[1, -2]], k=K)
    with pytest.raises(ValueError):
        suppress_groups([1, 2], k=0)
    with pytest.raises(ValueError):
        figure(-1, None, k=K)
    with pytest.raises(ValueError):
        Figure(n=3, value=0.5, k=5, suppressed=True, reason=Reason.SMALL)
    with pytest.raises(ValueError):
        Figure(n=3, value=None, k=5, suppressed=True)


# --- one dimension: groups with a total ---------------------------------------------------------


def test_groups_with_a_total() -> None:
    # Regions 12, 3, 20, 8 (total 43): the 3 is hidden; 43 − 12 − 20 − 8 would give it away,
    # so the smallest other non-zero group, the 8, is hidden too. The total stays.
    groups = suppress_groups([12, 3, 20, 8], k=K)
    assert [c.value for c in groups.cells] == [12, None, 20, None]
    assert [c.reason for c in groups.cells] == [None, Reason.SMALL, None, Reason.COMPLEMENT]
    assert groups.total.value == 43 and not groups.total.suppressed
    assert groups.k == 5


def test_groups_funnel_by_role() -> None:
    # official 40, spouse 38: nothing to hide. official 40, spouse 2: the 2 goes and, with
    # two groups only, the 40 must go too (42 − 40 = 2).
    assert [c.value for c in suppress_groups([40, 38], k=K).cells] == [40, 38]
    hidden = suppress_groups([40, 2], k=K)
    assert [c.value for c in hidden.cells] == [None, None] and hidden.total.value == 42


def test_groups_zero_is_no_cover_and_total_below_k() -> None:
    assert [c.value for c in suppress_groups([3, 0, 9], k=K).cells] == [None, 0, None]
    few = suppress_groups([2, 1], k=K)
    assert [c.value for c in few.cells] == [None, None] and few.total.suppressed
    one = suppress_groups([4, 0], k=K)
    assert one.cells[0].suppressed and one.total.suppressed and one.cells[1].value == 0
    assert suppress_groups([], k=K).total.no_data


def test_groups_k_10() -> None:
    groups = suppress_groups([12, 9, 30, 11], k=10)
    assert [c.value for c in groups.cells] == [12, None, 30, None]
    assert display(groups.cells[1], locale="id", fmt=format_count) == "< 10"


# --- other figures follow the pattern of the counts -------------------------------------------


def test_rates_follow_the_pattern_of_their_counts() -> None:
    groups = suppress_groups([12, 3, 20, 8], k=K)
    finished = [6, 3, 10, 6]
    rates = [
        follow(g, figure(g.n, done / g.n, k=K))
        for g, done in zip(groups.cells, finished, strict=True)
    ]
    assert [r.value for r in rates] == [0.5, None, 0.5, None]
    assert [r.reason for r in rates] == [None, Reason.SMALL, None, Reason.COMPLEMENT]
    assert rates[3].n == 8  # the base is kept: the 8 is hidden as a complement, not as small


# --- differencing across filters ---------------------------------------------------------------


def test_a_small_subset_is_unsafe() -> None:
    check = check_subset(40, 3, k=K)
    assert not check.safe
    assert check.problem is SubsetProblem.SUBSET_SMALL
    assert check.remainder == 37
    assert check.message is not None and "%(k)s" in check.message


def test_a_subset_leaving_a_small_remainder_is_unsafe() -> None:
    check = check_subset(40, 38, k=K)
    assert not check.safe
    assert check.problem is SubsetProblem.REMAINDER_SMALL
    assert check.remainder == 2


def test_an_empty_or_whole_subset_is_safe() -> None:
    assert check_subset(40, 0, k=K).safe
    assert check_subset(40, 40, k=K).safe
    whole = check_subset(40, 40, k=K)
    assert whole.remainder == 0 and whole.problem is None and whole.message is None


def test_subset_boundaries_and_k() -> None:
    assert check_subset(40, 5, k=K).safe
    assert check_subset(40, 35, k=K).safe
    assert not check_subset(40, 36, k=K).safe
    assert not check_subset(40, 5, k=10).safe
    assert check_subset(40, 10, k=10).safe
    # a small group: even "none of them" singles the rest out
    assert not check_subset(3, 0, k=K).safe
    assert check_subset(0, 0, k=K).safe
    with pytest.raises(ValueError):
        check_subset(10, 11, k=K)


def test_a_refused_view_is_hidden_with_the_reason() -> None:
    check = check_subset(40, 38, k=K)
    shown = count(38, k=K)
    hidden = shown if check.safe else shown.hidden(Reason.DIFFERENCE)
    assert hidden.suppressed and hidden.value is None and hidden.reason is Reason.DIFFERENCE
    assert hidden.n == 38
    assert display(hidden, locale="id", fmt=format_count) == "< 5"
    assert api_value(hidden) == (None, True)
    # hiding again keeps the first reason
    assert figure(3, 1.0, k=K).hidden(Reason.DIFFERENCE).reason is Reason.SMALL


# --- output ----------------------------------------------------------------------------------


def test_display_formats_shown_values_in_the_locale() -> None:
    assert display(figure(40, 0.425, k=K), locale="id", fmt=fmt_percent) == "42%"
    assert display(count(1234, k=K), locale="id", fmt=format_count) == "1.234"
    assert display(count(1234, k=K), locale="en", fmt=format_count) == "1,234"
    assert display(figure(8, None, k=K), locale="en", fmt=fmt_percent) == "–"  # no value
    assert suppressed_text(1000, "en") == "< 1,000"
    assert suppressed_text(1000, "id") == "< 1.000"


def test_explain_gives_a_message_id_per_reason() -> None:
    assert explain(count(12, k=K)) is None
    small = explain(count(3, k=K))
    assert small is not None and "%(k)s" in small
    assert (small % {"k": 5}).startswith("Fewer than 5 people")
    complement = explain(suppress_groups([12, 3, 20, 8], k=K).cells[3])
    assert complement is not None and complement != small
    difference = explain(count(20, k=K).hidden(Reason.DIFFERENCE))
    assert difference is not None and difference not in (small, complement)


def test_the_api_value_serialises_as_null_with_a_flag() -> None:
    # 3 is hidden; its complement is the 12 (the 0 is no cover); the total 15 stays.
    groups = suppress_groups([12, 3, 0], k=K)
    body = [
        dict(zip(("value", "suppressed"), api_value(c), strict=True))
        for c in (*groups.cells, groups.total)
    ]
    assert json.loads(json.dumps(body)) == [
        {"value": None, "suppressed": True},
        {"value": None, "suppressed": True},
        {"value": 0, "suppressed": False},
        {"value": 15, "suppressed": False},
    ]


def test_exports_keep_suppressed_cells_as_text() -> None:
    groups = suppress_groups([12, 3, 20, 8], k=K)
    columns = [Column("region", "Region"), Column("couples", "Couples", kind="int")]
    rows = [
        {"region": name, "couples": export_value(c)}
        for name, c in zip("ABCD", groups.cells, strict=True)
    ]
    text = b"".join(csv_stream(columns, rows)).decode("utf-8-sig")
    assert text.splitlines() == ["Region,Couples", "A,12", "B,< 5", "C,20", "D,< 5"]

    buf = io.BytesIO()
    xlsx_file(columns, rows, sheet_title="Couples", path_or_stream=buf)
    sheet = load_workbook(io.BytesIO(buf.getvalue())).active
    assert sheet is not None
    assert [c.value for c in sheet["B"]] == ["Couples", 12, "< 5", 20, "< 5"]


# --- property: nothing hidden can be recovered by one subtraction ------------------------------


def lines(table: Table) -> list[tuple[list[Figure[int]], Figure[int]]]:
    """Every line with a total: rows, columns, row totals, column totals."""
    n_cols = len(table.column_totals)
    result: list[tuple[list[Figure[int]], Figure[int]]] = [
        (list(row), total) for row, total in zip(table.cells, table.row_totals, strict=True)
    ]
    result += [([row[j] for row in table.cells], table.column_totals[j]) for j in range(n_cols)]
    result.append((list(table.row_totals), table.total))
    result.append((list(table.column_totals), table.total))
    return result


def assert_no_single_subtraction_recovers(cells: list[Figure[int]], total: Figure[int]) -> None:
    hidden = sum(c.suppressed for c in cells)
    if not total.suppressed:
        # total − visible cells = the sum of the hidden ones: safe only if 0 or several
        assert hidden != 1
    else:
        # a hidden total with every cell visible is just their sum
        assert hidden >= 1


small_counts = st.one_of(st.integers(0, 12), st.integers(0, 200))


@settings(max_examples=400, deadline=None)
@given(
    grid=st.integers(1, 6).flatmap(
        lambda n_cols: st.lists(
            st.lists(small_counts, min_size=n_cols, max_size=n_cols), min_size=1, max_size=6
        )
    ),
    k=st.integers(1, 10),
)
def test_no_hidden_cell_can_be_recovered_from_one_row_or_column(
    grid: list[list[int]], k: int
) -> None:
    table = suppress_table(grid, k=k)
    for cells, total in lines(table):
        assert_no_single_subtraction_recovers(cells, total)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            c = table.cells[i][j]
            assert c.n == v
            if 0 < v < k:
                assert c.suppressed and c.reason is Reason.SMALL
            if v == 0:
                assert not c.suppressed and c.value == 0
            assert c.value == (None if c.suppressed else v)
    for t in (*table.row_totals, *table.column_totals, table.total):
        if 0 < t.n < k:
            assert t.suppressed
    assert table == suppress_table(grid, k=k)  # deterministic


@settings(max_examples=300, deadline=None)
@given(counts=st.lists(small_counts, max_size=10), k=st.integers(1, 10))
def test_no_hidden_group_can_be_recovered_from_the_total(counts: list[int], k: int) -> None:
    groups = suppress_groups(counts, k=k)
    assert groups.total.n == sum(counts)
    assert_no_single_subtraction_recovers(list(groups.cells), groups.total)
    for v, c in zip(counts, groups.cells, strict=True):
        assert c.suppressed == (0 < v < k) or c.reason is Reason.COMPLEMENT
        assert c.value == (None if c.suppressed else v)
