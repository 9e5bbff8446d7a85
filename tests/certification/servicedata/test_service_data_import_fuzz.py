"""The service-data spreadsheet import under random files: whatever the cells, headings, encoding, damage or size,
the import refuses with every problem in Chinese (SpreadsheetRejected, nothing else) and writes nothing, or writes
the whole file; the upload screen never answers 500 and shows each problem; a valid file, however it is typed and
saved, writes exactly its rows."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import ModelLogEntry

from accounts import services as account_services
from accounts.models import Role
from certification.models import ServiceDataImport, ServiceIncident, ServiceMonth
from certification.servicedata import imports
from tests.factories.accounts import CaregiverFactory
from tests.fuzzing import (
    FILE_NAMES,
    FUZZ_LIMITS,
    MAX_ROWS,
    READABLE_ENCODINGS,
    column_names,
    damaged,
    file_formats,
    headers,
    is_chinese,
    plain_text,
    ragged_rows,
    random_bytes,
    shown,
    spoilt_cells,
    spreadsheet_file,
    supplied_text,
    table_snapshot,
)

WRITTEN = (ServiceDataImport, ServiceMonth, ServiceIncident, ModelLogEntry)
KINDS = [imports.MONTHS, imports.INCIDENTS]
NAMES = {kind: column_names(imports.SHEET_KINDS[kind].columns) for kind in KINDS}
HEADINGS = {
    kind: [("*" if c.required else "") + str(c.label) for c in imports.SHEET_KINDS[kind].columns] for kind in KINDS
}


def months_ago(count: int) -> datetime.date:
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - count
    return datetime.date(index // 12, index % 12 + 1, 1)


# --- Valid files, typed and saved every way a clerk's spreadsheet does it -----------------------------------


def month_cell(month: datetime.date) -> st.SearchStrategy:
    return st.sampled_from(
        [
            f"{month:%Y-%m}",
            f"{month:%Y/%m}",
            f"{month.year}年{month.month}月",
            f"{month.year}.{month.month}",
            f"{month:%Y-%m}-01",
            datetime.datetime(month.year, month.month, 1),  # what Excel makes of 2026-10 typed into a cell
        ]
    )


def day_cell(day: datetime.date) -> st.SearchStrategy:
    return st.sampled_from(
        [day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day.year}年{day.month}月{day.day}日", day]
    )


def count_cell(count: int) -> st.SearchStrategy:
    return st.sampled_from([count, str(count), float(count)] + ([None, ""] if count == 0 else []))


KIND_CELLS = {
    "complaint": ["投诉", "complaint", "Complaint"],
    "liability_accident": ["责任事故", "liability_accident", "Liability accident"],
    "ethics_breach": ["违反职业道德", "ethics_breach"],
}
TRUTH_CELLS = {True: ["是", "true", True, 1, "已查实", "YES"], False: ["否", "false", False, 0, "未查实", "n"]}


@st.composite
def valid_sheets(draw, caregivers, kind, *, encoding=None, most_rows=MAX_ROWS):
    """(header, rows, what must be on record after): the columns in any order, optional ones left out, blank rows
    between, values typed as text, numbers or dates, text the file's encoding can carry."""
    columns = imports.SHEET_KINDS[kind].columns
    kept = [c for c in columns if c.required or draw(st.booleans())]
    keys = {c.key for c in kept}
    order = draw(st.permutations(kept))
    header = [draw(st.sampled_from(names)) for c in order for names in NAMES[kind] if names[0] == c.key]
    count = draw(st.integers(1, most_rows))
    records, expected = [], {}
    if kind == imports.MONTHS:
        pairs = draw(
            st.lists(
                st.tuples(st.sampled_from(caregivers), st.integers(1, 48)),
                min_size=count,
                max_size=count,
                unique_by=lambda pair: (pair[0].pk, pair[1]),
            )
        )
        for caregiver, offset in pairs:
            hours = draw(st.decimals(0, 744, places=1))
            surveys = draw(st.integers(0, 1000)) if "surveys" in keys else 0
            satisfied = draw(st.integers(0, surveys)) if "satisfied" in keys else 0
            month = months_ago(offset)
            records.append(
                {
                    "national_id": draw(st.sampled_from([caregiver.national_id, caregiver.national_id.lower()])),
                    "name": draw(st.sampled_from([caregiver.name, "", "某某"])),
                    "month": draw(month_cell(month)),
                    "service_hours": draw(st.sampled_from([str(hours), float(hours), f" {hours} "])),
                    "surveys": draw(count_cell(surveys)),
                    "satisfied": draw(count_cell(satisfied)),
                }
            )
            expected[(caregiver.pk, month)] = (hours, surveys, satisfied)
    else:
        references = draw(
            st.lists(
                plain_text(min_size=1, max_size=64, encoding=encoding), min_size=count, max_size=count, unique=True
            )
        )
        for reference in references:
            caregiver = draw(st.sampled_from(caregivers))
            kind_code = draw(st.sampled_from(list(KIND_CELLS)))
            substantiated = draw(st.booleans())
            day = timezone.localdate() - datetime.timedelta(days=draw(st.integers(0, 3000)))
            summary = draw(plain_text(max_size=500, encoding=encoding)) if "summary" in keys else ""
            records.append(
                {
                    "reference": reference,
                    "national_id": caregiver.national_id,
                    "name": caregiver.name,
                    "kind": draw(st.sampled_from(KIND_CELLS[kind_code])),
                    "occurred_on": draw(day_cell(day)),
                    "substantiated": draw(st.sampled_from(TRUTH_CELLS[substantiated])),
                    "summary": summary,
                }
            )
            expected[reference] = (caregiver.pk, kind_code, day, substantiated, summary)
    table = [[values[c.key] for c in order] for values in records]
    # Blank rows between the data rows (never after: a CSV counts those, a workbook does not keep them).
    for _blank in range(draw(st.integers(0, 2))):
        table.insert(draw(st.integers(0, len(table) - 1)), [])
    return header, table, expected


@st.composite
def spoilt_row(draw, rows: list[list], width: int) -> list:
    """A row of random cells, or one of the valid rows with a cell or two replaced by random ones."""
    valid = [row for row in rows if row]
    if not valid or draw(st.booleans()):
        return draw(st.lists(spoilt_cells, min_size=1, max_size=width + 1))
    row = list(draw(st.sampled_from(valid)))
    for _ in range(draw(st.integers(1, 2))):
        row[draw(st.integers(0, len(row) - 1))] = draw(spoilt_cells)
    return row


def uploads(caregivers, kind) -> st.SearchStrategy[tuple[str, bytes]]:
    """Random cells under random headings, random bytes, a valid file, or a valid file damaged."""
    valid = valid_sheets(caregivers, kind).flatmap(
        lambda sheet: file_formats().map(lambda file_format: spreadsheet_file([sheet[0], *sheet[1]], file_format))
    )
    random_cells = headers(NAMES[kind]).flatmap(
        lambda header: st.tuples(ragged_rows(len(header)), file_formats()).map(
            lambda drawn: spreadsheet_file([header, *drawn[0]], drawn[1])
        )
    )
    broken = valid.flatmap(lambda upload: damaged(upload[1]).map(lambda content: (upload[0], content)))
    return st.one_of(random_cells, st.tuples(FILE_NAMES, random_bytes), broken, valid)


@FUZZ_LIMITS
class ServiceDataImportFuzzTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.bureau = account_services.user_create(
            username="bureau", password="pw", name="医保局", role=Role.ADMINISTRATOR
        )
        cls.caregivers = [CaregiverFactory(user__name=f"护理员{n}") for n in range(3)]

    def run_import(self, kind, name, data):
        return imports.service_data_spreadsheet_import(kind=kind, data=data, name=name, user=self.bureau)

    def assert_refused(self, kind, name, data, supplied) -> None:
        """The file is refused, with reasons in Chinese, and nothing is written; or it is a valid file after all."""
        before = table_snapshot(*WRITTEN)
        try:
            outcome = self.run_import(kind, name, data)
        except imports.SpreadsheetRejected as rejected:
            event("refused")
            self.assertTrue(rejected.problems)
            for problem in rejected.problems:
                self.assertTrue(is_chinese(problem.message, supplied), problem)
            self.assertEqual(table_snapshot(*WRITTEN), before)
        else:
            event("imported")
            record = outcome.record
            self.assertEqual(ServiceMonth.objects.filter(imported_in=record).count(), record.months_written)
            self.assertEqual(ServiceIncident.objects.filter(imported_in=record).count(), record.incidents_written)

    @given(kind=st.sampled_from(KINDS), data=st.data())
    def test_random_cells_and_headings_are_refused_with_reasons_and_write_nothing(self, kind, data):
        header = data.draw(headers(NAMES[kind]) | st.just(HEADINGS[kind]))
        rows = [header, *data.draw(ragged_rows(len(header)))]
        name, content = spreadsheet_file(rows, data.draw(file_formats()))
        self.assert_refused(kind, name, content, supplied_text(rows))

    @given(kind=st.sampled_from(KINDS), name=FILE_NAMES, content=random_bytes)
    def test_random_bytes_are_refused_with_a_reason(self, kind, name, content):
        self.assert_refused(kind, name, content, supplied_text(content))

    @given(kind=st.sampled_from(KINDS), data=st.data())
    def test_a_damaged_workbook_is_refused_or_read_whole(self, kind, data):
        header, rows, expected = data.draw(valid_sheets(self.caregivers, kind))
        _name, original = spreadsheet_file([header, *rows], ("xlsx", None))
        content = data.draw(damaged(original))
        self.assert_refused(kind, "upload.xlsx", content, supplied_text(content))
        if ServiceDataImport.objects.exists():
            # Damage the reader does not notice (in a part it does not read) leaves the rows as they were.
            self.assertEqual(self.stored(kind), expected)

    @given(kind=st.sampled_from(KINDS), file_format=file_formats(encodings=READABLE_ENCODINGS), data=st.data())
    def test_one_spoilt_row_among_valid_ones_rejects_the_whole_file_or_joins_it(self, kind, file_format, data):
        header, rows, expected = data.draw(
            valid_sheets(self.caregivers, kind, encoding=file_format[1], most_rows=MAX_ROWS - 1)
        )
        rows.insert(data.draw(st.integers(0, len(rows))), data.draw(spoilt_row(rows, len(header))))
        name, content = spreadsheet_file([header, *rows], file_format)
        self.assert_refused(kind, name, content, supplied_text(rows))
        if ServiceDataImport.objects.exists():
            # The spoilt row was valid after all (or blank): every other row is in as well.
            self.assertLessEqual(expected.items(), self.stored(kind).items())

    @given(kind=st.sampled_from(KINDS), file_format=file_formats(encodings=READABLE_ENCODINGS), data=st.data())
    def test_a_valid_file_writes_exactly_its_rows_and_one_past_the_limit_nothing(self, kind, file_format, data):
        encoding = file_format[1] or "utf-8"
        header, rows, expected = data.draw(
            valid_sheets(self.caregivers, kind, encoding=encoding, most_rows=MAX_ROWS + 1)
        )
        name, content = spreadsheet_file([header, *rows], file_format)
        event(" ".join(filter(None, file_format)))
        if len(rows) > MAX_ROWS:
            before = table_snapshot(*WRITTEN)
            with self.assertRaises(imports.SpreadsheetRejected) as rejected:
                self.run_import(kind, name, content)
            [problem] = rejected.exception.problems
            self.assertIn(f"{MAX_ROWS}", problem.message)
            self.assertTrue(is_chinese(problem.message))
            self.assertEqual(table_snapshot(*WRITTEN), before)
            return
        outcome = self.run_import(kind, name, content)
        self.assertTrue(outcome.created)
        self.assertEqual(self.stored(kind), expected)
        # The same file again writes nothing.
        after = table_snapshot(*WRITTEN)
        self.assertFalse(self.run_import(kind, name, content).created)
        self.assertEqual(table_snapshot(*WRITTEN), after)

    def stored(self, kind) -> dict:
        if kind == imports.MONTHS:
            return {
                (row.caregiver_id, row.month): (row.service_hours, row.surveys, row.satisfied)
                for row in ServiceMonth.objects.all()
            }
        return {
            row.reference: (row.caregiver_id, row.kind, row.occurred_on, row.substantiated, row.summary)
            for row in ServiceIncident.objects.all()
        }

    # --- The upload screen ------------------------------------------------------------------------------

    @given(kind=st.sampled_from(KINDS) | st.text(max_size=4), data=st.data())
    def test_the_upload_screen_never_fails_and_shows_every_problem(self, kind, data):
        sheet_kind = kind if kind in KINDS else imports.MONTHS
        name, content = data.draw(uploads(self.caregivers, sheet_kind))
        before = table_snapshot(*WRITTEN)
        client = Client(raise_request_exception=False)
        client.force_login(self.bureau)
        response = client.post(
            reverse("service_data_upload:index"), {"kind": kind, "file": SimpleUploadedFile(name, content)}
        )
        self.assertLess(response.status_code, 500)
        event(f"answered {response.status_code}")
        if response.status_code == 302:
            self.assertTrue(ServiceDataImport.objects.exists())
            return
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        problems = [problem.message for problem in response.context.get("problems") or []]
        form_errors = [message for messages in response.context["form"].errors.values() for message in messages]
        self.assertTrue(problems or form_errors)
        for message in problems + form_errors:
            self.assertTrue(is_chinese(message, supplied_text(content, name, kind)), message)
            self.assertTrue(shown(message, page), message)
        self.assertEqual(table_snapshot(*WRITTEN), before)
