"""Spreadsheet imports of the standards library: every bad row reported, nothing written unless all are good."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.models import ModelLogEntry, Revision

from content import services
from content.imports import importer_for
from content.models import Clause, ImportJob, ServiceItem
from tests.factories.content import ClauseFactory, StandardFactory, administrator
from tests.factories.spreadsheets import HOSTILE_XLSX, hostile_xlsx, stored_imports, upload

pytestmark = pytest.mark.django_db

CLAUSE_HEADER = ["*条款编号", "*条款标题", "条文", "上级条款编号"]


@pytest.fixture
def admin_user(db):
    return administrator()


@pytest.fixture
def standard(db):
    return StandardFactory(code="DB1405/T 901—2022")


def import_clauses(rows, *, user, standard, name="clauses.xlsx"):
    return services.import_job_create(kind="clauses", upload=upload(rows, name), user=user, standard=standard)


def test_clauses_are_created_nested_and_published_with_a_revision(admin_user, standard):
    job = import_clauses(
        [
            CLAUSE_HEADER,
            ["5", "生活照料", "生活照料包括……", ""],
            ["5.1", "头面部清洁", "水温 38℃～40℃", ""],
            ["5.10", "排泄照料", "", "5"],
        ],
        user=admin_user,
        standard=standard,
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.summary == {"created": 3, "updated": 0, "unchanged": 0}
    clauses = {clause.number: clause for clause in Clause.objects.filter(standard=standard)}
    assert clauses["5.1"].parent == clauses["5"] and clauses["5.10"].parent == clauses["5"]
    assert [c.number for c in Clause.objects.filter(standard=standard)] == ["5", "5.1", "5.10"]
    assert all(clause.live and clause.live_revision_id for clause in clauses.values())
    assert Revision.objects.filter(object_id=str(clauses["5.1"].pk)).count() == 1
    assert ModelLogEntry.objects.filter(action="wagtail.publish").count() == 3
    assert ModelLogEntry.objects.filter(action="carestar.import.succeed", object_id=str(job.pk)).exists()
    assert not job.file  # the upload is not kept once its rows are in


def test_importing_again_updates_what_changed_and_leaves_the_rest(admin_user, standard):
    ClauseFactory(standard=standard, number="6.1", title="协助翻身", text="旧条文")
    ClauseFactory(standard=standard, number="6.2", title="压疮预防", text="不变")
    job = import_clauses(
        [CLAUSE_HEADER, ["6.1", "协助翻身", "新条文", ""], ["6.2", "压疮预防", "不变", ""]],
        user=admin_user,
        standard=standard,
    )
    assert job.summary == {"created": 0, "updated": 1, "unchanged": 1}
    assert Clause.objects.get(number="6.1").text == "新条文"


def test_one_bad_row_rejects_the_whole_file_and_every_problem_is_listed(admin_user, standard):
    job = import_clauses(
        [
            CLAUSE_HEADER,
            ["5", "生活照料", "", ""],
            ["五点一", "头面部清洁", "", ""],
            ["5.2", "", "", ""],
            ["5", "重复", "", ""],
            ["7.1", "孤儿条款", "", "7"],
            [5.3, "数字格式", "", ""],
        ],
        user=admin_user,
        standard=standard,
    )
    assert job.status == ImportJob.Status.FAILED
    assert not Clause.objects.exists()
    by_row = {}
    for error in job.errors:
        by_row.setdefault(error["row"], []).append(error["message"])
    assert set(by_row) == {3, 4, 5, 6, 7}
    assert "不是" in by_row[3][0] and "条款编号" in by_row[3][0]
    assert "标题" in by_row[4][0]
    assert "第 2 行" in by_row[5][0]
    assert "7" in by_row[6][0] and "上级条款" in by_row[6][0]
    assert "文本" in by_row[7][0]


def test_a_parent_already_in_the_standard_is_accepted(admin_user, standard):
    parent = ClauseFactory(standard=standard, number="7", title="复评")
    job = import_clauses([CLAUSE_HEADER, ["7.1", "复评周期", "", "7"]], user=admin_user, standard=standard)
    assert job.status == ImportJob.Status.SUCCEEDED
    assert Clause.objects.get(number="7.1").parent == parent


def test_a_parent_deeper_than_its_child_or_later_in_the_file_is_written_first(admin_user, standard):
    ClauseFactory(standard=standard, number="6", title="基础护理")
    job = import_clauses(
        [
            CLAUSE_HEADER,
            ["5", "总则", "", "6.1"],
            ["7", "附则", "", "8.2"],
            ["8.2", "说明", "", ""],
            ["6.1", "翻身", "", ""],
        ],
        user=admin_user,
        standard=standard,
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    parents = dict(Clause.objects.values_list("number", "parent__number"))
    assert parents == {"5": "6.1", "6": None, "6.1": "6", "7": "8.2", "8.2": None}


def test_parents_that_run_in_a_circle_are_refused_and_nothing_is_written(admin_user, standard):
    five = ClauseFactory(standard=standard, number="5", title="生活照料")
    ClauseFactory(standard=standard, number="5.1", title="头面部清洁", parent=five)
    job = import_clauses(
        [CLAUSE_HEADER, ["5", "生活照料", "", "5.1"], ["8", "甲", "", "9"], ["9", "乙", "", "8"], ["7", "丙", "", ""]],
        user=admin_user,
        standard=standard,
    )
    assert job.status == ImportJob.Status.FAILED
    assert {error["row"]: error["message"] for error in job.errors} == {
        2: "按所填上级条款，条款 5 将成为其自身的下级条款。",
        3: "按所填上级条款，条款 8 将成为其自身的下级条款。",
        4: "按所填上级条款，条款 9 将成为其自身的下级条款。",
    }
    assert sorted(Clause.objects.values_list("number", flat=True)) == ["5", "5.1"]
    assert Clause.objects.get(number="5").parent is None


def test_a_clause_number_longer_than_its_column_is_refused(admin_user, standard):
    number = ".".join(["1"] * 11)  # 21 characters
    job = import_clauses([CLAUSE_HEADER, [number, "过长的编号", "", ""]], user=admin_user, standard=standard)
    assert job.status == ImportJob.Status.FAILED
    assert [error["row"] for error in job.errors] == [2] and "20" in job.errors[0]["message"]
    assert not Clause.objects.exists()


def test_service_items_with_categories_steps_and_clauses(admin_user, standard):
    ClauseFactory(standard=standard, number="6.1", title="协助翻身")
    ClauseFactory(standard=standard, number="6.2", title="压疮预防")
    rows = [
        ["*项目编码", "*项目名称", "*类别", "说明", "操作步骤", "相关条款编号"],
        ["BN-01", "协助翻身", "基础护理", "定时翻身", "评估皮肤\n两人配合平移；垫软枕", "6.1、6.2"],
        ["PS-01", "心理慰藉", "psychological", "", "", ""],
    ]
    job = services.import_job_create(kind="service_items", upload=upload(rows), user=admin_user, standard=standard)
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    turning = ServiceItem.objects.get(code="BN-01")
    assert turning.category == ServiceItem.Category.BASIC_NURSING
    assert turning.step_list == ["评估皮肤", "两人配合平移", "垫软枕"]
    assert sorted(turning.clauses.values_list("number", flat=True)) == ["6.1", "6.2"]
    assert ServiceItem.objects.get(code="PS-01").category == ServiceItem.Category.PSYCHOLOGICAL


def test_service_items_with_unknown_categories_or_clauses_write_nothing(admin_user, standard):
    rows = [
        ["项目编码", "项目名称", "类别", "相关条款编号"],
        ["BN-01", "协助翻身", "护理", ""],
        ["BN-02", "压疮预防", "基础护理", "9.9"],
        ["", "无编码", "基础护理", ""],
    ]
    job = services.import_job_create(
        kind="service_items", upload=upload(rows, "items.csv"), user=admin_user, standard=standard
    )
    assert job.status == ImportJob.Status.FAILED
    assert not ServiceItem.objects.exists()
    messages = {error["row"]: error["message"] for error in job.errors}
    assert "类别" in messages[2]
    assert "9.9" in messages[3]
    assert "编码" in messages[4]


def test_an_unreadable_file_is_reported_as_a_whole(admin_user, standard):
    from django.core.files.uploadedfile import SimpleUploadedFile

    job = services.import_job_create(
        kind="clauses", upload=SimpleUploadedFile("clauses.xlsx", b"PK not really"), user=admin_user, standard=standard
    )
    assert job.status == ImportJob.Status.FAILED
    assert job.errors == [{"row": None, "message": job.errors[0]["message"]}]
    assert "Excel" in job.errors[0]["message"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("clauses.pdf", b"%PDF", ".xlsx"), ("clauses.csv", b"", "空")],
)
def test_wrong_or_empty_uploads_are_refused_before_anything_is_stored(admin_user, standard, name, content, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationError) as error:
        services.import_job_create(
            kind="clauses", upload=SimpleUploadedFile(name, content), user=admin_user, standard=standard
        )
    assert message in error.value.messages[0]
    assert not ImportJob.objects.exists()


def test_an_oversized_upload_is_refused(admin_user, standard, settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as error:
        import_clauses([CLAUSE_HEADER] + [["5", "x" * 50, "", ""]] * 5, user=admin_user, standard=standard)
    assert "MB" in error.value.messages[0]


def test_clauses_need_a_standard(admin_user):
    with pytest.raises(ValidationError):
        services.import_job_create(kind="clauses", upload=upload([CLAUSE_HEADER]), user=admin_user)


def test_large_files_are_checked_by_a_celery_task_that_reports_progress(
    admin_user, standard, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_BYTES = 0
    rows = [CLAUSE_HEADER] + [[f"5.{n}", f"条款 {n}", "", ""] for n in range(1, 221)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = import_clauses(rows, user=admin_user, standard=standard)
    assert job.status == ImportJob.Status.PENDING
    assert storages["imports"].exists(job.file.name)
    stored_name = job.file.name
    assert len(callbacks) == 1

    # What the job's page would show while the task runs: the progress as stored after each step.
    seen = []
    recorder = services._progress_recorder

    def recording(job_id):
        record = recorder(job_id)

        def progress(rows_checked):
            record(rows_checked)
            seen.append(ImportJob.objects.values_list("status", "rows_checked").get(pk=job_id))

        return progress

    monkeypatch.setattr(services, "_progress_recorder", recording)
    callbacks[0]()  # queues the task, which runs eagerly in the test settings

    assert seen == [("running", 200), ("running", 220)]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.rows_total == 220 and job.percent == 100
    assert Clause.objects.filter(standard=standard).count() == 220
    assert not storages["imports"].exists(stored_name)


def test_running_a_finished_job_again_changes_nothing(admin_user, standard):
    job = import_clauses([CLAUSE_HEADER, ["5", "生活照料", "", ""]], user=admin_user, standard=standard)
    assert services.import_job_run(job_id=job.pk).status == ImportJob.Status.SUCCEEDED
    assert Clause.objects.count() == 1


# --- Hostile files: a clear reason, nothing written, no file kept, no job left running --------------------

ITEM_HEADER = ["*项目编码", "*项目名称", "*类别"]


def assert_rejected_and_nothing_kept(job, fragment, before):
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert [error["row"] for error in job.errors] == [None] and fragment in job.errors[0]["message"]
    assert not job.file and stored_imports() == before
    assert not ImportJob.objects.exclude(status=ImportJob.Status.FAILED).exists()
    assert not Clause.objects.exists() and not ServiceItem.objects.exists()


@pytest.mark.parametrize("hostile", HOSTILE_XLSX)
@pytest.mark.parametrize(("kind", "header"), [("clauses", CLAUSE_HEADER), ("service_items", ITEM_HEADER)])
def test_a_hostile_workbook_is_refused_with_a_reason_and_nothing_is_kept(admin_user, standard, kind, header, hostile):
    data, fragment = hostile_xlsx(hostile, header)
    before = stored_imports()
    job = services.import_job_create(
        kind=kind, upload=SimpleUploadedFile("hostile.xlsx", data), user=admin_user, standard=standard
    )
    assert_rejected_and_nothing_kept(job, fragment, before)


@pytest.mark.parametrize("hostile", HOSTILE_XLSX)
def test_a_hostile_workbook_checked_by_the_celery_task_ends_failed_and_deleted(
    admin_user, standard, settings, django_capture_on_commit_callbacks, hostile
):
    settings.IMPORT_INLINE_MAX_BYTES = 0
    data, fragment = hostile_xlsx(hostile, CLAUSE_HEADER)
    before = stored_imports()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = services.import_job_create(
            kind="clauses", upload=SimpleUploadedFile("hostile.xlsx", data), user=admin_user, standard=standard
        )
    assert len(callbacks) == 1  # the task ran
    assert_rejected_and_nothing_kept(job, fragment, before)


@pytest.mark.parametrize("inline", [True, False], ids=["while the uploader waits", "in the Celery task"])
def test_an_unexpected_failure_while_checking_ends_the_job_failed_with_its_file_deleted(
    admin_user, standard, settings, monkeypatch, django_capture_on_commit_callbacks, inline
):
    def broken_check(**_kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(importer_for("clauses"), "check", broken_check)
    if not inline:
        settings.IMPORT_INLINE_MAX_BYTES = 0
    before = stored_imports()
    with django_capture_on_commit_callbacks(execute=True):
        job = import_clauses([CLAUSE_HEADER, ["5", "生活照料", "", ""]], user=admin_user, standard=standard)
    assert_rejected_and_nothing_kept(job, "意外", before)
