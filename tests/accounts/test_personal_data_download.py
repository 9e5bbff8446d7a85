"""A caregiver downloads everything held about them (PIPL Art. 45): one ZIP, their own data only, audited."""

import datetime
import io
import json
import zipfile
from decimal import Decimal
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt, AccessLog
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from wagtail.models import ModelLogEntry

from accounts import selectors
from accounts import services as account_services
from accounts.models import CaregiverProfile, Role, User
from accounts.personal_data import personal_data_staff_only
from accounts.photos import photo_normalize
from certification.certificates import services as certificate_services
from certification.evaluations import services as evaluation_services
from certification.exams import services as exam_services
from certification.models import CertificateReminder, EvaluationRound, Exam, ExamOverride
from certification.practicals import services as practical_services
from tests.factories.accounts import AssessorFactory, CaregiverFactory, UserFactory, manager_for
from tests.factories.certification import (
    correct_answers,
    decided_evaluation_for,
    evaluation_through_workflow,
    exam_with_questions,
    practical_template,
    rule_set,
)
from tests.factories.servicedata import incident, service_month
from tests.factories.training import (
    batch_with_sessions,
    course_with_lessons,
    lesson_study,
    trainer_for,
    training_body_with_index,
)
from training import services as training_services
from training.models import TrainingHoursEntry

pytestmark = pytest.mark.django_db

DOWNLOAD = reverse("accounts:my_data_download")
PAGE = reverse("accounts:my_data")


class World:
    """What caregivers share: a course and its batch, an exam, a checklist, a rule set, and the staff."""

    def __init__(self):
        account_services.role_groups_ensure()
        self.body, index = training_body_with_index()
        self.trainer = trainer_for(self.body)
        self.course = course_with_lessons(index, lessons=2, title="基础照护")
        self.batch = batch_with_sessions(self.body, self.course, name="2026 年第 1 期", place="泽州培训教室")
        self.exam = exam_with_questions(questions=4)
        self.template = practical_template()
        self.rules = rule_set()
        self.administrator = account_services.user_create(
            username="bureau", password="pw", name="医保局管理员", role=Role.ADMINISTRATOR
        )
        self.assessor = AssessorFactory(user__name="周考评").user
        self.reviewer = AssessorFactory(user__name="吴复核").user


@pytest.fixture
def world(db):
    return World()


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (390, 520), (200, 170, 150)).save(buffer, format="JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def full_record(world: World, caregiver: CaregiverProfile, *, tag: str):
    """One row of everything a caregiver can have, written the way the product writes it."""
    user = caregiver.user
    user.email, user.phone = f"{tag}@example.cn", f"1390000{tag}"
    user.save(update_fields=["email", "phone"])
    manager = manager_for(caregiver.institution, username=f"manager-{tag}")
    account_services.caregiver_photo_set(caregiver=caregiver, photo=photo_normalize(jpeg()), recorded_by=manager)
    # A second factor, as a bureau that requires one of caregivers too would have them set up.
    account_services.two_factor_device_confirm(device=account_services.two_factor_device_pending(user=user))

    training_services.enrollment_create(caregiver=caregiver, course=world.course)
    lesson_study(caregiver, world.course.get_children().specific().first())
    training_services.batch_roster_add(batch=world.batch, caregivers=[caregiver], user=world.trainer)
    session = world.batch.sessions.first()
    present = set(session.attendances.values_list("caregiver_id", flat=True)) | {caregiver.pk}
    training_services.session_attendance_record(session=session, caregiver_ids=present, user=world.trainer)
    TrainingHoursEntry.objects.create(
        caregiver=caregiver,
        hours=Decimal("35"),
        source=TrainingHoursEntry.Source.ADJUSTMENT,
        note=f"补录学时 {tag}",
        earned_on=datetime.date(2024, 1, 1),
    )

    ExamOverride.objects.create(exam=world.exam, caregiver=caregiver, extra_minutes=10, reason=f"视力原因 {tag}")
    attempt = exam_services.attempt_start(caregiver=caregiver, exam=world.exam)
    exam_services.attempt_answers_save(attempt=attempt, answers=correct_answers(world.exam))
    exam_services.attempt_submit(attempt=attempt)

    assessment = practical_services.practical_assign(
        template=world.template, caregiver=caregiver, assessor=world.assessor, assigned_by=world.administrator
    )
    practical_services.practical_score(
        assessment=assessment,
        assessor=world.assessor,
        points={step.pk: step.points for step in world.template.steps.all()},
        notes=f"操作规范 {tag}",
    )

    evaluation_round = EvaluationRound.objects.create(
        name=f"复评批次 {tag}", closes_on=datetime.date(2025, 6, 30), opened_by=world.administrator
    )
    decided_evaluation_for(
        caregiver=caregiver,
        assessor=world.assessor,
        rule_set=world.rules,
        level=1,
        decided_at=timezone.now() - datetime.timedelta(days=400),
        round=evaluation_round,
    )
    decision = evaluation_through_workflow(
        caregiver=caregiver,
        assessor=world.assessor,
        reviewer=world.reviewer,
        administrator=world.administrator,
        level=2,
    )
    evaluation_services.evaluation_notify(evaluation_id=decision.pk)
    certificate = certificate_services.certificate_issue(evaluation_id=decision.pk)
    certificate_services.certificate_notify(certificate_id=certificate.pk)
    CertificateReminder.objects.create(certificate=certificate, days_before=60)
    evaluation_services.appeal_file(evaluation=decision, user=user, grounds=f"实操成绩有误 {tag}")

    service_month(caregiver, month=datetime.date(2025, 3, 1), surveys=10, satisfied=9)
    incident(caregiver)
    AccessLog.objects.create(
        username=user.username, ip_address="10.0.0.1", user_agent=f"Phone {tag}", http_accept="*/*", path_info="/"
    )
    AccessAttempt.objects.create(
        username=user.username,
        ip_address="10.0.0.2",
        user_agent=f"Phone {tag}",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=2,
    )
    certificate.refresh_from_db()
    return certificate


def download(client, user) -> tuple[dict, zipfile.ZipFile, object]:
    client.force_login(user)
    response = client.post(DOWNLOAD)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return json.loads(archive.read("data.json").decode("utf-8")), archive, response


def records(data: dict, key: str) -> list[dict]:
    return data["sections"][key]["records"]


# --- What the download covers ---------------------------------------------------------------------------


def _relations_to_people() -> set[str]:
    """Every relation of every model to the user or the caregiver profile, named by the model that defines it."""
    found = set()
    for model in apps.get_models():
        for field in [*model._meta.fields, *model._meta.many_to_many]:
            if field.is_relation and field.related_model in (User, CaregiverProfile):
                found.add(f"{field.model._meta.label}.{field.name}")
    return found


def test_every_relation_to_a_person_is_in_the_download_or_named_as_staff_only():
    covered = [relation for section in selectors.personal_data_sections_all() for relation in section.covers]
    staff_only = personal_data_staff_only()
    relations = _relations_to_people()
    # A new model (or field) pointing at a user or a caregiver must say where its rows go in the download.
    assert relations - set(covered) - set(staff_only) == set()
    # ... and every name in the lists is a real relation, listed once.
    assert set(covered) | set(staff_only) <= relations
    assert len(covered) == len(set(covered)) and not set(covered) & set(staff_only)
    assert all(str(reason) for reason in staff_only.values())


def test_the_relations_named_staff_only_are_out_of_a_caregivers_reach(client, caregiver):
    # Most of them are written in the management console: caregivers have no way in.
    account_services.role_groups_ensure()
    assert not caregiver.user.has_perm("wagtailadmin.access_admin")
    client.force_login(caregiver.user)
    assert client.get("/admin/").status_code == 302
    # The others are an assessor's or an uploader's: an account has one role.
    assert caregiver.user.role == Role.CAREGIVER


def test_the_file_holds_every_part_of_the_caregivers_record(client, world):
    caregiver = CaregiverFactory(user__name="王秀英", user__username="wangxiuying")
    certificate = full_record(world, caregiver, tag="A")
    data, archive, _response = download(client, caregiver.user)

    assert list(data["sections"]) == [section.key for section in selectors.personal_data_sections_all()]
    # A full record leaves no section empty: each section finds the rows of the relations it covers.
    assert [key for key, section in data["sections"].items() if not section["records"]] == []

    [account] = records(data, "account")
    assert account["username"] == "wangxiuying" and account["name"] == "王秀英"
    assert (account["email"], account["phone"], account["role"]) == ("A@example.cn", "1390000A", "护理员")
    [profile] = records(data, "caregiver_profile")
    assert profile["national_id"] == caregiver.national_id  # in full: it is their own
    assert profile["gender"] == "女" and profile["employed_since"] == "2018-03-01"
    assert profile["institution"]["name"] == caregiver.institution.name
    assert profile["photo"] == "photo.jpg" and profile["photo_consent_at"]
    assert archive.read("photo.jpg") == caregiver.photo.open("rb").read()

    [enrolment] = records(data, "enrolments")
    assert enrolment["course"] == "基础照护" and enrolment["lessons"][0]["lesson"] == "第 1 课"
    assert enrolment["lessons"][0]["opened_at"] and enrolment["lessons"][0]["completed_at"]
    hours = {(entry["source"], entry["hours"]) for entry in records(data, "training_hours")}
    assert hours == {("线上课节", "1.0"), ("培训批次出勤", "4.0"), ("管理员调整", "35.0")}, hours
    assert any(entry["note"] == "补录学时 A" for entry in records(data, "training_hours"))
    [batch] = records(data, "training_batches")
    assert batch["batch"] == "2026 年第 1 期" and batch["place"] == "泽州培训教室"
    assert [session["topic"] for session in batch["sessions_attended"]] == ["第 1 次课"]
    changes = [(change["change"], change["by"]) for change in records(data, "training_roster_changes")]
    assert changes == [("加入培训名单", "培训老师"), ("登记为出勤", "培训老师")]

    assert records(data, "exam_overrides")[0]["reason"] == "视力原因 A"
    [attempt] = records(data, "exam_attempts")
    assert attempt["score"] == "100.0" and attempt["passed"] is True
    assert len(attempt["answers"]) == 4 and all(answer["correct"] for answer in attempt["answers"])
    assert attempt["answers"][0]["question"] == "第 1 题" and attempt["answers"][0]["your_answer"] == ["选项 0"]
    [practical] = records(data, "practical_assessments")
    assert practical["score"] == "100.0" and practical["notes"] == "操作规范 A" and len(practical["steps"]) == 3
    assert practical["assessor"] == "周考评"

    evaluations = records(data, "star_evaluations")
    assert [(evaluation["level"], evaluation["status"]) for evaluation in evaluations] == [(1, "已评定"), (2, "已评定")]
    assert evaluations[1]["criteria_snapshot"] and evaluations[1]["reviewer"] == "吴复核"
    assert evaluations[0]["round"] == "复评批次 A"
    assert records(data, "appeals")[0]["grounds"] == "实操成绩有误 A"
    assert records(data, "evaluation_rounds")[0]["name"] == "复评批次 A"

    [issued] = records(data, "certificates")
    assert issued["serial_number"] == certificate.serial_number and issued["star_level"] == 2
    assert issued["status"] == "有效" and issued["valid_until"] == certificate.valid_until.isoformat()
    assert archive.read(issued["pdf"]) == certificate.pdf.open("rb").read()
    assert archive.read(issued["photo_as_printed"])[:2] == b"\xff\xd8"
    notices = {notice["notice"] for notice in records(data, "notifications")}
    assert notices == {"证书签发通知", "证书到期提醒", "星级评定结果通知"}

    assert records(data, "service_months")[0]["month"] == "2025-03-01"
    assert records(data, "service_incidents")[0]["kind"] == "投诉"
    sign_ins = {(entry["kind"], entry["user_agent"]) for entry in records(data, "sign_ins")}
    assert {("登录", "Phone A"), ("计入登录锁定的失败登录", "Phone A")} <= sign_ins  # and this test's own sign-in

    actions = {entry["action_code"]: entry for entry in records(data, "audit_log")}
    assert {
        "carestar.evaluation.open",
        "carestar.evaluation.decide",
        "carestar.evaluation.notify",
        "carestar.appeal.file",
        "carestar.certificate.issue",
        "carestar.practical.score",
    } <= set(actions)
    assert actions["carestar.appeal.file"]["by"] == "本人"
    assert actions["carestar.practical.score"]["by"] == "周考评"
    assert sorted(data["files"]) == sorted(archive.namelist()[:-1])


def test_nothing_of_another_caregiver_is_in_the_file(client, world):
    mine = CaregiverFactory(user__name="王秀英")
    theirs = CaregiverFactory(user__name="李桂兰", user__username="liguilan")
    full_record(world, mine, tag="A")
    their_certificate = full_record(world, theirs, tag="B")
    data, archive, _response = download(client, mine.user)

    text = archive.read("data.json").decode("utf-8")
    for trace in [
        "李桂兰",
        "liguilan",
        theirs.national_id,
        theirs.national_id[-4:] + '"',
        "B@example.cn",
        "1390000B",
        their_certificate.serial_number,
        their_certificate.verification_code,
        str(theirs.credential_subject),
        " B",  # every note, reason and grounds of theirs ends with their tag
        "Phone B",
    ]:
        assert trace not in text, trace
    their_pdf = their_certificate.pdf.open("rb").read()
    assert all(archive.read(name) != their_pdf for name in archive.namelist())
    assert len(records(data, "certificates")) == 1


def test_the_query_count_is_fixed_however_long_the_record(world, django_assert_max_num_queries):
    caregiver = CaregiverFactory()
    full_record(world, caregiver, tag="A")

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            selectors.caregiver_personal_data(caregiver=caregiver)
        return len(queries)

    counted()  # content types are cached after the first call
    before = counted()
    # More of everything: months, incidents, hours, attempts, a second batch and enrolment, log entries.
    for month in range(4, 10):
        service_month(caregiver, month=datetime.date(2025, month, 1), surveys=5, satisfied=5)
        incident(caregiver, substantiated=False)
    for _number in range(5):
        TrainingHoursEntry.objects.create(
            caregiver=caregiver, hours=1, source=TrainingHoursEntry.Source.ADJUSTMENT, earned_on=datetime.date.today()
        )
    exam = exam_with_questions(questions=3, max_attempts=5)
    for _number in range(3):
        attempt = exam_services.attempt_start(caregiver=caregiver, exam=exam)
        exam_services.attempt_submit(attempt=attempt)
    second = course_with_lessons(world.course.get_parent().specific, slug="second", title="进阶照护")
    training_services.enrollment_create(caregiver=caregiver, course=second)
    training_services.batch_roster_add(
        batch=batch_with_sessions(world.body, second, name="第 2 期"), caregivers=[caregiver], user=world.trainer
    )
    assert counted() == before, before
    with django_assert_max_num_queries(34):
        selectors.caregiver_personal_data(caregiver=caregiver)


# --- The file ---------------------------------------------------------------------------------------------


def test_the_file_is_a_zip_with_a_chinese_dated_name_and_readable_json(client, caregiver):
    data, archive, response = download(client, caregiver.user)
    today = timezone.localdate().isoformat()
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(f'我的个人信息-{today}.zip')}"
    assert response["Cache-Control"] == "no-store"
    raw = archive.read("data.json")
    assert "王秀英".encode() in raw and b"\\u" not in raw  # UTF-8 as written, not escaped
    assert raw.startswith(b'{\n  "title": ') and "第四十五条" in data["title"]
    assert archive.namelist() == ["data.json"]  # no photo, no certificate yet
    assert records(data, "certificates") == []


def test_each_download_is_recorded_in_the_audit_log(client, caregiver):
    download(client, caregiver.user)
    entry = ModelLogEntry.objects.get(action=account_services.PERSONAL_DATA_DOWNLOAD)
    assert entry.object_id == str(caregiver.pk) and entry.user_id == caregiver.user_id
    assert entry.data["records"]["account"] == 1 and entry.data["files"] == 0
    # The next download shows the one before.
    data, _archive, _response = download(client, caregiver.user)
    assert [entry["action"] for entry in records(data, "audit_log")] == ["下载本人个人信息"]


def test_a_roster_line_removed_is_still_in_the_file_from_the_batchs_log(client, world):
    caregiver, other = CaregiverFactory(), CaregiverFactory(user__name="李桂兰")
    batch = batch_with_sessions(world.body, world.course, name="第 3 期")
    training_services.batch_roster_add(batch=batch, caregivers=[caregiver, other], user=world.trainer)
    training_services.batch_roster_remove(batch=batch, caregiver=caregiver, user=world.trainer)
    training_services.batch_roster_remove(batch=batch, caregiver=other, user=world.trainer)
    data, archive, _response = download(client, caregiver.user)
    assert records(data, "training_batches") == []
    changes = [(change["batch"], change["change"]) for change in records(data, "training_roster_changes")]
    assert changes == [("第 3 期", "加入培训名单"), ("第 3 期", "移出培训名单")]
    # The entry that put both on the roster is shown for this caregiver alone: none of its data (the ids of all).
    keys = {"timestamp", "batch", "change", "action", "by"}
    assert all(set(change) == keys for change in records(data, "training_roster_changes"))
    assert "李桂兰" not in archive.read("data.json").decode()


def test_a_stored_file_lost_from_disk_costs_only_itself(client, world, caplog):
    caregiver = CaregiverFactory()
    certificate = full_record(world, caregiver, tag="A")
    certificate.pdf.storage.delete(certificate.pdf.name)
    data, archive, _response = download(client, caregiver.user)
    pdf = records(data, "certificates")[0]["pdf"]
    assert data["files_not_available"] == [pdf] and pdf not in archive.namelist()
    assert "photo.jpg" in archive.namelist() and records(data, "exam_attempts")
    entry = ModelLogEntry.objects.get(action=account_services.PERSONAL_DATA_DOWNLOAD)
    assert entry.data["files_not_available"] == [pdf]


def test_exam_results_wait_for_the_exam_as_on_its_result_page(client, caregiver):
    exam = exam_with_questions(
        questions=2, review=Exam.Review.AFTER_CLOSE, closes_at=timezone.now() + datetime.timedelta(days=3)
    )
    attempt = exam_services.attempt_start(caregiver=caregiver, exam=exam)
    exam_services.attempt_answers_save(attempt=attempt, answers=correct_answers(exam))
    exam_services.attempt_submit(attempt=attempt)
    data, _archive, _response = download(client, caregiver.user)
    [record] = records(data, "exam_attempts")
    assert "score" not in record and "passed" not in record
    assert record["results_available_from"] == timezone.localtime(exam.closes_at).isoformat(timespec="seconds")
    assert all("correct" not in answer and "correct_answer" not in answer for answer in record["answers"])
    assert [answer["your_answer"] for answer in record["answers"]] == [["选项 0"], ["选项 0"]]


# --- Who may download ---------------------------------------------------------------------------------------


def test_the_page_explains_the_download_and_is_reached_from_my_learning(client, caregiver):
    client.force_login(caregiver.user)
    assert PAGE.encode() in client.get(reverse("training:my_learning")).content
    page = client.get(PAGE).content.decode()
    assert "我的个人信息" in page and "下载我的数据" in page and "第四十五条" in page
    assert f'action="{DOWNLOAD}"' in page
    for section in selectors.personal_data_sections_all():
        assert str(section.title) in page


def test_only_a_signed_in_caregiver_downloads_and_only_by_post(client, caregiver):
    for url in (PAGE, DOWNLOAD):
        response = client.post(url) if url == DOWNLOAD else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    for role in (Role.ADMINISTRATOR, Role.ASSESSOR, Role.MANAGER, Role.TRAINING_BODY):
        client.force_login(UserFactory(role=role))
        assert client.get(PAGE).status_code == 403
        assert client.post(DOWNLOAD).status_code == 403
    client.force_login(caregiver.user)
    assert client.get(DOWNLOAD).status_code == 405
    assert not ModelLogEntry.objects.filter(action=account_services.PERSONAL_DATA_DOWNLOAD).exists()


def test_the_second_factor_is_described_never_its_secrets(client, world):
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    caregiver = CaregiverFactory(user__username="secondfactor")
    full_record(world, caregiver, tag="S")
    data, archive, _response = download(client, caregiver.user)

    kinds = {record["kind"]: record for record in records(data, "second_factor")}
    assert kinds["身份验证器"]["confirmed"] is True
    assert kinds["恢复码"]["unused_codes"] == StaticToken.objects.filter(device__user=caregiver.user).count() > 0
    text = json.dumps(data, ensure_ascii=False)
    assert TOTPDevice.objects.get(user=caregiver.user).key not in text
    assert not any(token in text for token in StaticToken.objects.values_list("token", flat=True))
