import pytest

from content.imports import importer_for
from content.spreadsheets import Column, SpreadsheetError, spreadsheet_read, template_csv, template_xlsx
from tests.factories.spreadsheets import csv_bytes, xlsx_bytes

COLUMNS = [
    Column("number", "条款编号", required=True, text_only=True),
    Column("title", "条款标题", required=True),
    Column("text", "条文"),
]


def test_xlsx_rows_keep_their_row_numbers_and_skip_blank_rows():
    data = xlsx_bytes([["*条款编号", "条款标题"], ["5", "生活照料"], [None, None], ["5.1", "头面部清洁"]])
    rows = spreadsheet_read(data=data, name="clauses.xlsx", columns=COLUMNS)
    assert [(row.number, row.values["number"], row.values["title"]) for row in rows] == [
        (2, "5", "生活照料"),
        (4, "5.1", "头面部清洁"),
    ]
    assert "text" not in rows[0].values


def test_english_headers_and_gbk_csv_from_a_chinese_excel_are_understood():
    data = csv_bytes([["Clause number", "Clause title"], ["6.1", "协助翻身"]], encoding="gb18030")
    rows = spreadsheet_read(data=data, name="clauses.CSV", columns=importer_for("clauses").columns)
    assert rows[0].values == {"number": "6.1", "title": "协助翻身"}


def test_a_number_typed_as_a_number_is_flagged_for_text_only_columns():
    rows = spreadsheet_read(
        data=xlsx_bytes([["条款编号", "条款标题"], [5.1, "头面部清洁"]]), name="a.xlsx", columns=COLUMNS
    )
    assert rows[0].numeric_columns == {"number"}


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"not a zip", "clauses.xlsx", "Excel"),
        (b"\xff\xfe\x00\x00garbage\x81", "clauses.csv", "UTF-8"),
        (xlsx_bytes([["条款编号", "条款标题"]]), "clauses.xlsx", "数据"),
        (xlsx_bytes([["条款编号", "标题拼错了"], ["5", "x"]]), "clauses.xlsx", "标题拼错了"),
        (xlsx_bytes([["条款编号"], ["5"]]), "clauses.xlsx", "条款标题"),
        (xlsx_bytes([["条款编号", "条款编号", "条款标题"], ["5", "5", "x"]]), "clauses.xlsx", "两次"),
        (b"a,b", "clauses.txt", ".xlsx"),
    ],
)
def test_unusable_files_are_rejected_with_a_reason_in_chinese(data, name, message):
    with pytest.raises(SpreadsheetError) as error:
        spreadsheet_read(data=data, name=name, columns=COLUMNS)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "data",
    [
        csv_bytes([["条款编号", "条款标题"], ["5", "生活照料"]], encoding="utf-16-le"),
        csv_bytes([["Clause number", "Clause title"], ["5", "Daily care"]], encoding="utf-16-be"),
        csv_bytes([["条款编号", "条款标题"], ["5\x00", "生活照料"]], encoding="utf-8"),
    ],
    ids=["UTF-16 without a BOM", "UTF-16 in English", "NUL in a cell"],
)
def test_a_csv_file_holding_nul_is_refused_as_no_utf8_or_gbk_text(data):
    # UTF-16 without its BOM decodes as UTF-8 with a NUL after each letter; PostgreSQL takes NUL in no text.
    with pytest.raises(SpreadsheetError) as error:
        spreadsheet_read(data=data, name="clauses.csv", columns=COLUMNS)
    assert "UTF-8" in str(error.value) and "\x00" not in str(error.value)


@pytest.mark.parametrize("kind", ["clauses", "service_items", "batch_roster"])
def test_templates_read_back_as_their_own_examples(kind):
    importer = importer_for(kind)
    for name, data in (
        ("t.xlsx", template_xlsx(columns=importer.columns, examples=importer.examples(), title=importer.title())),
        ("t.csv", template_csv(columns=importer.columns, examples=importer.examples())),
    ):
        rows = spreadsheet_read(data=data, name=name, columns=importer.columns)
        assert len(rows) == len(importer.examples())
        assert rows[0].values[importer.columns[0].key] == importer.examples()[0][0]
        assert not rows[0].numeric_columns
