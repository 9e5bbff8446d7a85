"""Spreadsheet files as staff would upload them."""

import csv
import functools
import io
import zipfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    output = io.StringIO()
    csv.writer(output).writerows(rows)
    return output.getvalue().encode(encoding)


def upload(rows: list[list], name: str = "upload.xlsx", encoding: str = "utf-8-sig") -> SimpleUploadedFile:
    data = xlsx_bytes(rows) if name.endswith(".xlsx") else csv_bytes(rows, encoding)
    return SimpleUploadedFile(name, data)


# --- Hostile workbooks: small on disk, huge or broken inside ------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>"
    ),
}


def _inline_row(number: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{_column_letter(position)}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
        for position, value in enumerate(values, start=1)
    )
    return f'<row r="{number}">{cells}</row>'


def _column_letter(position: int) -> str:
    letters = ""
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def xlsx_from_sheet_xml(
    chunks, *, declared_dimension: str = "A1:B2", complete: bool = True, parts: dict[str, str] | None = None
) -> bytes:
    """A workbook whose one sheet is `chunks` (strings) inside <sheetData>, written compressed as it goes.
    `complete=False` leaves the sheet's XML unfinished; `parts` adds or replaces parts of the package."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**_PARTS, **(parts or {})}.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'
                f'<dimension ref="{declared_dimension}"/><sheetData>'.encode()
            )
            for chunk in chunks:
                sheet.write(chunk.encode())
            sheet.write(b"</sheetData></worksheet>" if complete else b'<row r="9"><c r="A9" t="inlineStr"><is><t>')
    return output.getvalue()


def xlsx_declaring_the_whole_grid(rows: list[list[str]], *, far_corner: str | None = None) -> bytes:
    """A kilobyte or two on disk that declares A1:XFD1048576, every cell Excel can hold; with `far_corner`,
    that text is in the last cell, XFD1048576, too."""
    chunks = [_inline_row(number, values) for number, values in enumerate(rows, start=1)]
    if far_corner is not None:
        chunks.append(f'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>{far_corner}</t></is></c></row>')
    return xlsx_from_sheet_xml(chunks, declared_dimension="A1:XFD1048576")


def xlsx_with_empty_rows(header: list[str], empty_rows: int, *, then_damaged: bool = False) -> bytes:
    """The header, then `empty_rows` empty rows: two million of them fit in twenty kilobytes compressed.
    `then_damaged` cuts the XML off after them, so a reader that reached the end would say so."""

    def chunks():
        yield _inline_row(1, header)
        block = "<row/>" * 10_000
        for _ in range(empty_rows // 10_000):
            yield block
        yield "<row/>" * (empty_rows % 10_000)

    return xlsx_from_sheet_xml(chunks(), complete=not then_damaged)


def xlsx_with_truncated_sheet(rows: list[list[str]]) -> bytes:
    """A well-formed zip whose sheet XML stops half-way through, as a broken export or upload leaves it."""
    whole = zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows)))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in whole.infolist():
            content = whole.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]
            archive.writestr(info.filename, content)
    return output.getvalue()


def xlsx_with_zip_bomb_member(header: list[str], uncompressed_bytes: int) -> bytes:
    """A sheet padded with `uncompressed_bytes` of whitespace: it compresses a thousandfold."""

    def chunks():
        yield _inline_row(1, header)
        block = " " * (1024 * 1024)
        for _ in range(uncompressed_bytes // len(block)):
            yield block
        yield " " * (uncompressed_bytes % len(block))

    return xlsx_from_sheet_xml(chunks())


def zip_declaring_a_smaller_member(data: bytes, member: str, declared: int) -> bytes:
    """The zip with `member`'s uncompressed size rewritten to `declared` in both of its headers: a zip bomb
    that lies about its size."""
    name = member.encode()
    patched = bytearray(data)
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        name_offset = 30 if signature == b"PK\x03\x04" else 46
        position = patched.find(signature)
        while position >= 0:
            if patched[position + name_offset : position + name_offset + len(name)] == name:
                patched[position + size_offset : position + size_offset + 4] = declared.to_bytes(4, "little")
            position = patched.find(signature, position + 4)
    return bytes(patched)


def zip_of_many_members(count: int) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        for number in range(count):
            archive.writestr(f"padding/{number}.xml", "")
    return output.getvalue()


# Each hostile workbook with what its refusal says (under the default limits), for every importer's tests.
HOSTILE_XLSX = ["whole grid", "two million empty rows", "zip bomb", "truncated sheet"]


@functools.cache
def _hostile_xlsx(kind: str, header: tuple[str, ...]) -> tuple[bytes, str]:
    header = list(header)
    if kind == "whole grid":
        return xlsx_declaring_the_whole_grid([header], far_corner="x"), "列之后仍有内容"
    if kind == "two million empty rows":
        return xlsx_with_empty_rows(header, 2_000_000), "超过 100,000 行"
    if kind == "zip bomb":
        return xlsx_with_zip_bomb_member(header, 65 * 1024 * 1024), "解压后超过 64 MB"
    if kind == "truncated sheet":
        return xlsx_with_truncated_sheet([header] + [["x"] * len(header)] * 50), "已损坏"
    raise ValueError(kind)


def hostile_xlsx(kind: str, header: list[str]) -> tuple[bytes, str]:
    """A file of a few kilobytes that would cost gigabytes or minutes, or break the reader; and the refusal."""
    return _hostile_xlsx(kind, tuple(header))


def stored_imports() -> set[str]:
    """Every file in the storage that keeps uploads while they are imported."""
    from django.core.files.storage import storages

    root = Path(storages["imports"].location)
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}
