"""The spreadsheets staff exchange with the platform: reading uploads (XLSX or CSV) and writing templates.

Every importer reads its upload through `spreadsheet_rows`, and so through the same limits: the file's size, the
bytes its workbook unpacks to, its rows and columns and the time spent reading, each counted as the file is read
and never taken from what the file says of itself. A sheet that declares the whole grid (A1:XFD1048576) costs
what its cells cost; a million empty rows stop being read at the row limit; a zip member that unpacks to
gigabytes is refused before it is opened; truncated or malformed XML is refused as a damaged workbook.
"""

import contextlib
import csv
import datetime
import io
import itertools
import posixpath
import re
import struct
import time
import zipfile
import zlib
from array import array
from dataclasses import dataclass, field
from xml.parsers import expat

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .exports import BOM, row_safe

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's own limit for one cell.
MAX_CELL_CHARS = 32_767
# An .xlsx holds a dozen parts; thousands of them are an attack on the zip reader, not a workbook.
MAX_ZIP_MEMBERS = 1_000
# Excel's grid: 16,384 columns (A to XFD) by 1,048,576 rows.
EXCEL_COLUMNS = 16_384
EXCEL_ROWS = 1_048_576
_CHUNK_BYTES = 64 * 1024
# How often, in rows, the clock is looked at between chunks.
_CLOCK_EVERY_ROWS = 256


class SpreadsheetError(Exception):
    """The file as a whole cannot be used (unreadable, too large, or its header row is wrong)."""


@dataclass(frozen=True)
class SpreadsheetLimits:
    """What reading one upload may cost before it is refused. The defaults come from the settings."""

    max_bytes: int
    max_uncompressed_bytes: int
    # Rows below the header, empty ones included: each costs reading.
    max_rows: int
    max_columns: int
    max_seconds: float

    @classmethod
    def from_settings(cls, **overrides) -> "SpreadsheetLimits":
        values = {
            "max_bytes": settings.IMPORT_MAX_BYTES,
            "max_uncompressed_bytes": settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
            "max_rows": settings.IMPORT_MAX_ROWS,
            "max_columns": settings.IMPORT_MAX_COLUMNS,
            "max_seconds": settings.IMPORT_MAX_SECONDS,
        }
        return cls(**{**values, **overrides})


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


def cell_text(value) -> str:
    """A cell's value as the text an importer checks."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


# --- The limits, counted while reading --------------------------------------------------------------------


def _megabytes(count: int) -> int:
    return max(1, count // (1024 * 1024))


class _Budget:
    """What the reading has spent so far: bytes unpacked, rows met, time taken. Refuses the file past a limit."""

    def __init__(self, limits: SpreadsheetLimits):
        self.limits = limits
        self.unpacked = 0
        self.rows = 0
        self.deadline = time.monotonic() + limits.max_seconds

    def unpack(self, count: int) -> None:
        self.unpacked += count
        if self.unpacked > self.limits.max_uncompressed_bytes:
            raise self.too_large()

    def too_large(self) -> SpreadsheetError:
        return SpreadsheetError(
            _("The workbook unpacks to more than %(size)s MB; split it into smaller files.")
            % {"size": _megabytes(self.limits.max_uncompressed_bytes)}
        )

    def clock(self) -> None:
        if time.monotonic() >= self.deadline:
            raise SpreadsheetError(
                _("Reading the file took longer than %(seconds)s seconds; split it into smaller files.")
                % {"seconds": f"{self.limits.max_seconds:g}"}
            )

    def row(self) -> None:
        """One more row of the sheet, the header included."""
        self.rows += 1
        if self.rows > self.limits.max_rows + 1:
            raise self.too_many_rows()
        if self.rows % _CLOCK_EVERY_ROWS == 0:
            self.clock()

    def too_many_rows(self) -> SpreadsheetError:
        return SpreadsheetError(
            _(
                "The sheet has more than %(max)s rows below its header (empty rows that carry formatting count "
                "too); delete the rows it does not need or split it into smaller files."
            )
            % {"max": f"{self.limits.max_rows:,}"}
        )

    def value_at(self, row: int, column: int) -> None:
        """A value in this row and column (both counted from 1)."""
        if column > self.limits.max_columns:
            raise SpreadsheetError(
                _("The sheet has values beyond column %(max)s; delete the columns this import does not use.")
                % {"max": self.limits.max_columns}
            )
        if row > self.limits.max_rows + 1:
            raise self.too_many_rows()


def _cell_too_long() -> SpreadsheetError:
    return SpreadsheetError(
        _("A cell holds more than %(max)s characters, more than a spreadsheet cell can.")
        % {"max": f"{MAX_CELL_CHARS:,}"}
    )


def _not_a_workbook() -> SpreadsheetError:
    return SpreadsheetError(_("The file could not be read as an Excel workbook (.xlsx)."))


def _damaged() -> SpreadsheetError:
    return SpreadsheetError(
        _(
            "The workbook is damaged and could not be read to the end; open it in Excel, save it again and "
            "upload the new copy."
        )
    )


# --- CSV --------------------------------------------------------------------------------------------------


def _csv_rows(data: bytes, budget: _Budget):
    # Excel on a Chinese system saves CSV in GB 18030 (GBK); everything else sends UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetError(_("The CSV file is neither UTF-8 nor GBK text."))
    # No text file holds NUL: this one is UTF-16 (a NUL after each ASCII letter) or binary, and no database text
    # column takes NUL (PostgreSQL refuses it, even inside the job's report of what was wrong).
    if "\x00" in text:
        raise SpreadsheetError(_("The CSV file is neither UTF-8 nor GBK text."))
    # The csv module's own field limit (131,072 characters) stays as it is: it is process-wide.
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    try:
        for raw in reader:
            number += 1
            budget.row()
            cells = [value if value.strip() else None for value in raw]
            while cells and cells[-1] is None:
                cells.pop()
            if not cells:
                continue
            if any(value is not None and len(value) > MAX_CELL_CHARS for value in cells):
                raise _cell_too_long()
            budget.value_at(number, len(cells))
            yield number, cells
    except csv.Error:
        raise SpreadsheetError(_("The CSV file is malformed."))


# --- XLSX: a zip of XML parts, read as a stream -----------------------------------------------------------

# ECMA-376 18.8.30: the built-in formats 27–36 and 50–58 are East Asian dates ("yyyy年m月" and the like);
# openpyxl's table of built-in formats lacks them.
_EAST_ASIAN_DATE_FORMATS = frozenset(range(27, 37)) | frozenset(range(50, 59))
_CELL_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?[0-9]{0,7}")
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,5})?")


def _zip_members_declared(data: bytes) -> int | None:
    """How many members the zip's end record declares, read before the zip module builds its directory."""
    tail = data[-(22 + 0xFFFF) :]
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or len(tail) - position < 22:
        return None
    return struct.unpack("<H", tail[position + 10 : position + 12])[0]


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _small_int(text: str | None) -> int | None:
    if text and len(text) <= 10 and text.isascii() and text.isdigit():
        return int(text)
    return None


def _column_number(reference: str) -> int:
    match = _CELL_REFERENCE.fullmatch(reference)
    if match is None:
        raise _damaged()
    number = 0
    for letter in match.group(1).upper():
        number = number * 26 + ord(letter) - 64
    if number > EXCEL_COLUMNS:
        raise _damaged()
    return number


def _number(text: str):
    """The int or float a numeric cell holds, or None when its text is no number."""
    text = text.strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    if len(text) <= 64 and _DECIMAL.fullmatch(text):
        return float(text)  # 1e5000 is inf: text, not a figure, to every importer
    return None


def _is_date_format(format_id: int, custom: dict[int, str]) -> bool:
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    code = custom.get(format_id) or BUILTIN_FORMATS.get(format_id)
    if code is None:
        return format_id in _EAST_ASIAN_DATE_FORMATS
    return len(code) <= 255 and is_date_format(code) and not is_timedelta_format(code)


class _SharedStrings:
    """The workbook's shared strings in one buffer with their end offsets: at most the size of their XML."""

    def __init__(self):
        self._text = bytearray()
        self._ends = array("L")

    def append(self, value: str) -> None:
        self._text += value.encode()
        self._ends.append(len(self._text))

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self._ends):
            raise _damaged()
        start = self._ends[index - 1] if index else 0
        return self._text[start : self._ends[index]].decode()


class _TextCapture:
    """The character data of the elements being read, bounded by a cell's size."""

    def __init__(self):
        self.parts: list[str] | None = None
        self.length = 0

    def begin(self) -> None:
        self.parts = []

    def reset(self) -> None:
        self.parts, self.length = None, 0

    def text(self, data: str) -> None:
        if self.parts is not None:
            self.length += len(data)
            if self.length > MAX_CELL_CHARS:
                raise _cell_too_long()
            self.parts.append(data)

    def end(self) -> str:
        value = "".join(self.parts or ())
        self.parts = None
        return value


def _refuse_declarations(*_args) -> None:
    # No part of a workbook has a DOCTYPE; one that does may declare entities that expand without end.
    raise _damaged()


class _Workbook:
    def __init__(self, archive: zipfile.ZipFile, budget: _Budget):
        self.archive = archive
        self.budget = budget
        self.members = {info.filename.lower(): info for info in archive.infolist()}

    def member(self, path: str) -> zipfile.ZipInfo | None:
        return self.members.get(path.lower())

    def parse(self, info: zipfile.ZipInfo, *, start=None, end=None, text=None):
        """Feed the part to expat a chunk at a time; yields after each chunk so a caller can take what it made."""
        if info.file_size > self.budget.limits.max_uncompressed_bytes - self.budget.unpacked:
            raise self.budget.too_large()
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _refuse_declarations
        parser.EntityDeclHandler = _refuse_declarations
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        with self.archive.open(info) as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                self.budget.unpack(len(chunk))
                self.budget.clock()
                parser.Parse(chunk, False)
                yield
        parser.Parse(b"", True)
        yield

    def parse_all(self, info: zipfile.ZipInfo, **handlers) -> None:
        for _step in self.parse(info, **handlers):
            pass

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """The part's relationships: id → (type, the target's path in the zip)."""
        directory, _slash, name = part.rpartition("/")
        info = self.member(posixpath.join(directory, "_rels", f"{name}.rels"))
        found: dict[str, tuple[str, str]] = {}
        if info is None:
            return found

        def start(element, attributes):
            if _local(element) == "Relationship" and attributes.get("TargetMode") != "External":
                target = attributes.get("Target", "")
                path = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(directory, target))
                found[attributes.get("Id", "")] = (attributes.get("Type", "").rpartition("/")[2], path)

        self.parse_all(info, start=start)
        return found

    def rows(self):
        office_document = next(
            (path for kind, path in self.relationships("").values() if kind == "officeDocument"), "xl/workbook.xml"
        )
        workbook = self.member(office_document)
        if workbook is None:
            raise _not_a_workbook()
        related = self.relationships(office_document)
        sheet_ids: list[str] = []
        epoch = {"date1904": False}

        def workbook_start(element, attributes):
            name = _local(element)
            if name == "sheet":
                sheet_ids.append(next((v for k, v in attributes.items() if _local(k) == "id" and "}" in k), ""))
            elif name == "workbookPr":
                epoch["date1904"] = attributes.get("date1904", "").lower() in ("1", "true")

        self.parse_all(workbook, start=workbook_start)
        if not sheet_ids:
            raise SpreadsheetError(_("The file is empty."))
        sheets = [related[rid][1] for rid in sheet_ids if rid in related and related[rid][0] == "worksheet"]
        if not sheets:
            raise _damaged()
        sheet = self.member(sheets[0])
        if sheet is None:
            raise _damaged()
        by_kind = {kind: path for kind, path in reversed(list(related.values()))}
        styles = self.member(by_kind.get("styles", ""))
        strings = self.member(by_kind.get("sharedStrings", ""))
        # Counted before anything is read: what the parts still to read say they unpack to.
        declared = sum(info.file_size for info in (styles, strings, sheet) if info is not None)
        if declared > self.budget.limits.max_uncompressed_bytes - self.budget.unpacked:
            raise self.budget.too_large()

        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        reader = _SheetReader(
            self.budget,
            strings=self.shared_strings(strings) if strings is not None else _SharedStrings(),
            date_styles=self.date_styles(styles) if styles is not None else frozenset(),
            epoch=CALENDAR_MAC_1904 if epoch["date1904"] else CALENDAR_WINDOWS_1900,
        )
        for _step in self.parse(sheet, start=reader.start, end=reader.end, text=reader.capture.text):
            yield from reader.ready
            reader.ready.clear()

    def date_styles(self, info: zipfile.ZipInfo) -> frozenset[int]:
        """The cell formats (by index) that show a number as a date."""
        custom: dict[int, str] = {}
        formats: list[int] = []
        state = {"cell_formats": False}

        def start(element, attributes):
            name = _local(element)
            if name == "numFmt" and (format_id := _small_int(attributes.get("numFmtId"))) is not None:
                custom[format_id] = attributes.get("formatCode", "")
            elif name == "cellXfs":
                state["cell_formats"] = True
            elif name == "xf" and state["cell_formats"]:
                formats.append(_small_int(attributes.get("numFmtId")) or 0)

        def end(element):
            if _local(element) == "cellXfs":
                state["cell_formats"] = False

        self.parse_all(info, start=start, end=end)
        dates = {format_id for format_id in set(formats) if _is_date_format(format_id, custom)}
        return frozenset(index for index, format_id in enumerate(formats) if format_id in dates)

    def shared_strings(self, info: zipfile.ZipInfo) -> _SharedStrings:
        strings = _SharedStrings()
        capture = _TextCapture()
        state = {"phonetic": 0, "parts": []}

        def start(element, attributes):
            name = _local(element)
            if name == "si":
                capture.reset()
                state["parts"] = []
            elif name == "rPh":
                state["phonetic"] += 1
            elif name == "t" and not state["phonetic"]:
                capture.begin()

        def end(element):
            name = _local(element)
            if name == "t" and capture.parts is not None:
                state["parts"].append(capture.end())
            elif name == "rPh":
                state["phonetic"] -= 1
            elif name == "si":
                strings.append("".join(state["parts"]))

        self.parse_all(info, start=start, end=end, text=capture.text)
        return strings


class _SheetReader:
    """Turns a worksheet's XML events into (row number, values) as each row ends. Only cells that hold a value
    are kept: a declared dimension, empty styled cells and gaps between rows cost nothing."""

    def __init__(self, budget: _Budget, *, strings: _SharedStrings, date_styles: frozenset[int], epoch):
        self.budget = budget
        self.strings = strings
        self.date_styles = date_styles
        self.epoch = epoch
        self.capture = _TextCapture()
        self.ready: list[tuple[int, list]] = []
        self.in_data = False
        self.row_number = 0
        self.cells: dict[int, object] | None = None
        self.column = 0
        self.kind = "n"
        self.style = None
        self.value: str | None = None
        self.formula: str | None = None
        self.inline: list[str] | None = None
        self.phonetic = 0
        self.capturing = ""

    def start(self, element, attributes):
        name = _local(element)
        if name == "sheetData":
            self.in_data = True
        elif not self.in_data:
            return
        elif name == "row":
            self.budget.row()
            reference = attributes.get("r")
            number = _small_int(reference) if reference is not None else self.row_number + 1
            if number is None or not 1 <= number <= EXCEL_ROWS:
                raise _damaged()
            self.row_number, self.cells, self.column = number, {}, 0
        elif name == "c":
            reference = attributes.get("r")
            self.column = _column_number(reference) if reference else self.column + 1
            self.kind = attributes.get("t", "n")
            self.style = _small_int(attributes.get("s"))
            self.value = self.formula = self.inline = None
            self.capture.reset()
        elif name in ("v", "f"):
            self.capturing = name
            self.capture.begin()
        elif name == "is":
            self.inline = []
        elif name == "rPh":
            self.phonetic += 1
        elif name == "t" and self.inline is not None and not self.phonetic:
            self.capturing = "t"
            self.capture.begin()

    def end(self, element):
        name = _local(element)
        if name == "sheetData":
            self.in_data = False
        elif not self.in_data:
            return
        elif name in ("v", "f", "t") and self.capturing == name:
            text = self.capture.end()
            self.capturing = ""
            if name == "v":
                self.value = text
            elif name == "f":
                self.formula = text
            else:
                self.inline.append(text)
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "c" and self.cells is not None:
            value = self.cell_value()
            if value is not None and value != "":
                self.budget.value_at(self.row_number, self.column)
                self.cells[self.column] = value
        elif name == "row" and self.cells is not None:
            if self.cells:
                values = [None] * max(self.cells)
                for column, value in self.cells.items():
                    values[column - 1] = value
                self.ready.append((self.row_number, values))
            self.cells = None

    def cell_value(self):
        kind, value = self.kind, self.value
        if kind == "inlineStr":
            return "".join(self.inline) if self.inline is not None else value
        if value is None:
            # A formula whose result was never saved: kept as its text, for the importer to refuse.
            return f"={self.formula}" if self.formula else None
        if kind == "s":
            index = _small_int(value.strip())
            if index is None:
                raise _damaged()
            return self.strings[index]
        if kind == "b":
            return value.strip() in ("1", "true")
        if kind in ("str", "e"):
            return value
        if kind == "d":
            try:
                return datetime.datetime.fromisoformat(value.strip())
            except ValueError:
                return value
        number = _number(value)
        if number is None:
            return value
        if self.style in self.date_styles:
            from openpyxl.utils.datetime import from_excel

            try:
                return from_excel(number, self.epoch)
            except (ArithmeticError, ValueError):
                return number
        return number


def _xlsx_rows(data: bytes, budget: _Budget):
    members = _zip_members_declared(data)
    if members is not None and members > MAX_ZIP_MEMBERS:
        raise _not_a_workbook()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error):
        raise _not_a_workbook()
    with archive:
        try:
            yield from _Workbook(archive, budget).rows()
        except expat.ExpatError:
            raise _damaged()
        # What a zip whose members are cut short, unsupported or encrypted raises while they are read (an unsupported
        # compression method is a RuntimeError's subclass).
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError):
            raise _damaged()


# --- The reader every importer uses -----------------------------------------------------------------------


def spreadsheet_rows(*, data: bytes, name: str, limits: SpreadsheetLimits | None = None):
    """(row number, values) for each row of the first sheet that holds a value, in the file's order.

    Values are text, numbers, booleans or dates as the cells hold them, None where a cell is empty; a row's
    list ends at its last value. Raises SpreadsheetError, with the reason in the user's language, for a file
    that cannot be read or goes past a limit; nothing is read beyond the point where it does.
    """
    limits = limits or SpreadsheetLimits.from_settings()
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ("xlsx", "csv"):
        raise SpreadsheetError(_("Upload an .xlsx or .csv file."))
    if not data:
        raise SpreadsheetError(_("The file is empty."))
    if len(data) > limits.max_bytes:
        raise SpreadsheetError(
            _("The file is larger than %(size)s MB; split it into smaller files.")
            % {"size": _megabytes(limits.max_bytes)}
        )
    budget = _Budget(limits)
    if extension == "xlsx":
        yield from _xlsx_rows(data, budget)
    else:
        yield from _csv_rows(data, budget)


def spreadsheet_read(
    *, data: bytes, name: str, columns: list[Column], limits: SpreadsheetLimits | None = None
) -> list[SheetRow]:
    """The data rows of the first sheet, keyed by column, with their row numbers as the user sees them."""
    with contextlib.closing(spreadsheet_rows(data=data, name=name, limits=limits)) as raw_rows:
        first = next(raw_rows, None)
        if first is None:
            raise SpreadsheetError(_("The file is empty."))
        # The header is the first row; when that row is empty, the first row with values is data.
        header, pending = (first[1], []) if first[0] == 1 else ([], [first])
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
                raise SpreadsheetError(
                    _("The column “%(column)s” appears twice in the first row.") % {"column": heading}
                )
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
        for number, cells in itertools.chain(pending, raw_rows):
            values = {}
            numeric = set()
            for key, position in positions.items():
                value = cells[position] if position < len(cells) else None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    numeric.add(key)
                values[key] = cell_text(value)
            if not any(values.values()):
                continue
            rows.append(SheetRow(number=number, values=values, numeric_columns=numeric))
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
        sheet.append(row_safe(example))
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
    writer.writerows(row_safe(example) for example in examples)
    return (BOM + output.getvalue()).encode("utf-8")
