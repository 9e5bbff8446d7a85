"""Training batches: the roster enrols, attendance earns hours, and a training body reaches its own batches only."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts import services as account_services
from tests.factories.accounts import CaregiverFactory
from tests.factories.training import batch_with_sessions, course_with_lessons, trainer_for, training_body_with_index
from training import services
from training.models import BatchMember, Enrollment, SessionAttendance, TrainingBatch, TrainingHoursEntry
from training.selectors import caregiver_hours_total

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(db):
    account_services.role_groups_ensure()
    body, index = training_body_with_index("TB-A", "甲培训学校")
    other_body, other_index = training_body_with_index("TB-B", "乙培训学校")
    course = course_with_lessons(index, slug="basic")
    return {
        "body": body,
        "course": course,
        "trainer": trainer_for(body, "trainer_a"),
        "other_body": other_body,
        "other_course": course_with_lessons(other_index, slug="other"),
        "other_trainer": trainer_for(other_body, "trainer_b"),
    }


def test_the_roster_enrols_through_the_batch_and_attendance_earns_hours(setting):
    batch = batch_with_sessions(setting["body"], setting["course"], sessions=2)
    first, second = batch.sessions.all()
    learners = [CaregiverFactory(), CaregiverFactory()]
    result = services.batch_roster_add(batch=batch, caregivers=learners, user=setting["trainer"])
    assert result == {"added": 2, "already": 0}
    assert services.batch_roster_add(batch=batch, caregivers=learners, user=setting["trainer"])["already"] == 2
    enrollments = Enrollment.objects.filter(course=setting["course"])
    assert enrollments.count() == 2 and {e.source for e in enrollments} == {"batch"}
    assert {e.batch_id for e in enrollments} == {batch.pk}

    services.session_attendance_record(session=first, caregiver_ids=[c.pk for c in learners], user=setting["trainer"])
    entries = TrainingHoursEntry.objects.filter(source=TrainingHoursEntry.Source.BATCH_SESSION)
    assert entries.count() == 2 and all(entry.attendance.session == first for entry in entries)
    assert caregiver_hours_total(caregiver=learners[0]) == first.hours
    assert not Enrollment.objects.filter(completed_at__isnull=False).exists()

    # Attending every session completes the course.
    services.session_attendance_record(session=second, caregiver_ids=[learners[0].pk], user=setting["trainer"])
    assert Enrollment.objects.get(caregiver=learners[0]).completed_at is not None
    assert Enrollment.objects.get(caregiver=learners[1]).completed_at is None
    assert ModelLogEntry.objects.filter(action="carestar.batch.attendance", object_id=str(batch.pk)).count() == 2


def test_correcting_the_register_takes_the_hours_away(setting):
    batch = batch_with_sessions(setting["body"], setting["course"], sessions=1)
    session = batch.sessions.get()
    learner = CaregiverFactory()
    services.batch_roster_add(batch=batch, caregivers=[learner], user=setting["trainer"])
    services.session_attendance_record(session=session, caregiver_ids=[learner.pk], user=setting["trainer"])
    assert caregiver_hours_total(caregiver=learner) == session.hours
    result = services.session_attendance_record(session=session, caregiver_ids=[], user=setting["trainer"])
    assert result == {"added": 0, "removed": 1}
    assert caregiver_hours_total(caregiver=learner) == 0
    assert not SessionAttendance.objects.exists()


def test_attendance_is_refused_for_future_sessions_and_strangers(setting):
    batch = batch_with_sessions(setting["body"], setting["course"], sessions=1, days_ago=-2)
    learner, stranger = CaregiverFactory(), CaregiverFactory()
    services.batch_roster_add(batch=batch, caregivers=[learner], user=setting["trainer"])
    with pytest.raises(ValidationError) as future:
        services.session_attendance_record(
            session=batch.sessions.get(), caregiver_ids=[learner.pk], user=setting["trainer"]
        )
    assert "尚未开始" in future.value.messages[0]

    past = batch_with_sessions(setting["body"], setting["course"], sessions=1)
    services.batch_roster_add(batch=past, caregivers=[learner], user=setting["trainer"])
    with pytest.raises(ValidationError) as foreign:
        services.session_attendance_record(
            session=past.sessions.get(), caregiver_ids=[learner.pk, stranger.pk], user=setting["trainer"]
        )
    assert "名单" in foreign.value.messages[0]
    assert not SessionAttendance.objects.exists() and not TrainingHoursEntry.objects.exists()


def test_another_training_body_cannot_change_the_batch(setting):
    batch = batch_with_sessions(setting["body"], setting["course"], sessions=1)
    learner = CaregiverFactory()
    with pytest.raises(PermissionDenied):
        services.batch_roster_add(batch=batch, caregivers=[learner], user=setting["other_trainer"])
    services.batch_roster_add(batch=batch, caregivers=[learner], user=setting["trainer"])
    with pytest.raises(PermissionDenied):
        services.session_attendance_record(
            session=batch.sessions.get(), caregiver_ids=[learner.pk], user=setting["other_trainer"]
        )
    assert not SessionAttendance.objects.exists()


def test_capacity_and_prerequisites_keep_everyone_off_the_roster(setting):
    batch = batch_with_sessions(setting["body"], setting["course"], capacity=1)
    with pytest.raises(ValidationError) as full:
        services.batch_roster_add(
            batch=batch, caregivers=[CaregiverFactory(), CaregiverFactory()], user=setting["trainer"]
        )
    assert "名额" in full.value.messages[0]

    setting["course"].prerequisites.add(setting["other_course"])
    setting["course"].save()
    with pytest.raises(ValidationError) as missing:
        services.batch_roster_add(batch=batch, caregivers=[CaregiverFactory()], user=setting["trainer"])
    assert setting["other_course"].title in missing.value.messages[0]
    assert not BatchMember.objects.exists() and not Enrollment.objects.exists()


def test_someone_who_attended_stays_on_the_roster(setting):
    batch = batch_with_sessions(setting["body"], setting["course"], sessions=1)
    learner, absent = CaregiverFactory(), CaregiverFactory()
    services.batch_roster_add(batch=batch, caregivers=[learner, absent], user=setting["trainer"])
    services.session_attendance_record(
        session=batch.sessions.get(), caregiver_ids=[learner.pk], user=setting["trainer"]
    )
    with pytest.raises(ValidationError):
        services.batch_roster_remove(batch=batch, caregiver=learner, user=setting["trainer"])
    services.batch_roster_remove(batch=batch, caregiver=absent, user=setting["trainer"])
    assert list(BatchMember.objects.values_list("caregiver_id", flat=True)) == [learner.pk]


# --- The admin screens --------------------------------------------------------------------------------------


def batch_form(setting, **values) -> dict:
    from wagtail.test.utils.form_data import inline_formset, nested_form_data

    start = timezone.localtime() + datetime.timedelta(days=7)
    data = {
        "training_body": setting["body"].pk,
        "course": setting["course"].pk,
        "name": "2026 年第 2 期",
        "starts_on": start.date().isoformat(),
        "ends_on": start.date().isoformat(),
        "place": "二楼教室",
        "capacity": "",
        "notes": "",
        "sessions": inline_formset(
            [
                {
                    "topic": "协助翻身",
                    "starts_at": start.strftime("%Y-%m-%d 09:00"),
                    "ends_at": start.strftime("%Y-%m-%d 12:00"),
                    "hours": "4.0",
                }
            ]
        ),
    }
    data.update(values)
    return nested_form_data(data)


def test_a_training_body_creates_a_batch_for_its_own_course_only(client, setting):
    client.force_login(setting["trainer"])
    assert client.get("/admin/training/batches/new/").status_code == 200
    response = client.post("/admin/training/batches/new/", batch_form(setting))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    batch = TrainingBatch.objects.get()
    assert batch.training_body == setting["body"] and batch.sessions.count() == 1

    for foreign in (
        {"course": setting["other_course"].pk, "name": "越权课程"},
        {"training_body": setting["other_body"].pk, "course": setting["other_course"].pk, "name": "越权机构"},
    ):
        refused = client.post("/admin/training/batches/new/", batch_form(setting, **foreign))
        assert refused.status_code == 200
    assert TrainingBatch.objects.count() == 1


def test_batch_dates_and_sessions_are_validated(client, setting):
    client.force_login(setting["trainer"])
    data = batch_form(setting)
    data["ends_on"] = "2000-01-01"
    data["sessions-0-ends_at"] = data["sessions-0-starts_at"].replace("09:00", "08:00")
    page = client.post("/admin/training/batches/new/", data).content.decode()
    assert "结束日期不能早于开始日期" in page and "结束时间必须晚于开始时间" in page
    assert not TrainingBatch.objects.exists()


def test_a_training_body_sees_and_reaches_only_its_own_batches(client, setting):
    own = batch_with_sessions(setting["body"], setting["course"], name="甲的批次")
    foreign = batch_with_sessions(setting["other_body"], setting["other_course"], name="乙的批次")
    client.force_login(setting["trainer"])
    listing = client.get("/admin/training/batches/").content.decode()
    assert "甲的批次" in listing and "乙的批次" not in listing
    assert client.get(f"/admin/training/batches/edit/{own.pk}/").status_code == 200
    assert client.get(f"/admin/training/batches/{own.pk}/roster/").status_code == 200
    assert client.get(f"/admin/training/batches/usage/{own.pk}/").status_code == 200
    for url in (
        f"/admin/training/batches/edit/{foreign.pk}/",
        f"/admin/training/batches/delete/{foreign.pk}/",
        f"/admin/training/batches/history/{foreign.pk}/",
        f"/admin/training/batches/usage/{foreign.pk}/",
        f"/admin/training/batches/inspect/{foreign.pk}/",
        f"/admin/training/batches/{foreign.pk}/roster/",
        f"/admin/training/batches/sessions/{foreign.sessions.first().pk}/attendance/",
    ):
        assert client.get(url).status_code == 404, url
    learner = CaregiverFactory()
    response = client.post(
        f"/admin/training/batches/{foreign.pk}/roster/",
        {"action": "add", "national_id": learner.national_id, "name": learner.name},
    )
    assert response.status_code == 404
    assert client.post(f"/admin/training/batches/delete/{foreign.pk}/").status_code == 404
    assert TrainingBatch.objects.filter(pk=foreign.pk).exists() and not BatchMember.objects.exists()


def test_roster_and_attendance_screens(client, setting):
    batch = batch_with_sessions(setting["body"], setting["course"], sessions=1)
    learner = CaregiverFactory(user__name="王秀英")
    client.force_login(setting["trainer"])
    wrong = client.post(
        f"/admin/training/batches/{batch.pk}/roster/",
        {"action": "add", "national_id": learner.national_id, "name": "李四"},
    )
    assert "没有身份证号和姓名均相符" in wrong.content.decode()
    client.post(
        f"/admin/training/batches/{batch.pk}/roster/",
        {"action": "add", "national_id": learner.national_id.lower(), "name": "王秀英"},
    )
    assert BatchMember.objects.filter(batch=batch, caregiver=learner).exists()
    roster = client.get(f"/admin/training/batches/{batch.pk}/roster/").content.decode()
    assert "王秀英" in roster and learner.national_id not in roster and learner.national_id_masked in roster

    session = batch.sessions.get()
    client.post(f"/admin/training/batches/sessions/{session.pk}/attendance/", {"present": [learner.pk]})
    assert SessionAttendance.objects.filter(session=session, caregiver=learner).exists()
    assert caregiver_hours_total(caregiver=learner) == session.hours
    bad = client.post(f"/admin/training/batches/sessions/{session.pk}/attendance/", {"present": ["x"]}, follow=True)
    assert "只有批次名单中的护理员" in bad.content.decode()
    assert SessionAttendance.objects.filter(session=session).count() == 1

    refused = client.post(
        f"/admin/training/batches/{batch.pk}/roster/",
        {"action": "remove", "member": BatchMember.objects.get().pk},
        follow=True,
    )
    assert "请先更正出勤记录" in refused.content.decode()
    deleted = client.post(f"/admin/training/batches/delete/{batch.pk}/", follow=True)
    assert "不能删除" in deleted.content.decode() and TrainingBatch.objects.filter(pk=batch.pk).exists()


def test_a_session_with_attendance_cannot_be_removed_from_the_batch(client, setting):
    batch = batch_with_sessions(setting["body"], setting["course"], sessions=2)
    learner = CaregiverFactory()
    services.batch_roster_add(batch=batch, caregivers=[learner], user=setting["trainer"])
    session, kept = batch.sessions.all()
    services.session_attendance_record(session=session, caregiver_ids=[learner.pk], user=setting["trainer"])
    client.force_login(setting["trainer"])
    from wagtail.test.utils.form_data import inline_formset, nested_form_data

    def session_form(instance, **extra):
        return {
            "id": instance.pk,
            "topic": instance.topic,
            "starts_at": timezone.localtime(instance.starts_at).strftime("%Y-%m-%d %H:%M"),
            "ends_at": timezone.localtime(instance.ends_at).strftime("%Y-%m-%d %H:%M"),
            "hours": str(instance.hours),
            **extra,
        }

    data = nested_form_data(
        {
            "training_body": setting["body"].pk,
            "course": setting["course"].pk,
            "name": batch.name,
            "starts_on": batch.starts_on.isoformat(),
            "ends_on": batch.ends_on.isoformat(),
            "place": batch.place,
            "capacity": "",
            "notes": "",
            "sessions": inline_formset([session_form(session, DELETE="1"), session_form(kept)], initial=2),
        }
    )
    response = client.post(f"/admin/training/batches/edit/{batch.pk}/", data)
    page = response.content.decode()
    assert "已登记出勤的课次不能删除" in page
    assert batch.sessions.filter(pk=session.pk).exists() and caregiver_hours_total(caregiver=learner) == session.hours


def test_administrators_see_every_batch(client, setting):
    from tests.factories.content import administrator

    batch_with_sessions(setting["body"], setting["course"], name="甲的批次")
    batch_with_sessions(setting["other_body"], setting["other_course"], name="乙的批次")
    client.force_login(administrator())
    listing = client.get("/admin/training/batches/").content.decode()
    assert "甲的批次" in listing and "乙的批次" in listing


def test_a_batch_history_lists_what_was_done_to_the_batch(client, setting):
    from tests.factories.content import administrator

    batch = batch_with_sessions(setting["body"], setting["course"], sessions=1, name="甲的批次")
    services.batch_roster_add(batch=batch, caregivers=[CaregiverFactory()], user=setting["trainer"])
    for user in (setting["trainer"], administrator()):
        client.force_login(user)
        response = client.get(f"/admin/training/batches/history/{batch.pk}/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "甲的批次" in page and "护理员已加入名单" in page
        filtered = client.get(f"/admin/training/batches/history/{batch.pk}/", {"action": "carestar.batch.roster_add"})
        assert filtered.status_code == 200 and "护理员已加入名单" in filtered.content.decode()
