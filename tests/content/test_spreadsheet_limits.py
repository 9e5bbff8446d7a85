"""The one reader every importer uses refuses hostile files quickly, in bounded memory, with a reason in Chinese:
a declared dimension or a grid of empty rows costs only what is really in the file, and the limits on bytes,
unpacked bytes, rows, columns and time are counted while reading."""

import datetime
import io
import tracemalloc
import zipfile

import pytest

from content.spreadsheets import (
    MAX_CELL_CHARS,
    Column,
    SpreadsheetError,
    SpreadsheetLimits,
    spreadsheet_read,
    spreadsheet_rows,
)
from tests.factories.spreadsheets import (
    csv_bytes,
    xlsx_bytes,
    xlsx_declaring_the_whole_grid,
    xlsx_from_sheet_xml,
    xlsx_with_empty_rows,
    xlsx_with_truncated_sheet,
    xlsx_with_zip_bomb_member,
    zip_declaring_a_smaller_member,
    zip_of_many_members,
)

COLUMNS = [Column("number", "条款编号", required=True), Column("title", "条款标题", required=True)]
HEADER = ["条款编号", "条款标题"]
ROWS_MESSAGE = "超过 100,000 行"


def refusal(data: bytes, name: str = "hostile.xlsx", limits: SpreadsheetLimits | None = None) -> str:
    with pytest.raises(SpreadsheetError) as error:
        spreadsheet_read(data=data, name=name, columns=COLUMNS, limits=limits)
    return str(error.value)


def peak_memory(read) -> int:
    """The most memory, in bytes, Python allocated while `read` ran."""
    tracemalloc.start()
    try:
        read()
    except SpreadsheetError:
        pass
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def test_the_limits_come_from_the_settings(settings):
    settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS = 7, 3
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES, settings.IMPORT_MAX_SECONDS = 1024, 2.5
    limits = SpreadsheetLimits.from_settings(max_bytes=99)
    assert (limits.max_rows, limits.max_columns, limits.max_uncompressed_bytes) == (7, 3, 1024)
    assert (limits.max_seconds, limits.max_bytes) == (2.5, 99)


# --- A dimension declaring the whole grid -----------------------------------------------------------------


def test_a_declared_dimension_of_the_whole_grid_costs_only_the_cells_really_there():
    data = xlsx_declaring_the_whole_grid([HEADER, ["5", "生活照料"]])
    assert len(data) < 2048
    rows = []
    peak = peak_memory(lambda: rows.extend(spreadsheet_read(data=data, name="a.xlsx", columns=COLUMNS)))
    assert [(row.number, row.values) for row in rows] == [(2, {"number": "5", "title": "生活照料"})]
    assert peak < 2 * 1024 * 1024


def test_a_value_in_the_last_cell_of_the_grid_is_refused_without_building_the_grid():
    data = xlsx_declaring_the_whole_grid([HEADER, ["5", "生活照料"]], far_corner="x")
    assert len(data) < 2048
    assert "第 100 列之后仍有内容" in refusal(data)
    assert peak_memory(lambda: spreadsheet_read(data=data, name="a.xlsx", columns=COLUMNS)) < 2 * 1024 * 1024


def test_a_value_below_the_last_row_allowed_is_refused():
    limits = SpreadsheetLimits.from_settings(max_rows=10)
    data = xlsx_from_sheet_xml(
        [
            '<row r="1"><c r="A1" t="inlineStr"><is><t>条款编号</t></is></c></row>',
            '<row r="12"><c r="A12"><v>5</v></c></row>',
        ]
    )
    assert "超过 10 行" in refusal(data, limits=limits)


# --- Millions of empty rows -------------------------------------------------------------------------------


def test_two_million_empty_rows_are_refused_at_the_row_limit():
    data = xlsx_with_empty_rows(HEADER, 2_000_000)
    assert len(data) < 64 * 1024
    assert ROWS_MESSAGE in refusal(data)
    assert peak_memory(lambda: spreadsheet_read(data=data, name="a.xlsx", columns=COLUMNS)) < 2 * 1024 * 1024


def test_reading_stops_at_the_first_row_past_the_limit():
    # The sheet is cut off after its empty rows: a reader that went on to the end would call it damaged.
    data = xlsx_with_empty_rows(HEADER, 2_000_000, then_damaged=True)
    assert ROWS_MESSAGE in refusal(data)
    limits = SpreadsheetLimits.from_settings(max_rows=1000)
    rows = spreadsheet_rows(data=xlsx_with_empty_rows(HEADER, 999, then_damaged=True), name="a.xlsx", limits=limits)
    assert next(rows) == (1, HEADER)
    with pytest.raises(SpreadsheetError) as error:
        next(rows)
    assert "已损坏" in str(error.value)  # within the limit, the sheet was read to its broken end


def test_empty_rows_up_to_the_limit_are_read_and_skipped():
    data = xlsx_with_empty_rows(HEADER, 999)
    limits = SpreadsheetLimits.from_settings(max_rows=1000)
    assert list(spreadsheet_rows(data=data, name="a.xlsx", limits=limits)) == [(1, HEADER)]


# --- Zip bombs and broken packages ------------------------------------------------------------------------


def test_a_member_that_declares_more_than_the_unpacked_limit_is_refused_before_it_is_read():
    data = xlsx_with_zip_bomb_member(HEADER, 3 * 1024 * 1024)
    assert len(data) < 32 * 1024
    limits = SpreadsheetLimits.from_settings(max_uncompressed_bytes=1024 * 1024)
    assert "解压后超过 1 MB" in refusal(data, limits=limits)
    peak = peak_memory(lambda: spreadsheet_read(data=data, name="a.xlsx", columns=COLUMNS, limits=limits))
    assert peak < 512 * 1024


def test_a_member_that_lies_about_its_size_is_refused_as_damaged():
    data = zip_declaring_a_smaller_member(
        xlsx_with_zip_bomb_member(HEADER, 3 * 1024 * 1024), "xl/worksheets/sheet1.xml", 1000
    )
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    limits = SpreadsheetLimits.from_settings(max_uncompressed_bytes=1024 * 1024)
    assert "已损坏" in refusal(data, limits=limits)


def test_a_zip_of_thousands_of_members_is_no_workbook():
    assert "Excel 工作簿" in refusal(zip_of_many_members(1500))


@pytest.mark.parametrize(
    "data",
    [
        xlsx_with_truncated_sheet([HEADER] + [[f"5.{n}", "条款"] for n in range(50)]),
        xlsx_bytes([HEADER, ["5", "生活照料"]])[:-200],  # the zip itself cut off
        xlsx_from_sheet_xml(['<row r="1"><c r="A1"><v>1</v></c>']),  # an element left open
        xlsx_from_sheet_xml(['<row r="1"><c r="ZZZZ1"><v>1</v></c></row>']),
        xlsx_from_sheet_xml(['<row r="99999999999"><c><v>1</v></c></row>']),
        xlsx_from_sheet_xml(['<row r="1"><c t="s"><v>7</v></c></row>']),  # no shared string 7
    ],
    ids=["truncated sheet XML", "truncated zip", "unclosed element", "column beyond XFD", "row number", "string"],
)
def test_a_damaged_workbook_is_refused_with_a_reason(data):
    message = refusal(data)
    assert "已损坏" in message or "Excel 工作簿" in message


def test_a_part_with_a_doctype_is_refused_before_its_entities_expand():
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 10))
        + ']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
    )
    data = xlsx_from_sheet_xml(
        ['<row r="1"><c r="A1" t="s"><v>0</v></c></row>'],
        parts={
            "xl/sharedStrings.xml": laughs,
            "xl/_rels/workbook.xml.rels": (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                "</Relationships>"
            ),
        },
    )
    assert "已损坏" in refusal(data)


# --- Time, size and cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a.xlsx", "a.csv"])
def test_reading_past_the_deadline_is_refused(name):
    data = xlsx_bytes([HEADER, ["5", "x"]]) if name.endswith("xlsx") else csv_bytes([HEADER, ["5", "x"]] * 300)
    assert "读取文件超过 0 秒" in refusal(data, name, SpreadsheetLimits.from_settings(max_seconds=0))


@pytest.mark.parametrize("name", ["a.xlsx", "a.csv"])
def test_a_file_over_the_byte_limit_is_refused_unread(name):
    data = b"\0" * (1024 * 1024 + 1)
    assert "文件超过 1 MB" in refusal(data, name, SpreadsheetLimits.from_settings(max_bytes=1024 * 1024))


@pytest.mark.parametrize("name", ["a.xlsx", "a.csv"])
def test_a_cell_longer_than_a_spreadsheet_cell_is_refused(name):
    long_text = "长" * (MAX_CELL_CHARS + 1)
    if name.endswith("xlsx"):  # openpyxl would cut the text to fit; another program may not
        data = xlsx_from_sheet_xml([f'<row r="1"><c r="A1" t="inlineStr"><is><t>{long_text}</t></is></c></row>'])
    else:
        data = csv_bytes([HEADER, ["5", long_text]])
    assert "超过 32,767 个字符" in refusal(data, name)


# --- CSV --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (csv_bytes([HEADER] + [["5", "x"]] * 11), "超过 10 行"),
        (csv_bytes([HEADER, ["5", "x"] + [""] * 200 + ["far"]]), "第 100 列之后"),
        (csv_bytes([HEADER, ["5", "x" * 200_000]]), "格式有误"),  # past the csv module's own field limit
        (b"\xff\xfe\x00\x81\x30", "UTF-8"),
    ],
    ids=["rows", "columns", "huge field", "encoding"],
)
def test_a_hostile_csv_is_refused_with_a_reason(data, message):
    limits = SpreadsheetLimits.from_settings(max_rows=10)
    assert message in refusal(data, "a.csv", limits)


def test_trailing_empty_fields_do_not_count_as_columns():
    rows = spreadsheet_read(
        data=csv_bytes([HEADER + [""] * 500, ["5", "x"] + [""] * 500]), name="a.csv", columns=COLUMNS
    )
    assert rows[0].values == {"number": "5", "title": "x"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_excel_writes_is_read(encoding):
    rows = spreadsheet_read(data=csv_bytes([HEADER, ["5", "生活照料"]], encoding), name="a.csv", columns=COLUMNS)
    assert rows[0].values == {"number": "5", "title": "生活照料"}


# --- What Excel writes, read right ------------------------------------------------------------------------


def test_shared_strings_dates_booleans_and_formulas_are_read_as_excel_wrote_them():
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    data = xlsx_from_sheet_xml(
        [
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>',
            '<row r="3" spans="1:3"><c r="A3" s="1"><v>46296</v></c><c r="B3" s="2"><v>46296</v></c>'
            '<c r="C3" t="b"><v>1</v></c><c r="D3"><f>SUM(1,2)</f><v>3</v></c><c r="E3"><f>NOW()</f></c>'
            '<c r="F3" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="G3" s="1"/><c r="H3"><v>1e5000</v></c>'
            '<c r="I3"><v>5.1</v></c><c r="J3"><v>140502198001010011</v></c></row>',
        ],
        parts={
            "xl/_rels/workbook.xml.rels": (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f'<Relationship Id="rId1" Type="{relationships}/worksheet" Target="/xl/worksheets/sheet1.xml"/>'
                f'<Relationship Id="rId2" Type="{relationships}/sharedStrings" Target="sharedStrings.xml"/>'
                f'<Relationship Id="rId3" Type="{relationships}/styles" Target="styles.xml"/></Relationships>'
            ),
            "xl/sharedStrings.xml": (
                f'<sst xmlns="{main}"><si><t>条款编号</t></si>'
                "<si><r><t>条款</t></r><r><rPr><b/></rPr><t>标题</t></r><rPh><t>ティアオ</t></rPh></si>"
                '<si><t xml:space="preserve"> 月份 </t></si></sst>'
            ),
            "xl/styles.xml": (
                f'<styleSheet xmlns="{main}"><numFmts count="1"><numFmt numFmtId="176" '
                'formatCode="yyyy&quot;年&quot;m&quot;月&quot;"/></numFmts><cellStyleXfs count="1"><xf numFmtId="14"/>'
                '</cellStyleXfs><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="176"/>'
                "</cellXfs></styleSheet>"
            ),
        },
    )
    rows = list(spreadsheet_rows(data=data, name="a.xlsx"))
    assert rows[0] == (1, ["条款编号", "条款标题", " 月份 "])
    number, values = rows[1]
    assert number == 3
    assert values[:6] == [datetime.datetime(2026, 10, 1), datetime.datetime(2026, 10, 1), True, 3, "=NOW()", "ab"]
    assert values[6] is None and values[7] == float("inf") and values[8:] == [5.1, 140502198001010011]
