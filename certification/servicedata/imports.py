"""Service data from a spreadsheet (XLSX or CSV): one file holds one kind, monthly figures or incidents.

A CSV file holds one table and the bureau's clerks export one report at a time from the LTCI system, so each
kind has its own template and the clerk says on the upload form which kind the file holds. The file's SHA-256
is its batch key: uploading the same file again writes nothing.
"""

import hashlib
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from accounts.models import User
from content.spreadsheets import Column, SpreadsheetError, spreadsheet_read, text_only_errors

from .models import ServiceDataImport
from .services import ServiceDataOutcome, service_data_import
from .validation import ServiceDataRejected

MONTHS = "months"
INCIDENTS = "incidents"

NATIONAL_ID = Column(
    "national_id",
    gettext_lazy("Identity card number"),
    required=True,
    text_only=True,
    help=gettext_lazy("The caregiver's 18-character identity card number, as registered on the platform."),
)
NAME = Column(
    "name",
    gettext_lazy("Caregiver name"),
    help=gettext_lazy("For reading the file only; the caregiver is found by the identity card number."),
)


@dataclass(frozen=True)
class SheetKind:
    key: str
    title: str | Promise
    template_name: str
    columns: list[Column]
    examples: list[list[str]]


SHEET_KINDS = {
    MONTHS: SheetKind(
        key=MONTHS,
        title=gettext_lazy("Monthly service figures"),
        template_name="月度服务数据导入模板",
        columns=[
            NATIONAL_ID,
            NAME,
            Column(
                "month",
                gettext_lazy("Month"),
                required=True,
                help=gettext_lazy("The month served, written 2026-10; not a month still to come."),
            ),
            Column(
                "service_hours",
                gettext_lazy("Service hours"),
                required=True,
                help=gettext_lazy("Hours of care given in the month, 0 to 744, at most one decimal place."),
            ),
            Column(
                "surveys",
                gettext_lazy("Satisfaction surveys returned"),
                help=gettext_lazy("A whole number; empty counts as 0."),
            ),
            Column(
                "satisfied",
                gettext_lazy("Of which satisfied"),
                help=gettext_lazy("A whole number, no more than the surveys returned; empty counts as 0."),
            ),
        ],
        examples=[
            ["140502198001010014", "王秀英", "2026-09", "86.5", "12", "11"],
            ["140502198001010014", "王秀英", "2026-10", "90", "10", "10"],
        ],
    ),
    INCIDENTS: SheetKind(
        key=INCIDENTS,
        title=gettext_lazy("Complaints, accidents and ethics breaches"),
        template_name="服务事件导入模板",
        columns=[
            Column(
                "reference",
                gettext_lazy("Incident reference"),
                required=True,
                help=gettext_lazy(
                    "The LTCI system's number for the incident, at most 64 characters. Send the same number again "
                    "to correct the incident, e.g. once a complaint is found substantiated."
                ),
            ),
            NATIONAL_ID,
            NAME,
            Column(
                "kind",
                gettext_lazy("Kind"),
                required=True,
                help=gettext_lazy("One of: 投诉, 责任事故, 违反职业道德."),
            ),
            Column(
                "occurred_on",
                gettext_lazy("Occurred on"),
                required=True,
                help=gettext_lazy("The date, written 2026-10-03; not a date still to come."),
            ),
            Column(
                "substantiated",
                gettext_lazy("Substantiated"),
                required=True,
                help=gettext_lazy(
                    "是 when the investigation found it true, 否 while it is open or was not upheld. A substantiated "
                    "incident may lower the caregiver's star level at once."
                ),
            ),
            Column("summary", gettext_lazy("Summary"), help=gettext_lazy("At most 500 characters.")),
        ],
        examples=[
            ["TS-2026-0031", "140502198001010014", "王秀英", "投诉", "2026-10-03", "否", "家属反映上门时间迟到半小时"],
            ["SG-2026-0007", "140502198001010014", "王秀英", "责任事故", "2026-09-18", "是", "协助转移时服务对象跌倒"],
        ],
    ),
}

# A month typed into Excel becomes a date (2026-10-01); clerks also write 2026/10 or 2026年10月.
SHEET_MONTH_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:[-/.]0?1)?$")
SHEET_DAY_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _sheet_month(text: str) -> str:
    match = SHEET_MONTH_RE.match(text)
    return f"{match.group(1)}-{int(match.group(2)):02d}" if match else text


def _sheet_day(text: str) -> str:
    match = SHEET_DAY_RE.match(text)
    return f"{match.group(1)}-{int(match.group(2)):02d}-{int(match.group(3)):02d}" if match else text


def _record(kind: str, values: dict[str, str]) -> dict:
    record = {key: value for key, value in values.items() if key != "name"}
    if kind == MONTHS:
        record["month"] = _sheet_month(record.get("month", ""))
    else:
        record["occurred_on"] = _sheet_day(record.get("occurred_on", ""))
    return record


@dataclass(frozen=True)
class SheetProblem:
    row: int | None
    column: str
    message: str


class SpreadsheetRejected(ValidationError):
    """The file has problems, each with the row number and column the clerk sees; nothing was written."""

    def __init__(self, problems: list[SheetProblem]):
        super().__init__([problem.message for problem in problems])
        self.problems = problems


def service_data_spreadsheet_import(*, kind: str, data: bytes, name: str, user: User) -> ServiceDataOutcome:
    sheet = SHEET_KINDS[kind]
    labels = {column.key: str(column.label) for column in sheet.columns}
    try:
        rows = spreadsheet_read(data=data, name=name, columns=sheet.columns)
    except SpreadsheetError as error:
        raise SpreadsheetRejected([SheetProblem(None, "", str(error))])
    # An identity number typed as a number has lost its last digits: the column must be fixed first.
    typed_as_numbers = [
        SheetProblem(row.number, labels["national_id"], message)
        for row in rows
        for message in text_only_errors(row, sheet.columns)
    ]
    if typed_as_numbers:
        raise SpreadsheetRejected(typed_as_numbers)

    records = [_record(kind, row.values) for row in rows]
    row_numbers = [row.number for row in rows]
    digest = hashlib.sha256(data).hexdigest()
    try:
        return service_data_import(
            months=records if kind == MONTHS else [],
            incidents=records if kind == INCIDENTS else [],
            source=ServiceDataImport.Source.SPREADSHEET,
            batch_key=digest,
            payload_sha256=digest,
            uploaded_by=user,
            file_name=name,
            row_numbers={kind: row_numbers},
        )
    except ServiceDataRejected as rejected:
        raise SpreadsheetRejected(
            [
                SheetProblem(
                    row_numbers[problem.index] if problem.index is not None else None,
                    labels.get(problem.field, ""),
                    problem.message,
                )
                for problem in rejected.problems
            ]
        )
