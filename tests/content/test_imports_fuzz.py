"""The standards library's imports (clauses and care service items) under random files: whatever the cells,
headings, encoding, damage, size or parent links, the job ends refused with every problem in Chinese and nothing
written, or writes the whole file, and what it writes passes the models' own rules; the import screen never answers
500; a valid file, however it is typed and saved, writes exactly its rows."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import ModelLogEntry, Revision

from content import services
from content.imports import ClauseImporter, ServiceItemImporter, split_steps
from content.models import Clause, ImportJob, ServiceItem
from tests.factories.content import ClauseFactory, ServiceItemFactory, StandardFactory, administrator
from tests.fuzzing import (
    FILE_NAMES,
    FUZZ_LIMITS,
    MAX_ROWS,
    READABLE_ENCODINGS,
    ImportJobChecks,
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

KINDS = {ImportJob.Kind.CLAUSES: ClauseImporter.columns, ImportJob.Kind.SERVICE_ITEMS: ServiceItemImporter.columns}
NAMES = {kind: column_names(columns) for kind, columns in KINDS.items()}
TOPS = ["5", "6", "7", "A"]
clause_numbers = st.tuples(st.sampled_from(TOPS), st.lists(st.integers(1, 12), max_size=2)).map(
    lambda parts: ".".join([parts[0], *map(str, parts[1])])
)
# Few numbers, so that a file's parents point at one another: in either order, in circles, at themselves; and
# one longer than a clause number may be.
LINKED = ["5", "5.1", "5.2", "6", "6.1", "7", "7.1", "A", "1.2.3.4.5.6.7.8.9.10.11"]
CATEGORY_CELLS = {
    ServiceItem.Category.DAILY_LIVING: ["生活照料", "daily_living", "Daily living care", "DAILY LIVING CARE"],
    ServiceItem.Category.BASIC_NURSING: ["基础护理", "basic_nursing", "Basic nursing"],
    ServiceItem.Category.MEDICAL_NURSING: ["医疗护理", "medical_nursing"],
    ServiceItem.Category.PSYCHOLOGICAL: ["心理慰藉", "psychological", "Psychological comfort"],
}


def ordered_header(draw, kind, kept: list[str]) -> tuple[list, list[str]]:
    order = draw(st.permutations(kept))
    return [draw(st.sampled_from(names)) for key in order for names in NAMES[kind] if names[0] == key], order


def with_blank_rows(draw, rows: list[list]) -> list[list]:
    for _blank in range(draw(st.integers(0, 1))):
        rows.insert(draw(st.integers(0, len(rows) - 1)), [])
    return rows


@st.composite
def valid_clause_files(draw, existing: set[str], *, encoding=None, most=MAX_ROWS):
    """(header, rows, {number: (title, text, parent number)} the standard must hold for the file's clauses)."""
    numbers = draw(st.lists(clause_numbers, min_size=1, max_size=most, unique=True))
    known = existing | set(numbers)
    kept = ["number", "title"] + [key for key in ("text", "parent") if draw(st.booleans())]
    header, order = ordered_header(draw, ImportJob.Kind.CLAUSES, kept)
    rows, expected = [], {}
    for number in numbers:
        natural = number.rsplit(".", 1)[0] if "." in number else None
        parent = natural if natural in known else None
        values = {
            "number": number,
            "title": draw(plain_text(min_size=1, max_size=200, encoding=encoding)),
            "text": draw(plain_text(max_size=300, encoding=encoding)) if "text" in kept else "",
            # The parent written out, or left for the import to infer from the number.
            "parent": (parent or "") if draw(st.booleans()) else "",
        }
        rows.append([values[key] for key in order])
        expected[number] = (values["title"], values["text"], parent)
    return header, with_blank_rows(draw, rows), expected


@st.composite
def valid_item_files(draw, clause_numbers_on_record: list[str], *, encoding=None, most=MAX_ROWS):
    """(header, rows, {code: (name, category, description, steps, related clause numbers)})."""
    codes = draw(
        st.lists(plain_text(min_size=1, max_size=20, encoding=encoding), min_size=1, max_size=most, unique=True)
    )
    kept = ["code", "name", "category"] + [k for k in ("description", "steps", "clauses") if draw(st.booleans())]
    header, order = ordered_header(draw, ImportJob.Kind.SERVICE_ITEMS, kept)
    rows, expected = [], {}
    for code in codes:
        category = draw(st.sampled_from(list(CATEGORY_CELLS)))
        steps = draw(st.lists(plain_text(min_size=1, max_size=20, encoding=encoding, exclude=";；"), max_size=3))
        related = draw(st.lists(st.sampled_from(clause_numbers_on_record), unique=True, max_size=3))
        values = {
            "code": code,
            "name": draw(plain_text(min_size=1, max_size=100, encoding=encoding)),
            "category": draw(st.sampled_from(CATEGORY_CELLS[category])),
            "description": draw(plain_text(max_size=200, encoding=encoding)) if "description" in kept else "",
            "steps": draw(st.sampled_from(["\n", "；", ";", "\r\n"])).join(steps) if "steps" in kept else "",
            "clauses": draw(st.sampled_from(["、", ", ", "，", " ", ";"])).join(related),
        }
        rows.append([values[key] for key in order])
        expected[code] = (
            values["name"],
            category,
            values["description"],
            "\n".join(split_steps(values["steps"])),
            # Without the column an item keeps its related clauses: none, for the new and the one on record.
            sorted(related) if "clauses" in kept else [],
        )
    return header, with_blank_rows(draw, rows), expected


@FUZZ_LIMITS
class LibraryImportFuzzTests(ImportJobChecks, TestCase):
    written = (Clause, ServiceItem, ServiceItem.clauses.through, Revision, ModelLogEntry)

    @classmethod
    def setUpTestData(cls):
        cls.administrator = administrator()
        cls.standard = StandardFactory(code="DB1405/T 901—2022")
        five = ClauseFactory(standard=cls.standard, number="5", title="生活照料")
        ClauseFactory(standard=cls.standard, number="5.1", title="头面部清洁", parent=five)
        ClauseFactory(standard=cls.standard, number="6", title="基础护理")
        ServiceItemFactory(code="SC-01", name="头面部清洁")
        cls.existing = {"5", "5.1", "6"}

    def import_file(self, kind, name, content, supplied, standard=True):
        return self.run_job(
            lambda: services.import_job_create(
                kind=kind,
                upload=SimpleUploadedFile(name, content),
                user=self.administrator,
                standard=self.standard if standard else None,
            ),
            supplied,
        )

    def assert_clauses_valid(self) -> None:
        """What the standard holds passes the clause's own checks: numbers and titles that fit, no parent in
        another standard, no clause nested under itself or its own descendants."""
        parents = dict(Clause.objects.values_list("pk", "parent_id"))
        for pk in parents:
            seen, ancestor = {pk}, parents[pk]
            while ancestor is not None:
                self.assertNotIn(ancestor, seen, "the clauses' parents run in a circle")
                seen.add(ancestor)
                ancestor = parents[ancestor]
        for clause in Clause.objects.select_related("parent"):
            clause.full_clean()

    @given(kind=st.sampled_from(list(KINDS)), data=st.data())
    def test_random_cells_and_headings_are_refused_with_reasons_and_write_nothing(self, kind, data):
        header = data.draw(headers(NAMES[kind]))
        rows = [header, *data.draw(ragged_rows(len(header)))]
        name, content = spreadsheet_file(rows, data.draw(file_formats()))
        job = self.import_file(kind, name, content, supplied_text(rows))
        if job is not None and job.status == ImportJob.Status.SUCCEEDED:
            self.assert_clauses_valid()

    @given(kind=st.sampled_from(list(KINDS)), name=FILE_NAMES, content=random_bytes)
    def test_random_bytes_are_refused_with_a_reason(self, kind, name, content):
        job = self.import_file(kind, name, content, supplied_text(content))
        self.assertNotEqual(getattr(job, "status", None), ImportJob.Status.SUCCEEDED)

    @given(data=st.data())
    def test_a_damaged_workbook_is_refused_or_read_whole(self, data):
        header, rows, expected = data.draw(valid_clause_files(self.existing, most=4))
        _name, original = spreadsheet_file([header, *rows], ("xlsx", None))
        job = self.import_file(ImportJob.Kind.CLAUSES, "c.xlsx", data.draw(damaged(original)), supplied_text(rows))
        if job is not None and job.status == ImportJob.Status.SUCCEEDED:
            self.assertEqual({n: v for n, v in self.stored_clauses().items() if n in expected}, expected)

    @given(
        rows=st.lists(
            st.tuples(st.sampled_from(LINKED), st.sampled_from(["", *LINKED])),
            min_size=1,
            max_size=MAX_ROWS,
            unique_by=lambda row: row[0],
        ),
        file_format=file_formats(encodings=["utf-8"]),
    )
    def test_any_parent_links_are_written_as_a_tree_or_refused(self, rows, file_format):
        """Parents given in any order and any depth, a clause under its own child or itself, under one already
        on record: the standard stays a tree whose every clause passes its own checks."""
        table = [
            ["条款编号", "条款标题", "上级条款编号"],
            *[[number, f"条款 {number}", parent] for number, parent in rows],
        ]
        name, content = spreadsheet_file(table, file_format)
        job = self.import_file(ImportJob.Kind.CLAUSES, name, content, supplied_text(table))
        self.assertIsNotNone(job)
        if job.status == ImportJob.Status.SUCCEEDED:
            self.assert_clauses_valid()
            stored = self.stored_clauses()
            for number, parent in rows:
                if parent:
                    self.assertEqual(stored[number][2], parent)

    @given(kind=st.sampled_from(list(KINDS)), file_format=file_formats(encodings=READABLE_ENCODINGS), data=st.data())
    def test_one_spoilt_row_among_valid_ones_rejects_the_whole_file_or_joins_it(self, kind, file_format, data):
        encoding = file_format[1]
        if kind == ImportJob.Kind.CLAUSES:
            files = valid_clause_files(self.existing, encoding=encoding, most=MAX_ROWS - 1)
        else:
            files = valid_item_files(sorted(self.existing), encoding=encoding, most=MAX_ROWS - 1)
        header, rows, expected = data.draw(files)
        valid = [row for row in rows if row]
        spoilt = list(data.draw(st.sampled_from(valid)))
        for _ in range(data.draw(st.integers(1, 2))):
            spoilt[data.draw(st.integers(0, len(spoilt) - 1))] = data.draw(spoilt_cells)
        rows.insert(data.draw(st.integers(0, len(rows))), spoilt)
        name, content = spreadsheet_file([header, *rows], file_format)
        job = self.import_file(kind, name, content, supplied_text(rows))
        if job is not None and job.status == ImportJob.Status.SUCCEEDED:
            self.assert_clauses_valid()
            stored = self.stored_clauses() if kind == ImportJob.Kind.CLAUSES else self.stored_items()
            self.assertLessEqual(set(expected), set(stored))

    @given(
        kind=st.sampled_from(list(KINDS)),
        file_format=file_formats(encodings=READABLE_ENCODINGS),
        data=st.data(),
    )
    def test_a_valid_file_writes_exactly_its_rows_and_one_past_the_limit_nothing(self, kind, file_format, data):
        encoding = file_format[1] or "utf-8"
        if kind == ImportJob.Kind.CLAUSES:
            files = valid_clause_files(self.existing, encoding=encoding, most=MAX_ROWS)
        else:
            files = valid_item_files(sorted(self.existing), encoding=encoding, most=MAX_ROWS)
        header, rows, expected = data.draw(files)
        name, content = spreadsheet_file([header, *rows], file_format)
        event(" ".join(filter(None, [kind, *file_format])))
        before = table_snapshot(*self.written)
        job = services.import_job_create(
            kind=kind, upload=SimpleUploadedFile(name, content), user=self.administrator, standard=self.standard
        )
        if len(rows) > MAX_ROWS:
            event("past the row limit")
            self.assertEqual(job.status, ImportJob.Status.FAILED)
            [error] = job.errors
            self.assertIn(str(MAX_ROWS), error["message"])
            self.assertTrue(is_chinese(error["message"]))
            self.assertEqual(table_snapshot(*self.written), before)
            return
        self.assertEqual(job.status, ImportJob.Status.SUCCEEDED, job.errors)
        if kind == ImportJob.Kind.CLAUSES:
            self.assertEqual({n: v for n, v in self.stored_clauses().items() if n in expected}, expected)
            self.assertLessEqual(self.existing, set(self.stored_clauses()))
            self.assert_clauses_valid()
        else:
            stored = self.stored_items()
            self.assertEqual({code: stored[code] for code in expected}, expected)
            self.assertIn("SC-01", stored)

    def stored_clauses(self) -> dict:
        return {
            clause.number: (clause.title, clause.text, clause.parent.number if clause.parent else None)
            for clause in Clause.objects.filter(standard=self.standard).select_related("parent")
        }

    def stored_items(self) -> dict:
        return {
            item.code: (
                item.name,
                item.category,
                item.description,
                item.steps,
                sorted(item.clauses.values_list("number", flat=True)),
            )
            for item in ServiceItem.objects.all()
        }

    # --- The import screen ------------------------------------------------------------------------------

    @given(kind=st.sampled_from(list(KINDS)) | st.text(max_size=3), standard=st.booleans(), data=st.data())
    def test_the_import_screen_never_fails_and_shows_every_problem(self, kind, standard, data):
        sheet_kind = kind if kind in KINDS else ImportJob.Kind.CLAUSES
        name, content = data.draw(
            st.one_of(
                headers(NAMES[sheet_kind]).flatmap(
                    lambda header: st.tuples(ragged_rows(len(header)), file_formats()).map(
                        lambda drawn: spreadsheet_file([header, *drawn[0]], drawn[1])
                    )
                ),
                st.tuples(FILE_NAMES, random_bytes),
                valid_clause_files(self.existing).flatmap(
                    lambda sheet: file_formats().map(lambda fmt: spreadsheet_file([sheet[0], *sheet[1]], fmt))
                ),
            )
        )
        before = table_snapshot(*self.written)
        client = Client(raise_request_exception=False)
        client.force_login(self.administrator)
        response = client.post(
            reverse("content_imports:index"),
            {
                "kind": kind,
                "standard": self.standard.pk if standard else "",
                "file": SimpleUploadedFile(name, content),
            },
            follow=True,
        )
        for earlier in response.redirect_chain:
            self.assertLess(earlier[1], 500)
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        job = response.context.get("job")
        event("a job" if job is not None else "refused on the form")
        if job is not None and job.status == ImportJob.Status.SUCCEEDED:
            self.assert_clauses_valid()
            return
        if job is not None:
            messages = [error["message"] for error in job.errors]
        else:
            messages = [message for errors in response.context["form"].errors.values() for message in errors]
        self.assertTrue(messages)
        for message in messages:
            self.assertTrue(is_chinese(message, supplied_text(content, name, kind)), message)
            self.assertTrue(shown(message, page), message)
        self.assertEqual(table_snapshot(*self.written), before)
