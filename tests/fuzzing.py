"""What the property-based tests of the importers and the service-data API generate, and what they check.

Strategies: cell values of every kind a spreadsheet or a careless export can hold, header rows spelt right and
wrong, tables of ragged rows, the same table as .xlsx or as CSV in the encodings clerks' machines save, damaged
workbooks (bytes flipped, cut short, spliced) and plain random bytes. Checks: a snapshot of tables (nothing was
written), and that a message is in Chinese once the text the user supplied is taken out of it.
"""

import csv
import datetime
import html
import io
import re
import zipfile

from django.core.exceptions import ValidationError
from django.db import models
from django.test import override_settings
from django.utils import translation
from django.utils.translation import gettext
from hypothesis import event
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from content.models import ImportJob
from content.spreadsheets import MAX_CELL_CHARS, Column
from tests.factories.spreadsheets import stored_imports

# Limits low enough that small examples reach them: six rows below the header, files and unpacked workbooks of
# 150 kB (two cells of Excel's 32,767 characters go past both), twenty columns (the question bank has seventeen).
MAX_ROWS = 6
FUZZ_LIMITS = override_settings(
    IMPORT_MAX_ROWS=MAX_ROWS,
    IMPORT_MAX_COLUMNS=20,
    IMPORT_MAX_BYTES=150_000,
    IMPORT_MAX_UNCOMPRESSED_BYTES=150_000,
)

# --- Text ---------------------------------------------------------------------------------------------------

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
# Control characters, invisible and direction marks, line and paragraph separators, a BOM in mid-text.
CONTROL = st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\xa0\u200b\u200e\u202e\u2028\u3000\ufeff\ufffd")
SEPARATORS = st.sampled_from(" \t\r\n,;，；、\"'*＊.-/")
FORMULAS = st.sampled_from(
    ["=1+1", "=SUM(A1:A3)", "+86", "-1", "@SUM(1)", "=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "=", "=A1"]
)
# Every code point a str holds (surrogates excepted: no file can carry them).
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
# Short text thick with what breaks parsers and databases: NUL (PostgreSQL refuses it in text), controls, marks.
hostile_text = st.one_of(
    st.text(CONTROL | CJK | SEPARATORS | st.characters(max_codepoint=0x7E), min_size=1, max_size=16),
    st.sampled_from(["\x00", "A1\x00", "\x00王", "\ufeff", "\u202e1.5", "5\n1", " "]),
)
texts = st.one_of(
    any_text,
    st.text(CJK, min_size=1, max_size=12),
    hostile_text,
    FORMULAS,
    # Around what one spreadsheet cell may hold, and past it.
    st.integers(-2, 2).map(lambda over: "长" * (MAX_CELL_CHARS + over)),
)

# --- Cell values --------------------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(-1000, 1000),
    st.integers(),
    st.integers(-(10**40), 10**40),
    st.floats(),  # NaN, ±inf, ±0.0, subnormals, 1.7e308
    st.floats(-1000, 1000),
    # A signalling NaN is no value a file can hold: openpyxl cannot even write one.
    st.decimals(allow_nan=True, allow_infinity=True).filter(lambda number: not number.is_snan()),
)
dates = st.one_of(st.dates(), st.datetimes(), st.times())
cells = st.one_of(st.none(), st.booleans(), texts, hostile_text, numbers, dates)
# What replaces a cell of a valid row: mostly what breaks parsers and databases.
spoilt_cells = hostile_text | FORMULAS | cells


def plain_text(
    *, max_size: int, encoding: str | None = None, min_size: int = 0, exclude: str = ""
) -> st.SearchStrategy[str]:
    """Text a valid cell holds: letters, digits, punctuation, symbols and spaces the file's encoding can carry,
    without surrounding spaces (the reader strips them) and not starting with "=" (a workbook makes that a
    formula)."""
    alphabet = st.characters(codec=encoding, categories=("L", "N", "P", "S", "Zs"), exclude_characters=exclude)
    text = st.text(alphabet, min_size=min_size, max_size=max_size).map(str.strip)
    return text.filter(lambda value: len(value) >= min_size and not value.startswith("="))


def column_names(columns: list[Column]) -> list[list[str]]:
    """Per column, the headings the reader accepts for it: its key, its Chinese and its English label."""
    names = []
    for column in columns:
        spellings = [column.key]
        for language in ("zh-hans", "en"):
            with translation.override(language):
                spellings.append(str(column.label))
        names.append(spellings)
    return names


def spelling(label: str) -> st.SearchStrategy[str]:
    """A heading as people type it: marked required or not, padded, in another case."""
    return st.tuples(
        st.sampled_from(["", "*", "＊", " *"]), st.sampled_from(["", " ", "\t"]), st.sampled_from([str, str.upper])
    ).map(lambda parts: parts[0] + parts[2](label) + parts[1])


@st.composite
def headers(draw, names: list[list[str]]) -> list:
    """A header row from the columns' accepted names (one list per column): columns dropped, duplicated, moved,
    unknown ones added, headings blank or of another type."""
    row = [draw(spelling(draw(st.sampled_from(spellings)))) for spellings in names if draw(st.integers(0, 5))]
    if draw(st.booleans()):
        row.append(draw(cells))
    if row and draw(st.integers(0, 4)) == 0:
        row.insert(draw(st.integers(0, len(row))), draw(st.sampled_from(row)))
    if draw(st.integers(0, 5)) == 0:
        row.insert(draw(st.integers(0, len(row))), None)
    return draw(st.permutations(row))


def ragged_rows(width: int, *, max_rows: int = 6) -> st.SearchStrategy[list[list]]:
    return st.lists(st.lists(cells, max_size=width + 2), max_size=max_rows)


# --- Files --------------------------------------------------------------------------------------------------

CSV_ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "big5"]
# What the reader is meant to read exactly: UTF-8 with or without a BOM, and GB 18030 (GBK).
READABLE_ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk"]


def xlsx_cell(value):
    """The value as openpyxl stores it: characters XML cannot carry are dropped (no file holds them)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


_TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def xlsx_file(rows: list[list]) -> bytes:
    """The workbook openpyxl saves, made the same bytes on every run: the save time it writes into the document's
    properties and the zip's entries is replaced by a fixed one (Hypothesis replays what it draws from the bytes)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append([xlsx_cell(value) for value in row])
    saved = io.BytesIO()
    workbook.save(saved)
    output = io.BytesIO()
    with zipfile.ZipFile(saved) as original, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as fixed:
        for info in original.infolist():
            content = original.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _TIMESTAMP.sub(b"2026-01-01T00:00:00Z", content)
            fixed.writestr(
                zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0)), content, zipfile.ZIP_DEFLATED
            )
    return output.getvalue()


def csv_text(value) -> str:
    """The value as a spreadsheet program writes it to CSV: a date as the date, without a midnight time."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def csv_file(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    output = io.StringIO()
    csv.writer(output).writerows([csv_text(value) for value in row] for row in rows)
    return output.getvalue().encode(encoding, errors="replace")


def file_formats(*, encodings: list[str] = CSV_ENCODINGS) -> st.SearchStrategy[tuple[str, str | None]]:
    """("xlsx", None) or ("csv", an encoding)."""
    return st.just(("xlsx", None)) | st.sampled_from(encodings).map(lambda encoding: ("csv", encoding))


def spreadsheet_file(rows: list[list], file_format: tuple[str, str | None]) -> tuple[str, bytes]:
    extension, encoding = file_format
    if extension == "xlsx":
        return "upload.xlsx", xlsx_file(rows)
    return "upload.csv", csv_file(rows, encoding)


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """The file with bytes flipped, zeroed or inserted, cut short, or spliced with itself."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        how = draw(st.sampled_from(["flip", "zero", "cut", "insert", "splice"]))
        position = draw(st.integers(0, len(data) - 1))
        if how == "flip":
            data[position] ^= draw(st.integers(1, 255))
        elif how == "zero":
            data[position : position + draw(st.integers(1, 64))] = bytes(min(64, len(data) - position))
        elif how == "cut":
            del data[position:]
        elif how == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=32))
        else:
            start = draw(st.integers(0, len(data) - 1))
            data[position:] = data[start : start + draw(st.integers(1, 2048))]
    return bytes(data)


# Random bytes, and random bytes that begin like a zip, a UTF-8 or UTF-16 text, or XML.
random_bytes = st.tuples(
    st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"<?xml "]),
    st.binary(max_size=512),
).map(b"".join)
FILE_NAMES = st.sampled_from(["upload.xlsx", "upload.csv", "UPLOAD.XLSX", "名单.CSV", "upload.xls", "upload", ".csv"])


# --- Checks -------------------------------------------------------------------------------------------------


def table_snapshot(*tables: type[models.Model]) -> dict[str, list[tuple]]:
    """Every row of the tables, every column: equal before and after means nothing was written."""
    return {table._meta.label: list(table.objects.order_by("pk").values_list()) for table in tables}


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def supplied_text(*things) -> str:
    """The text a user supplied, however it got into a message: cells as written, and files decoded."""
    parts = []
    for thing in things:
        if isinstance(thing, bytes):
            parts.extend(thing.decode(encoding, errors="ignore") for encoding in ("utf-8", "gb18030"))
        elif isinstance(thing, list | tuple | set):
            parts.append(supplied_text(*thing))
        elif isinstance(thing, dict):
            parts.append(supplied_text(*thing.keys(), *thing.values()))
        elif thing is not None:
            parts.append(str(thing))
    return "".join(parts)


def is_chinese(message: str, supplied: str = "") -> bool:
    """Whether the message is in Chinese by itself: with every character the user supplied taken out of it, a
    Chinese character is left. An English message quoting a Chinese cell is not."""
    characters = set(supplied)
    return bool(_CJK.search("".join(c for c in message if c not in characters)))


def unexpected_failure() -> str:
    """What an import job says when it crashed rather than refused: the sign of a bug, never of a bad file."""
    with translation.override("zh-hans"):
        return gettext("The import failed unexpectedly; nothing was written. Try again.")


def shown(message: str, content: str) -> bool:
    """Whether the page shows the message (as the template escapes it)."""
    return html.escape(message) in content or message in content


class ImportJobChecks:
    """What every importer run as an import job (content.services) must do with any file: refuse it before
    making a job (a ValidationError in Chinese), or make a job that ends finished, its upload deleted, and either
    failed with every problem in Chinese and nothing of `written` changed, or succeeded."""

    written: tuple[type[models.Model], ...] = ()

    def run_job(self, create, supplied: str = ""):
        before, uploads = table_snapshot(*self.written), stored_imports()
        try:
            job = create()
        except ValidationError as error:
            event("refused before checking")
            for message in error.messages:
                self.assertTrue(is_chinese(message, supplied), message)
            self.assertEqual(table_snapshot(*self.written), before)
            return None
        job.refresh_from_db()
        self.assertTrue(job.is_finished, job.status)
        self.assertFalse(job.file)
        self.assertEqual(stored_imports(), uploads)
        if job.status == ImportJob.Status.FAILED:
            event("refused")
            self.assertTrue(job.errors)
            for error in job.errors:
                self.assertNotEqual(error["message"], unexpected_failure(), "the import crashed")
                self.assertTrue(is_chinese(error["message"], supplied), error)
            self.assertEqual(table_snapshot(*self.written), before)
        else:
            event("imported")
        return job
