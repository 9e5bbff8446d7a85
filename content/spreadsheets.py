"""The spreadsheets staff exchange with the platform: reading uploads (XLSX or CSV) and writing templates."""

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 100_000


class SpreadsheetError(Exception):
    """The file as a whole cannot be used (unreadable, or its header row is wrong)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    required: bool = False
    help: str | Promise = ""
    # Identity numbers and clause numbers must stay text: typed as numbers, 5.10 becomes 5.1 and an
    # 18-digit identity number loses its last digits.
    text_only: bool = False

    def header_names(self) -> set[str]:
        names = {self.key}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names.add(str(self.label))
        return {_normalise_header(name) for name in names}


@dataclass
class SheetRow:
    number: int
    values: dict[str, str]
    numeric_columns: set[str] = field(default_factory=set)


def _normalise_header(value) -> str:
    return str(value or "").strip().lstrip("*＊").strip().lower()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise SpreadsheetError(_("The file could not be read as an Excel workbook (.xlsx)."))
    try:
        sheet = workbook.worksheets[0]
        yield from sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _csv_rows(data: bytes):
    # Excel on a Chinese system saves CSV in GB 18030 (GBK); everything else sends UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetError(_("The CSV file is neither UTF-8 nor GBK text."))
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error:
        raise SpreadsheetError(_("The CSV file is malformed."))


def spreadsheet_read(*, data: bytes, name: str, columns: list[Column]) -> list[SheetRow]:
    """The data rows of the first sheet, keyed by column, with their row numbers as the user sees them."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension == "xlsx":
        raw_rows = _xlsx_rows(data)
    elif extension == "csv":
        raw_rows = _csv_rows(data)
    else:
        raise SpreadsheetError(_("Upload an .xlsx or .csv file."))

    header = next(raw_rows, None)
    if header is None:
        raise SpreadsheetError(_("The file is empty."))
    positions: dict[str, int] = {}
    unknown = []
    for position, heading in enumerate(header):
        normalised = _normalise_header(heading)
        if not normalised:
            continue
        column = next((c for c in columns if normalised in c.header_names()), None)
        if column is None:
            unknown.append(str(heading).strip())
        elif column.key in positions:
            raise SpreadsheetError(_("The column “%(column)s” appears twice in the first row.") % {"column": heading})
        else:
            positions[column.key] = position
    if unknown:
        raise SpreadsheetError(
            _("The first row has columns this import does not know: %(columns)s. Start from the template.")
            % {"columns": "、".join(unknown)}
        )
    missing = [str(c.label) for c in columns if c.required and c.key not in positions]
    if missing:
        raise SpreadsheetError(
            _("The first row lacks the required columns: %(columns)s. Start from the template.")
            % {"columns": "、".join(missing)}
        )

    rows = []
    for number, raw in enumerate(raw_rows, start=2):
        cells = list(raw or ())
        values = {}
        numeric = set()
        for key, position in positions.items():
            value = cells[position] if position < len(cells) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                numeric.add(key)
            values[key] = _cell_text(value)
        if not any(values.values()):
            continue
        rows.append(SheetRow(number=number, values=values, numeric_columns=numeric))
        if len(rows) > MAX_ROWS:
            raise SpreadsheetError(
                _("The file has more than %(max)s rows; split it into smaller files.") % {"max": f"{MAX_ROWS:,}"}
            )
    if not rows:
        raise SpreadsheetError(_("The file has a header row but no data rows."))
    return rows


def text_only_errors(row: SheetRow, columns: list[Column]) -> list[str]:
    return [
        _("“%(column)s” must be entered as text, not as a number (format the column as Text in Excel).")
        % {"column": column.label}
        for column in columns
        if column.text_only and column.key in row.numeric_columns
    ]


def template_xlsx(*, columns: list[Column], examples: list[list[str]], title: str) -> bytes:
    """A workbook with the header row, example rows, and a second sheet that explains each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append([("*" if c.required else "") + str(c.label) for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F3E9DD")
    for example in examples:
        sheet.append(example)
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = 24 if column.text_only else 18
        if column.text_only:
            for row in range(2, 1001):
                sheet.cell(row=row, column=position).number_format = "@"
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet(_("How to fill in")[:31])
    notes.append([_("Column"), _("Required"), _("What to enter")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in columns:
        notes.append([str(column.label), _("yes") if column.required else _("no"), str(column.help)])
    notes.append([])
    notes.append(
        [_("Columns marked * are required. Each import is all or nothing: fix every reported row and upload again.")]
    )
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["C"].width = 80

    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def template_csv(*, columns: list[Column], examples: list[list[str]]) -> bytes:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow([("*" if c.required else "") + str(c.label) for c in columns])
    writer.writerows(examples)
    # The byte-order mark makes Excel open the file as UTF-8 rather than in the system code page.
    return ("\ufeff" + output.getvalue()).encode("utf-8")
