"""Uploaded spreadsheets are kept only while they are imported: every import deletes its file however it ends,
beat sweeps away whatever a dead worker left, and the importers that read in memory store nothing at all."""

import datetime
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from certification.exams import imports as question_imports
from certification.models import Question, ServiceDataImport
from certification.servicedata import imports as service_data_imports
from content import services
from content.imports import importer_for
from content.models import Clause, ImportJob, ServiceItem
from content.tasks import import_uploads_sweep_task
from tests.factories.content import StandardFactory, administrator
from tests.factories.spreadsheets import stored_imports, upload, xlsx_bytes
from tests.factories.training import batch_with_sessions, course_with_lessons, trainer_for, training_body_with_index
from training.models import BatchMember

pytestmark = pytest.mark.django_db

CLAUSE_HEADER = ["*条款编号", "*条款标题", "条文", "上级条款编号"]
ITEM_HEADER = ["*项目编码", "*项目名称", "*类别"]
ROSTER_HEADER = ["*身份证号", "*姓名", "所在机构"]


def _empty_upload_storage() -> None:
    root = Path(storages["imports"].location)
    for path in root.rglob("*"):
        if path.is_file():
            path.unlink()


@pytest.fixture(autouse=True)
def _upload_storage_of_this_test():
    # The storage folder outlives each test's database: start and end every test here with it empty.
    _empty_upload_storage()
    yield
    _empty_upload_storage()


@pytest.fixture
def imports(caregiver):
    """For each kind of ImportJob: who uploads, what else the upload names, a good file and a bad one."""
    account_services.role_groups_ensure()
    body, index = training_body_with_index()
    batch = batch_with_sessions(body, course_with_lessons(index))
    bureau = administrator()
    standard = StandardFactory()
    return {
        ImportJob.Kind.CLAUSES: (
            bureau,
            {"standard": standard},
            [CLAUSE_HEADER, ["5", "生活照料", "", ""]],
            [CLAUSE_HEADER, ["", "没有编号", "", ""]],
            lambda: Clause.objects.filter(standard=standard).exists(),
        ),
        ImportJob.Kind.SERVICE_ITEMS: (
            bureau,
            {},
            [ITEM_HEADER, ["SC-01", "头面部清洁", "生活照料"]],
            [ITEM_HEADER, ["SC-01", "头面部清洁", "没有的类别"]],
            lambda: ServiceItem.objects.filter(code="SC-01").exists(),
        ),
        ImportJob.Kind.BATCH_ROSTER: (
            trainer_for(body),
            {"target_id": batch.pk},
            [ROSTER_HEADER, [caregiver.national_id, caregiver.name, ""]],
            [ROSTER_HEADER, ["140502198001010012", "张三", ""]],
            lambda: BatchMember.objects.filter(batch=batch, caregiver=caregiver).exists(),
        ),
    }


def run_import(imports, kind, rows, *, in_task: bool, capture, name="upload.xlsx", data=None) -> ImportJob:
    user, target, _good, _bad, _written = imports[kind]
    upload_file = SimpleUploadedFile(name, data) if data is not None else upload(rows, name)
    with capture(execute=True) as callbacks:
        job = services.import_job_create(kind=kind, upload=upload_file, user=user, **target)
    assert len(callbacks) == (1 if in_task else 0)  # the Celery task ran (eagerly), or the check ran inline
    job.refresh_from_db()
    return job


KINDS = [ImportJob.Kind.CLAUSES, ImportJob.Kind.SERVICE_ITEMS, ImportJob.Kind.BATCH_ROSTER]
WHERE = pytest.mark.parametrize("in_task", [False, True], ids=["while the uploader waits", "in the Celery task"])


@pytest.fixture
def where(settings):
    def set_up(in_task: bool):
        if in_task:
            settings.IMPORT_INLINE_MAX_BYTES = 0

    return set_up


@WHERE
@pytest.mark.parametrize("kind", KINDS)
def test_an_import_that_succeeds_deletes_its_upload(imports, kind, in_task, where, django_capture_on_commit_callbacks):
    where(in_task)
    job = run_import(imports, kind, imports[kind][2], in_task=in_task, capture=django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert imports[kind][4]()
    assert not job.file and stored_imports() == set()


@WHERE
@pytest.mark.parametrize("kind", KINDS)
def test_an_import_rejected_for_its_rows_deletes_its_upload(
    imports, kind, in_task, where, django_capture_on_commit_callbacks
):
    where(in_task)
    job = run_import(imports, kind, imports[kind][3], in_task=in_task, capture=django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.FAILED and job.errors[0]["row"] == 2
    assert not imports[kind][4]()
    assert not job.file and stored_imports() == set()


@WHERE
@pytest.mark.parametrize("kind", KINDS)
def test_an_unreadable_upload_is_deleted(imports, kind, in_task, where, django_capture_on_commit_callbacks):
    where(in_task)
    job = run_import(
        imports, kind, None, in_task=in_task, capture=django_capture_on_commit_callbacks, data=b"PK\x03\x04 torn"
    )
    assert job.status == ImportJob.Status.FAILED and job.errors[0]["row"] is None
    assert not job.file and stored_imports() == set()


@WHERE
@pytest.mark.parametrize("kind", KINDS)
def test_an_import_that_crashes_deletes_its_upload(
    imports, kind, in_task, where, monkeypatch, django_capture_on_commit_callbacks
):
    def crash(**_kwargs):
        raise MemoryError("out of memory while checking")

    monkeypatch.setattr(importer_for(kind), "check", crash)
    where(in_task)
    job = run_import(imports, kind, imports[kind][2], in_task=in_task, capture=django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.FAILED and "意外" in job.errors[0]["message"]
    assert not imports[kind][4]()
    assert not job.file and stored_imports() == set()


def test_an_upload_whose_job_cannot_be_recorded_is_deleted_at_once(imports, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(ImportJob, "save", broken_save)
    user, target, good, _bad, _written = imports[ImportJob.Kind.BATCH_ROSTER]
    with pytest.raises(DatabaseError):
        services.import_job_create(kind=ImportJob.Kind.BATCH_ROSTER, upload=upload(good), user=user, **target)
    assert stored_imports() == set()


# --- The sweep: what a dead worker or a lost task left ---------------------------------------------------------


def age(name: str, hours: float) -> None:
    moment = (timezone.now() - datetime.timedelta(hours=hours)).timestamp()
    os.utime(storages["imports"].path(name), (moment, moment))


def stuck_job(imports, django_capture_on_commit_callbacks, settings, *, hours: float) -> ImportJob:
    """An import queued for the worker, whose task never ran, uploaded `hours` ago."""
    settings.IMPORT_INLINE_MAX_BYTES = 0
    user, target, good, _bad, _written = imports[ImportJob.Kind.BATCH_ROSTER]
    with django_capture_on_commit_callbacks(execute=False):
        job = services.import_job_create(kind=ImportJob.Kind.BATCH_ROSTER, upload=upload(good), user=user, **target)
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(hours=hours))
    age(job.file.name, hours)
    job.refresh_from_db()
    return job


def test_the_sweep_deletes_the_upload_of_an_import_that_never_ran_and_fails_it(
    imports, django_capture_on_commit_callbacks, settings
):
    stuck = stuck_job(imports, django_capture_on_commit_callbacks, settings, hours=25)
    waiting = stuck_job(imports, django_capture_on_commit_callbacks, settings, hours=1)
    assert stored_imports() == {stuck.file.name, waiting.file.name}

    assert services.import_uploads_sweep() == 1
    assert stored_imports() == {waiting.file.name}
    stuck.refresh_from_db()
    assert stuck.status == ImportJob.Status.FAILED and not stuck.file and stuck.finished_at
    assert "24 小时" in stuck.errors[0]["message"] and "重新上传" in stuck.errors[0]["message"]
    waiting.refresh_from_db()
    assert waiting.status == ImportJob.Status.PENDING and waiting.file

    # The lost task, delivered at last, finds the job finished and changes nothing.
    assert services.import_job_run(job_id=stuck.pk).status == ImportJob.Status.FAILED
    assert not BatchMember.objects.exists()


def test_the_sweep_deletes_files_no_job_names_once_they_are_a_day_old(db):
    storage = storages["imports"]
    old = storage.save("2026/01/left-behind.xlsx", ContentFile(b"PK roster"))
    new = storage.save("2026/01/being-stored.xlsx", ContentFile(b"PK roster"))
    age(old, 24.5)
    age(new, 23.5)
    assert services.import_uploads_sweep() == 1
    assert stored_imports() == {new}


def test_a_file_whose_deletion_failed_after_its_import_goes_with_the_sweep(
    imports, monkeypatch, django_capture_on_commit_callbacks
):
    real_delete = FileSystemStorage.delete

    def failing_delete(self, name):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(FileSystemStorage, "delete", failing_delete)
    job = run_import(
        imports,
        ImportJob.Kind.BATCH_ROSTER,
        imports[ImportJob.Kind.BATCH_ROSTER][2],
        in_task=False,
        capture=django_capture_on_commit_callbacks,
    )
    assert job.status == ImportJob.Status.SUCCEEDED
    [left] = stored_imports()
    monkeypatch.setattr(FileSystemStorage, "delete", real_delete)
    assert services.import_uploads_sweep() == 0  # not a day old yet
    age(left, 25)
    assert services.import_uploads_sweep() == 1 and stored_imports() == set()


def test_beat_sweeps_every_hour(settings, db):
    [entry] = [
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == import_uploads_sweep_task.name
    ]
    assert entry["schedule"] == 60 * 60
    old = storages["imports"].save("2026/02/left-behind.csv", ContentFile(b"a,b"))
    age(old, 48)
    assert import_uploads_sweep_task.delay().get() == 1 and stored_imports() == set()


def test_the_sweep_waits_as_long_as_configured(settings, db):
    settings.IMPORT_UPLOAD_MAX_HOURS = 72
    old = storages["imports"].save("2026/03/left-behind.csv", ContentFile(b"a,b"))
    age(old, 48)
    assert services.import_uploads_sweep() == 0
    age(old, 73)
    assert services.import_uploads_sweep() == 1


# --- Importers that read in memory store nothing -------------------------------------------------------------


def files_under(*roots: Path) -> set[str]:
    return {str(path) for root in roots for path in Path(root).rglob("*") if path.is_file()}


@pytest.fixture
def upload_spool(settings, tmp_path):
    """Every upload goes through a temporary file on disk (as a large one would), in a folder of the test's own."""
    spool = tmp_path / "upload-spool"
    spool.mkdir()
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    return spool


def question_rows(*, good: bool) -> list[list[str]]:
    columns = list(question_imports.COLUMNS)
    cells = [""] * len(columns)
    for key, value in {"kind": "判断", "text": "可以拖拉推。", "answer": "错误" if good else "也许"}.items():
        cells[columns.index(key)] = value
    return [question_imports.template_headings(), cells]


MONTH_HEADER = ["*身份证号", "护理员姓名", "*月份", "*服务时长（小时）", "满意度回访数", "其中满意数"]


def month_rows(caregiver, *, good: bool) -> list[list]:
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
    return [MONTH_HEADER, [caregiver.national_id, "", month, 86.5 if good else -3, 12, 11]]


@pytest.mark.parametrize("good", [True, False], ids=["imported", "rejected"])
def test_a_question_import_leaves_no_file_anywhere(client, upload_spool, good):
    before = files_under(settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)
    client.force_login(administrator())
    response = client.post(
        "/admin/questions/import/", {"file": SimpleUploadedFile("题库.xlsx", xlsx_bytes(question_rows(good=good)))}
    )
    assert response.status_code == (302 if good else 200)
    assert Question.objects.exists() is good
    assert files_under(settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT) == before
    assert list(upload_spool.iterdir()) == []


@pytest.mark.parametrize("good", [True, False], ids=["imported", "rejected"])
def test_a_service_data_import_leaves_no_file_anywhere(client, upload_spool, caregiver, good):
    before = files_under(settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)
    client.force_login(administrator())
    response = client.post(
        reverse("service_data_upload:index"),
        {
            "kind": service_data_imports.MONTHS,
            "file": SimpleUploadedFile("服务数据.xlsx", xlsx_bytes(month_rows(caregiver, good=good))),
        },
    )
    assert response.status_code == (302 if good else 200)
    assert ServiceDataImport.objects.exists() is good
    # What is kept of the file is its name and its SHA-256 (to recognise a resend), never its content.
    assert files_under(settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT) == before
    assert list(upload_spool.iterdir()) == []


@pytest.mark.parametrize("importer", ["questions", "service data"])
def test_an_in_memory_import_that_crashes_leaves_no_file_either(client, upload_spool, caregiver, monkeypatch, importer):
    def crash(**_kwargs):
        raise RuntimeError("a bug in the importer")

    if importer == "questions":
        monkeypatch.setattr(question_imports, "questions_import", crash)
        url = "/admin/questions/import/"
        data = {"file": SimpleUploadedFile("题库.xlsx", xlsx_bytes(question_rows(good=True)))}
    else:
        from certification.servicedata import admin_views

        monkeypatch.setattr(admin_views, "service_data_spreadsheet_import", crash)
        url = reverse("service_data_upload:index")
        data = {
            "kind": service_data_imports.MONTHS,
            "file": SimpleUploadedFile("服务数据.xlsx", xlsx_bytes(month_rows(caregiver, good=True))),
        }
    before = files_under(settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)
    client.force_login(administrator())
    with pytest.raises(RuntimeError):
        client.post(url, data)
    # Django removes its temporary copy of the upload when the request ends, whatever the view did.
    assert files_under(settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT) == before
    assert list(upload_spool.iterdir()) == []


def test_the_library_upload_screen_keeps_nothing_once_imported(client, upload_spool):
    standard = StandardFactory()
    client.force_login(administrator())
    response = client.post(
        reverse("content_imports:index"),
        {
            "kind": ImportJob.Kind.CLAUSES,
            "standard": standard.pk,
            "file": SimpleUploadedFile("条款.xlsx", xlsx_bytes([CLAUSE_HEADER, ["5", "生活照料", "", ""]])),
        },
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == ImportJob.Status.SUCCEEDED
    assert stored_imports() == set() and list(upload_spool.iterdir()) == []
