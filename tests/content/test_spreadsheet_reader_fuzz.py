"""The one spreadsheet reader every importer uses, under random files: it raises SpreadsheetError with a reason in
Chinese and nothing else, never yields past a limit nor a text with NUL, refuses exactly at each limit (bytes, rows,
columns, a cell's characters), and gives back the values a valid workbook or CSV file holds, as they were written."""

import datetime
import math

from django.utils import translation
from django.utils.translation import gettext
from hypothesis import event, given
from hypothesis import strategies as st

from content.spreadsheets import MAX_CELL_CHARS, SpreadsheetError, SpreadsheetLimits, spreadsheet_rows
from tests.factories.spreadsheets import xlsx_from_sheet_xml
from tests.fuzzing import (
    FILE_NAMES,
    READABLE_ENCODINGS,
    csv_file,
    damaged,
    file_formats,
    is_chinese,
    plain_text,
    ragged_rows,
    random_bytes,
    spreadsheet_file,
    supplied_text,
    xlsx_file,
)

LIMITS = SpreadsheetLimits(max_bytes=200_000, max_uncompressed_bytes=200_000, max_rows=8, max_columns=6, max_seconds=10)


def read(data: bytes, name: str, limits: SpreadsheetLimits = LIMITS):
    """The rows read, or the refusal's message; any other exception fails the test."""
    with translation.override("zh-hans"):
        try:
            return list(spreadsheet_rows(data=data, name=name, limits=limits)), None
        except SpreadsheetError as error:
            return None, str(error)


def assert_within(rows, limits: SpreadsheetLimits = LIMITS) -> None:
    for number, values in rows:
        assert 1 <= number <= limits.max_rows + 1, number
        assert 0 < len(values) <= limits.max_columns and values[-1] is not None, values
        texts = [value for value in values if isinstance(value, str)]
        # No text longer than a cell holds, and none with NUL, which no database text column takes.
        assert all(len(value) <= MAX_CELL_CHARS and "\x00" not in value for value in texts), values


@given(name=FILE_NAMES, data=random_bytes)
def test_random_bytes_are_refused_with_a_reason_in_chinese(name, data):
    rows, refusal = read(data, name)
    if refusal is None:
        event("read")
        assert_within(rows)
    else:
        event("refused")
        assert is_chinese(refusal, supplied_text(data)), refusal


@given(table=ragged_rows(8, max_rows=10), file_format=file_formats(), data=st.data())
def test_any_table_is_read_within_the_limits_or_refused_and_damage_is_only_ever_refused(table, file_format, data):
    name, content = spreadsheet_file(table, file_format)
    for attempt in (content, data.draw(damaged(content))):
        rows, refusal = read(attempt, name)
        if refusal is None:
            assert_within(rows)
        else:
            event("refused")
            assert is_chinese(refusal, supplied_text(table, attempt)), refusal


# --- Values come back as written ----------------------------------------------------------------------------

WORKBOOK_VALUES = st.one_of(
    plain_text(min_size=1, max_size=40),
    st.integers(-(2**53), 2**53),
    st.floats(-1e300, 1e300),  # Excel's own range ends below 1e308
    st.booleans(),
    st.dates(min_value=datetime.date(1900, 3, 1)),
    st.none(),
)


def expected_rows(table: list[list], convert) -> list[tuple[int, list]]:
    """What the reader yields for the table: each row that holds a value, with its number and without the empty
    cells at its end."""
    expected = []
    for number, row in enumerate(table, start=1):
        values = [convert(value) for value in row]
        while values and values[-1] is None:
            values.pop()
        if values:
            expected.append((number, values))
    return expected


def as_read_from_a_workbook(value):
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day)
    return value


@given(table=st.lists(st.lists(WORKBOOK_VALUES, max_size=6), max_size=8))
def test_a_workbook_gives_back_its_values_as_they_were_written(table):
    rows, refusal = read(xlsx_file(table), "a.xlsx")
    assert refusal is None, refusal
    expected = expected_rows(table, as_read_from_a_workbook)
    assert len(rows) == len(expected)
    for (number, values), (expected_number, expected_values) in zip(rows, expected, strict=True):
        assert number == expected_number
        assert len(values) == len(expected_values)
        for value, written in zip(values, expected_values, strict=True):
            if isinstance(written, float):
                # openpyxl writes 16 significant digits (Excel keeps 15), and 3.0 as 3, which reads as an int.
                assert math.isclose(value, written, rel_tol=1e-15, abs_tol=1e-300), (value, written)
                assert type(value) is float or written.is_integer(), (value, written)
            else:
                assert value == written and type(value) is type(written), (value, written)


@given(encoding=st.sampled_from(READABLE_ENCODINGS), data=st.data())
def test_a_csv_file_gives_back_its_text_in_every_encoding_it_may_come_in(encoding, data):
    text = plain_text(max_size=30, encoding=encoding) | st.sampled_from(["a,b", 'say "hi"', "line\nbreak", " "])
    table = data.draw(st.lists(st.lists(text, max_size=6), max_size=8))
    rows, refusal = read(csv_file(table, encoding), "a.csv")
    expected = expected_rows(table, lambda value: value if value.strip() else None)
    if refusal is not None:
        # Nothing but blank lines in a file without a BOM: no bytes at all.
        assert not expected and is_chinese(refusal), refusal
    else:
        assert rows == expected


# --- Exactly at each limit ----------------------------------------------------------------------------------


@given(
    rows=st.integers(LIMITS.max_rows - 1, LIMITS.max_rows + 2),
    columns=st.integers(LIMITS.max_columns - 1, LIMITS.max_columns + 1),
    file_format=file_formats(encodings=READABLE_ENCODINGS),
    filler=st.sampled_from(["x", "护", "1"]),
)
def test_rows_and_columns_are_refused_exactly_past_their_limits(rows, columns, file_format, filler):
    table = [[f"{filler}{column}" for column in range(columns)] for _row in range(rows + 1)]
    name, content = spreadsheet_file(table, file_format)
    read_rows, refusal = read(content, name)
    if rows > LIMITS.max_rows or columns > LIMITS.max_columns:
        assert refusal is not None and is_chinese(refusal), refusal
        # The header is read first: too wide is what it says of a file both too wide and too long.
        assert str(LIMITS.max_columns if columns > LIMITS.max_columns else LIMITS.max_rows) in refusal
    else:
        assert refusal is None, refusal
        assert len(read_rows) == rows + 1


@given(file_format=file_formats(encodings=READABLE_ENCODINGS), over=st.integers(-1, 1), table=ragged_rows(3))
def test_a_file_is_refused_exactly_past_the_byte_limit(file_format, over, table):
    name, content = spreadsheet_file([["条款编号", "条款标题"], *table], file_format)
    limits = SpreadsheetLimits(**{**LIMITS.__dict__, "max_bytes": len(content) - over})
    _rows, refusal = read(content, name, limits)
    with translation.override("zh-hans"):
        too_large = gettext("The file is larger than %(size)s MB; split it into smaller files.") % {"size": 1}
    assert (refusal == too_large) == (over > 0), refusal


@given(file_format=file_formats(encodings=["utf-8", "gb18030"]), over=st.integers(-1, 1), filler=st.sampled_from("x护"))
def test_a_cell_is_refused_exactly_past_what_a_spreadsheet_cell_holds(file_format, over, filler):
    limits = SpreadsheetLimits(**{**LIMITS.__dict__, "max_bytes": 10**6, "max_uncompressed_bytes": 10**6})
    text = filler * (MAX_CELL_CHARS + over)
    if file_format[0] == "xlsx":
        # Written by hand: openpyxl cuts a longer text to what Excel holds, but a file need not come from Excel.
        name, content = (
            "a.xlsx",
            xlsx_from_sheet_xml(
                [
                    '<row r="1"><c r="A1" t="inlineStr"><is><t>条款编号</t></is></c></row>'
                    f'<row r="2"><c r="A2" t="inlineStr"><is><t>{text}</t></is></c></row>'
                ]
            ),
        )
    else:
        name, content = spreadsheet_file([["条款编号"], [text]], file_format)
    rows, refusal = read(content, name, limits)
    if over > 0:
        assert refusal is not None and f"{MAX_CELL_CHARS:,}" in refusal and is_chinese(refusal)
    else:
        assert refusal is None, refusal
        assert len(rows[1][1][0]) == MAX_CELL_CHARS + over
