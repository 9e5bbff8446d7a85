"""Roster import from a spreadsheet: all or nothing, every bad row reported, own batches only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services as account_services
from content import services as content_services
from content.models import ImportJob
from tests.factories.accounts import CaregiverFactory, valid_national_id
from tests.factories.spreadsheets import HOSTILE_XLSX, hostile_xlsx, stored_imports, upload
from tests.factories.training import batch_with_sessions, course_with_lessons, trainer_for, training_body_with_index
from training.models import BatchMember, Enrollment

pytestmark = pytest.mark.django_db

HEADER = ["*身份证号", "*姓名", "所在机构"]


@pytest.fixture
def batch(db):
    account_services.role_groups_ensure()
    body, index = training_body_with_index()
    return batch_with_sessions(body, course_with_lessons(index), capacity=10)


@pytest.fixture
def trainer(batch):
    return trainer_for(batch.training_body)


def import_roster(rows, *, batch, user, name="roster.xlsx"):
    return content_services.import_job_create(
        kind=ImportJob.Kind.BATCH_ROSTER, upload=upload(rows, name), user=user, target_id=batch.pk
    )


def test_a_valid_roster_enrols_everyone(batch, trainer):
    learners = [CaregiverFactory(user__name=f"护理员{n}") for n in range(3)]
    already = learners[0]
    BatchMember.objects.create(batch=batch, caregiver=already)
    rows = [HEADER] + [[c.national_id.lower(), c.name, "某机构"] for c in learners]
    job = import_roster(rows, batch=batch, user=trainer)
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.summary == {"added": 2, "already": 1}
    assert BatchMember.objects.filter(batch=batch).count() == 3
    assert Enrollment.objects.filter(course=batch.course, batch=batch).count() == 2


def test_every_bad_row_is_reported_and_no_one_is_added(batch, trainer):
    good = CaregiverFactory(user__name="王秀英")
    other = CaregiverFactory(user__name="李桂兰")
    rows = [
        HEADER,
        [good.national_id, "王秀英", ""],
        ["140502198001010012", "张三", ""],  # wrong check digit
        [valid_national_id(999, birth="19750505"), "无此人", ""],
        [other.national_id, "李四", ""],
        [good.national_id, "王秀英", ""],
        ["", "", ""],
        [other.national_id, "", ""],
    ]
    job = import_roster(rows, batch=batch, user=trainer, name="roster.csv")
    assert job.status == ImportJob.Status.FAILED
    assert not BatchMember.objects.exists() and not Enrollment.objects.exists()
    messages = {}
    for error in job.errors:
        messages.setdefault(error["row"], []).append(error["message"])
    assert set(messages) == {3, 4, 5, 6, 8}
    assert "校验位" in messages[3][0]
    # An unknown number and a number with another's name get the same answer: the upload tells no one which
    # numbers are registered, nor the name registered with one.
    assert messages[4] == messages[5] == ["没有身份证号与姓名均相符的已登记护理员。"]
    assert "李桂兰" not in str(job.errors)
    assert "第 2 行" in messages[6][0]
    assert any("姓名为空" in message for message in messages[8])


def test_an_identity_number_typed_as_a_number_is_refused(batch, trainer):
    learner = CaregiverFactory()
    job = import_roster([HEADER, [int(learner.national_id[:15]), learner.name, ""]], batch=batch, user=trainer)
    assert job.status == ImportJob.Status.FAILED
    assert any("文本" in error["message"] for error in job.errors)


def test_a_roster_larger_than_the_places_is_refused(batch, trainer):
    batch.capacity = 1
    batch.save()
    learners = [CaregiverFactory(), CaregiverFactory()]
    job = import_roster([HEADER] + [[c.national_id, c.name, ""] for c in learners], batch=batch, user=trainer)
    assert job.status == ImportJob.Status.FAILED
    assert "名额" in job.errors[0]["message"]
    assert not BatchMember.objects.exists()


def test_another_training_body_cannot_import_into_the_batch(batch):
    other_body, _index = training_body_with_index("TB-X", "外机构")
    learner = CaregiverFactory()
    job = import_roster(
        [HEADER, [learner.national_id, learner.name, ""]], batch=batch, user=trainer_for(other_body, "x")
    )
    assert job.status == ImportJob.Status.FAILED
    assert not BatchMember.objects.exists()


def test_the_roster_screen_uploads_and_shows_the_report(client, batch, trainer):
    learner = CaregiverFactory(user__name="王秀英")
    client.force_login(trainer)
    response = client.post(
        f"/admin/training/batches/{batch.pk}/roster/",
        {"action": "import", "file": upload([HEADER, [learner.national_id, "王秀英", ""]], "roster.csv")},
        follow=True,
    )
    assert "文件已导入" in response.content.decode()
    assert BatchMember.objects.filter(batch=batch, caregiver=learner).exists()
    job = ImportJob.objects.get()
    assert client.get(f"/admin/care-standards/import/jobs/{job.pk}/").status_code == 200

    refused = client.post(
        f"/admin/training/batches/{batch.pk}/roster/",
        {"action": "import", "file": upload([["x"]], "roster.pdf")},
    )
    assert "请上传 .xlsx 或 .csv 文件" in refused.content.decode()
    assert ImportJob.objects.count() == 1
    assert client.get("/admin/care-standards/import/template/batch_roster.xlsx").status_code == 200


@pytest.mark.parametrize("hostile", HOSTILE_XLSX)
def test_a_hostile_workbook_is_refused_with_a_reason_and_no_one_is_added(batch, trainer, hostile):
    data, fragment = hostile_xlsx(hostile, HEADER)
    before = stored_imports()
    job = content_services.import_job_create(
        kind=ImportJob.Kind.BATCH_ROSTER,
        upload=SimpleUploadedFile("roster.xlsx", data),
        user=trainer,
        target_id=batch.pk,
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and fragment in job.errors[0]["message"]
    assert not job.file and stored_imports() == before
    assert not BatchMember.objects.exists() and not Enrollment.objects.exists()


def test_the_roster_screen_reports_a_hostile_workbook(client, batch, trainer):
    data, fragment = hostile_xlsx("truncated sheet", HEADER)
    client.force_login(trainer)
    response = client.post(
        f"/admin/training/batches/{batch.pk}/roster/",
        {"action": "import", "file": SimpleUploadedFile("roster.xlsx", data)},
        follow=True,
    )
    assert response.status_code == 200 and fragment in response.content.decode()
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED and not BatchMember.objects.exists()
