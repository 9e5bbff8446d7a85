"""Spreadsheet files as staff would upload them."""

import csv
import io

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
