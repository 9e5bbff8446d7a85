"""The roster import under random files: whatever the cells, headings, encoding, damage or size, the job ends
refused with every problem in Chinese and no one added, or adds exactly the caregivers of the file; the roster
screen never answers 500 and shows the problems; the batch's places and the row limit are kept to the row."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import ModelLogEntry

from accounts import services as account_services
from content import services as content_services
from content.models import ImportJob
from tests.factories.accounts import CaregiverFactory
from tests.factories.training import batch_with_sessions, course_with_lessons, trainer_for, training_body_with_index
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
from training.imports import RosterImporter
from training.models import BatchMember, Enrollment

NAMES = column_names(RosterImporter.columns)
CAPACITY = 5
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def identity_cell(national_id: str) -> st.SearchStrategy[str]:
    """The number as trainers type it: lower-case x, full-width digits, padded."""
    return st.sampled_from([national_id, national_id.lower(), f" {national_id} ", national_id.translate(FULL_WIDTH)])


@st.composite
def valid_rosters(draw, caregivers, *, encoding=None, most=CAPACITY):
    """(header, rows, the caregivers in the file): columns in any order, the institution column or not."""
    chosen = draw(st.permutations(caregivers))[: draw(st.integers(1, most))]
    institution = draw(st.booleans())
    order = draw(st.permutations(["national_id", "name"] + (["institution"] if institution else [])))
    header = [draw(st.sampled_from(names)) for key in order for names in NAMES if names[0] == key]
    rows = []
    for caregiver in chosen:
        values = {
            "national_id": draw(identity_cell(caregiver.national_id)),
            "name": draw(st.sampled_from([caregiver.name, f" {caregiver.name} "])),
            "institution": draw(plain_text(max_size=30, encoding=encoding)),
        }
        rows.append([values[key] for key in order])
    for _blank in range(draw(st.integers(0, 1))):
        rows.insert(draw(st.integers(0, len(rows) - 1)), [])
    return header, rows, chosen


@FUZZ_LIMITS
class RosterImportFuzzTests(ImportJobChecks, TestCase):
    written = (BatchMember, Enrollment, ModelLogEntry)

    @classmethod
    def setUpTestData(cls):
        account_services.role_groups_ensure()
        body, index = training_body_with_index()
        cls.batch = batch_with_sessions(body, course_with_lessons(index), capacity=CAPACITY)
        cls.trainer = trainer_for(body)
        cls.caregivers = [CaregiverFactory(user__name=f"护理员{n}") for n in range(7)]
        # One of them is on the roster already: listed again, they take no second place.
        cls.member = cls.caregivers[0]
        content_services.import_job_create(
            kind=ImportJob.Kind.BATCH_ROSTER,
            upload=SimpleUploadedFile("r.csv", f"身份证号,姓名\n{cls.member.national_id},{cls.member.name}\n".encode()),
            user=cls.trainer,
            target_id=cls.batch.pk,
        )
        assert BatchMember.objects.filter(batch=cls.batch).count() == 1

    def import_roster(self, name, content, supplied):
        return self.run_job(
            lambda: content_services.import_job_create(
                kind=ImportJob.Kind.BATCH_ROSTER,
                upload=SimpleUploadedFile(name, content),
                user=self.trainer,
                target_id=self.batch.pk,
            ),
            supplied,
        )

    def roster(self) -> set[int]:
        return set(BatchMember.objects.filter(batch=self.batch).values_list("caregiver_id", flat=True))

    @given(data=st.data())
    def test_random_cells_and_headings_are_refused_with_reasons_and_add_no_one(self, data):
        header = data.draw(headers(NAMES) | st.just(["*身份证号", "*姓名", "所在机构"]))
        rows = [header, *data.draw(ragged_rows(len(header)))]
        name, content = spreadsheet_file(rows, data.draw(file_formats()))
        job = self.import_roster(name, content, supplied_text(rows))
        self.assertNotEqual(getattr(job, "status", None), ImportJob.Status.SUCCEEDED)

    @given(name=FILE_NAMES, content=random_bytes)
    def test_random_bytes_are_refused_with_a_reason(self, name, content):
        job = self.import_roster(name, content, supplied_text(content))
        self.assertNotEqual(getattr(job, "status", None), ImportJob.Status.SUCCEEDED)

    @given(data=st.data())
    def test_a_damaged_workbook_is_refused_or_read_whole(self, data):
        header, rows, chosen = data.draw(valid_rosters(self.caregivers, most=4))
        _name, original = spreadsheet_file([header, *rows], ("xlsx", None))
        job = self.import_roster("roster.xlsx", data.draw(damaged(original)), supplied_text(rows))
        if job is not None and job.status == ImportJob.Status.SUCCEEDED:
            self.assertEqual(self.roster(), {self.member.pk} | {c.pk for c in chosen})

    @given(data=st.data())
    def test_one_spoilt_row_among_valid_ones_rejects_the_whole_file_or_joins_it(self, data):
        header, rows, chosen = data.draw(valid_rosters(self.caregivers, most=3))
        valid = [row for row in rows if row]
        spoilt = list(data.draw(st.sampled_from(valid)))
        for _ in range(data.draw(st.integers(1, 2))):
            spoilt[data.draw(st.integers(0, len(spoilt) - 1))] = data.draw(spoilt_cells)
        rows.insert(data.draw(st.integers(0, len(rows))), spoilt)
        name, content = spreadsheet_file([header, *rows], data.draw(file_formats()))
        job = self.import_roster(name, content, supplied_text(rows))
        if job is not None and job.status == ImportJob.Status.SUCCEEDED:
            # The spoilt cells were harmless (the institution, or the same number typed another way).
            self.assertLessEqual({c.pk for c in chosen}, self.roster())

    @given(file_format=file_formats(encodings=READABLE_ENCODINGS), data=st.data())
    def test_a_valid_roster_adds_exactly_its_caregivers_up_to_the_places_and_the_row_limit(self, file_format, data):
        encoding = file_format[1] or "utf-8"
        header, rows, chosen = data.draw(valid_rosters(self.caregivers, encoding=encoding, most=MAX_ROWS))
        name, content = spreadsheet_file([header, *rows], file_format)
        event(" ".join(filter(None, file_format)))
        before = table_snapshot(*self.written)
        job = content_services.import_job_create(
            kind=ImportJob.Kind.BATCH_ROSTER,
            upload=SimpleUploadedFile(name, content),
            user=self.trainer,
            target_id=self.batch.pk,
        )
        newcomers = {c.pk for c in chosen} - {self.member.pk}
        if len(rows) > MAX_ROWS or 1 + len(newcomers) > CAPACITY:
            event("past the row limit" if len(rows) > MAX_ROWS else "more than the places")
            self.assertEqual(job.status, ImportJob.Status.FAILED)
            [error] = job.errors
            self.assertIn(str(MAX_ROWS if len(rows) > MAX_ROWS else CAPACITY), error["message"])
            self.assertTrue(is_chinese(error["message"]))
            self.assertEqual(table_snapshot(*self.written), before)
            return
        self.assertEqual(job.status, ImportJob.Status.SUCCEEDED, job.errors)
        self.assertEqual(job.summary, {"added": len(newcomers), "already": len(chosen) - len(newcomers)})
        self.assertEqual(self.roster(), {self.member.pk} | newcomers)
        enrolled = set(Enrollment.objects.filter(batch=self.batch).values_list("caregiver_id", flat=True))
        self.assertEqual(enrolled, {self.member.pk} | newcomers)

    @given(data=st.data())
    def test_the_roster_screen_never_fails_and_shows_every_problem(self, data):
        name, content = data.draw(
            st.one_of(
                headers(NAMES).flatmap(
                    lambda header: st.tuples(ragged_rows(len(header)), file_formats()).map(
                        lambda drawn: spreadsheet_file([header, *drawn[0]], drawn[1])
                    )
                ),
                st.tuples(FILE_NAMES, random_bytes),
                valid_rosters(self.caregivers).flatmap(
                    lambda roster: file_formats().map(lambda fmt: spreadsheet_file([roster[0], *roster[1]], fmt))
                ),
            )
        )
        before = table_snapshot(*self.written)
        client = Client(raise_request_exception=False)
        client.force_login(self.trainer)
        response = client.post(
            f"/admin/training/batches/{self.batch.pk}/roster/",
            {"action": "import", "file": SimpleUploadedFile(name, content)},
            follow=True,
        )
        for earlier in response.redirect_chain:
            self.assertLess(earlier[1], 500)
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        job = response.context.get("job")
        event("a job" if job is not None else "refused on the form")
        if job is not None and job.status == ImportJob.Status.SUCCEEDED:
            return
        if job is not None:
            messages = [error["message"] for error in job.errors]
        else:
            messages = [message for errors in response.context["import_form"].errors.values() for message in errors]
        self.assertTrue(messages)
        for message in messages:
            self.assertTrue(is_chinese(message, supplied_text(content, name)), message)
            self.assertTrue(shown(message, page), message)
        self.assertEqual(table_snapshot(*self.written), before)
