"""The service-data writer and its spreadsheet import: every row checked, all or nothing, idempotent resends."""

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.models import ModelLogEntry

from certification.evaluations import tasks
from certification.models import ServiceDataImport, ServiceIncident, ServiceMonth
from certification.servicedata import clients, imports, services, validation
from certification.servicedata.validation import ServiceDataConflict, ServiceDataRejected
from tests.factories.accounts import CaregiverFactory, valid_national_id
from tests.factories.spreadsheets import HOSTILE_XLSX, csv_bytes, hostile_xlsx, xlsx_bytes

pytestmark = pytest.mark.django_db


def months_ago(count: int) -> str:
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - count
    return f"{index // 12}-{index % 12 + 1:02d}"


def days_ago(count: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=count)).isoformat()


def month_row(caregiver, **values) -> dict:
    return {
        "national_id": caregiver.national_id,
        "month": months_ago(1),
        "service_hours": 86.5,
        "surveys": 12,
        "satisfied": 11,
        **values,
    }


def incident_row(caregiver, **values) -> dict:
    return {
        "reference": "TS-0001",
        "national_id": caregiver.national_id,
        "kind": "complaint",
        "occurred_on": days_ago(10),
        "substantiated": False,
        "summary": "家属反映上门迟到",
        **values,
    }


def run(*, months=(), incidents=(), batch_key="batch-1", client=None, **kwargs):
    months, incidents = list(months), list(incidents)
    return services.service_data_import(
        months=months,
        incidents=incidents,
        source=ServiceDataImport.Source.API,
        batch_key=batch_key,
        payload_sha256=validation.payload_digest(months=months, incidents=incidents),
        client=client,
        **kwargs,
    )


@pytest.fixture
def queued(monkeypatch):
    """The downgrade checks queued after commit, as (caregiver id, cause)."""
    calls = []
    monkeypatch.setattr(tasks.service_data_downgrade_check_task, "delay", lambda *args: calls.append(args))
    return calls


@pytest.fixture
def two_caregivers(db):
    return CaregiverFactory(user__name="王秀英"), CaregiverFactory(user__name="李桂兰")


def test_a_valid_batch_writes_every_row_and_one_audit_entry(two_caregivers, administrator):
    first, second = two_caregivers
    outcome = run(
        months=[month_row(first), month_row(second, service_hours="120", surveys="8", satisfied="8")],
        incidents=[incident_row(first)],
        uploaded_by=administrator,
    )
    assert outcome.created
    assert (outcome.months_created, outcome.months_updated, outcome.incidents_created) == (2, 0, 1)
    record = outcome.record
    assert (record.months_written, record.incidents_written) == (2, 1)
    stored = ServiceMonth.objects.get(caregiver=second)
    assert (stored.service_hours, stored.surveys, stored.satisfied) == (Decimal("120.0"), 8, 8)
    assert stored.month.day == 1 and f"{stored.month:%Y-%m}" == months_ago(1)
    incident = ServiceIncident.objects.get()
    assert (incident.caregiver, incident.kind, incident.substantiated) == (first, "complaint", False)
    entry = ModelLogEntry.objects.get(action="carestar.servicedata.import")
    assert entry.object_id == str(record.pk) and entry.user_id == administrator.pk
    assert entry.data["months_created"] == 2


def test_one_bad_row_rejects_the_whole_batch_and_writes_nothing(two_caregivers):
    first, second = two_caregivers
    with pytest.raises(ServiceDataRejected) as rejected:
        run(
            months=[month_row(first), month_row(second, satisfied=13)],
            incidents=[incident_row(first), incident_row(second, reference="TS-0002", kind="迟到")],
        )
    problems = [(p.section, p.index, p.field) for p in rejected.value.problems]
    assert problems == [("months", 1, "satisfied"), ("incidents", 1, "kind")]
    assert not ServiceDataImport.objects.exists()
    assert not ServiceMonth.objects.exists() and not ServiceIncident.objects.exists()
    assert not ModelLogEntry.objects.filter(action="carestar.servicedata.import").exists()


MONTH_PROBLEMS = [
    ({"national_id": ""}, "national_id", "身份证号"),
    ({"national_id": "140502198001010015"}, "national_id", "校验位"),
    ({"month": "2026/10"}, "month", "YYYY-MM"),
    ({"month": "2025-13"}, "month", "YYYY-MM"),
    ({"month": None}, "month", "YYYY-MM"),
    ({"month": "1999-12"}, "month", "过于久远"),
    ({"month": "0000-01"}, "month", "过于久远"),  # there is no year 0: datetime.date(0, 1, 1) fails
    ({"service_hours": "1e5000"}, "service_hours", "数字"),
    ({"service_hours": float("inf")}, "service_hours", "数字"),  # JSON's 1e5000
    ({"service_hours": float("nan")}, "service_hours", "数字"),
    ({"service_hours": "8²"}, "service_hours", "数字"),
    ({"service_hours": "1" + "0" * 60}, "service_hours", "数字"),
    ({"service_hours": -1}, "service_hours", "负数"),
    ({"service_hours": 800}, "service_hours", "744"),
    ({"service_hours": "八十"}, "service_hours", "数字"),
    ({"service_hours": True}, "service_hours", "数字"),
    ({"service_hours": "10.25"}, "service_hours", "一位小数"),
    ({"surveys": -2, "satisfied": 0}, "surveys", "负数"),
    ({"surveys": 2.5}, "surveys", "整数"),
    ({"surveys": "1e5000", "satisfied": 0}, "surveys", "整数"),  # a number of 5001 digits cannot even be printed
    ({"surveys": "²", "satisfied": 0}, "surveys", "整数"),
    ({"surveys": 10**60, "satisfied": 0}, "surveys", "整数"),
    ({"surveys": 5000, "satisfied": 1}, "surveys", "不合常理"),
    ({"surveys": 3, "satisfied": 4}, "satisfied", "多于"),
]


@pytest.mark.parametrize(("values", "field", "fragment"), MONTH_PROBLEMS)
def test_each_problem_of_a_monthly_figure_is_reported_in_chinese(caregiver, values, field, fragment):
    with pytest.raises(ServiceDataRejected) as rejected:
        run(months=[month_row(caregiver), month_row(caregiver, **{"month": months_ago(2), **values})])
    problem = rejected.value.problems[0]
    assert (problem.section, problem.index, problem.field) == ("months", 1, field)
    assert fragment in problem.message
    assert not ServiceMonth.objects.exists()


def test_a_month_still_to_come_is_refused_but_the_current_month_is_not(caregiver):
    with pytest.raises(ServiceDataRejected) as rejected:
        run(months=[month_row(caregiver, month=months_ago(-1))])
    assert rejected.value.problems[0].field == "month" and "尚未开始" in rejected.value.problems[0].message
    assert run(months=[month_row(caregiver, month=months_ago(0))]).created


def test_an_unknown_identity_number_is_named_in_the_problem(caregiver):
    unknown = valid_national_id(321, region="110101", birth="19900307")
    with pytest.raises(ServiceDataRejected) as rejected:
        run(
            months=[month_row(caregiver, national_id=unknown)], incidents=[incident_row(caregiver, national_id=unknown)]
        )
    problems = rejected.value.problems
    assert [(p.section, p.field) for p in problems] == [("months", "national_id"), ("incidents", "national_id")]
    assert all(unknown in p.message and "没有" in p.message for p in problems)


def test_identity_numbers_are_normalised_before_the_lookup(db):
    holder = CaregiverFactory(national_id="11010119900307555X")
    run(months=[month_row(holder, national_id=" 11010119900307555x ")])
    assert ServiceMonth.objects.get().caregiver == holder


INCIDENT_PROBLEMS = [
    ({"reference": ""}, "reference", "编号"),
    ({"reference": "R" * 65}, "reference", "64"),
    ({"kind": "迟到"}, "kind", "投诉"),
    ({"kind": None}, "kind", "投诉"),
    ({"occurred_on": "2026-02-30"}, "occurred_on", "YYYY-MM-DD"),
    ({"occurred_on": "3/10/2026"}, "occurred_on", "YYYY-MM-DD"),
    ({"occurred_on": "1999-12-31"}, "occurred_on", "过于久远"),
    ({"substantiated": "也许"}, "substantiated", "是"),
    ({"substantiated": None}, "substantiated", "是"),
    ({"summary": "长" * 501}, "summary", "500"),
    ({"summary": ["not", "text"]}, "summary", "文字"),
]


@pytest.mark.parametrize(("values", "field", "fragment"), INCIDENT_PROBLEMS)
def test_each_problem_of_an_incident_is_reported_in_chinese(caregiver, values, field, fragment):
    with pytest.raises(ServiceDataRejected) as rejected:
        run(incidents=[incident_row(caregiver, **values)])
    problem = rejected.value.problems[0]
    assert (problem.section, problem.index, problem.field) == ("incidents", 0, field)
    assert fragment in problem.message
    assert not ServiceIncident.objects.exists()


def test_an_incident_dated_in_the_future_is_refused(caregiver):
    with pytest.raises(ServiceDataRejected) as rejected:
        run(incidents=[incident_row(caregiver, occurred_on=days_ago(-1))])
    assert rejected.value.problems[0].field == "occurred_on" and "未来" in rejected.value.problems[0].message


def test_kinds_and_answers_are_read_in_chinese_or_english(caregiver):
    run(
        incidents=[
            incident_row(caregiver, reference="A", kind="责任事故", substantiated="否"),
            incident_row(caregiver, reference="B", kind="Ethics breach", substantiated="no"),
            incident_row(caregiver, reference="C", kind="complaint", substantiated=0),
        ]
    )
    assert dict(ServiceIncident.objects.values_list("reference", "kind")) == {
        "A": "liability_accident",
        "B": "ethics_breach",
        "C": "complaint",
    }


def test_a_row_that_is_not_an_object_is_reported(caregiver):
    with pytest.raises(ServiceDataRejected) as rejected:
        run(months=["oops"], incidents=[incident_row(caregiver)])
    assert [(p.section, p.index) for p in rejected.value.problems] == [("months", 0)]


def test_an_empty_batch_is_refused(db):
    with pytest.raises(ServiceDataRejected) as rejected:
        run()
    assert rejected.value.problems[0].section is None


def test_a_month_or_reference_given_twice_in_one_batch_is_refused(caregiver):
    with pytest.raises(ServiceDataRejected) as rejected:
        run(
            months=[month_row(caregiver), month_row(caregiver, service_hours=10)],
            incidents=[incident_row(caregiver), incident_row(caregiver, summary="又一次")],
        )
    problems = rejected.value.problems
    assert [(p.section, p.index, p.field) for p in problems] == [
        ("months", 1, "month"),
        ("incidents", 1, "reference"),
    ]
    assert "第 1 行" in problems[0].message and "第 1 行" in problems[1].message


def test_a_reference_recorded_for_another_caregiver_is_refused(two_caregivers):
    first, second = two_caregivers
    run(incidents=[incident_row(first)])
    with pytest.raises(ServiceDataRejected) as rejected:
        run(incidents=[incident_row(second)], batch_key="batch-2")
    assert rejected.value.problems[0].field == "reference"
    assert ServiceIncident.objects.get().caregiver == first


def test_the_same_batch_sent_again_returns_the_earlier_import_and_writes_nothing(caregiver):
    months = [month_row(caregiver, service_hours=80)]
    incidents = [incident_row(caregiver, substantiated=True)]
    first = run(months=months, incidents=incidents)
    # A later batch corrects the month; the first batch sent again must not undo the correction.
    run(months=[month_row(caregiver, service_hours=95)], batch_key="batch-2")
    again = run(months=months, incidents=incidents)
    assert not again.created and again.record == first.record
    assert ServiceDataImport.objects.count() == 2
    assert ServiceMonth.objects.get().service_hours == Decimal("95.0")
    assert ModelLogEntry.objects.filter(action="carestar.servicedata.import").count() == 2


def test_a_batch_key_reused_for_different_content_is_a_conflict(caregiver):
    first = run(months=[month_row(caregiver, service_hours=80)])
    with pytest.raises(ServiceDataConflict) as conflict:
        run(months=[month_row(caregiver, service_hours=81)])
    assert conflict.value.earlier == first.record
    assert "batch-1" in conflict.value.messages[0]
    assert ServiceMonth.objects.get().service_hours == Decimal("80.0")


def test_the_same_key_from_two_clients_is_two_batches(caregiver, administrator):
    one, _token = clients.service_data_client_create(name="晋城市长护险系统", actor=administrator)
    two, _token = clients.service_data_client_create(name="泽州县长护险系统", actor=administrator)
    run(months=[month_row(caregiver)], client=one)
    assert run(months=[month_row(caregiver, month=months_ago(2))], client=two).created


def test_a_later_batch_corrects_a_month(caregiver):
    run(months=[month_row(caregiver, service_hours=80, surveys=10, satisfied=9)])
    outcome = run(months=[month_row(caregiver, service_hours=82.5, surveys=10, satisfied=6)], batch_key="batch-2")
    assert (outcome.months_created, outcome.months_updated) == (0, 1)
    stored = ServiceMonth.objects.get()
    assert (stored.service_hours, stored.satisfied, stored.imported_in) == (Decimal("82.5"), 6, outcome.record)


def test_an_incident_found_substantiated_later_updates_its_row_and_queues_a_check(
    caregiver, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = run(incidents=[incident_row(caregiver, reference="SG-7", kind="liability_accident")])
    assert first.downgrade_checks == 0 and queued == []
    with django_capture_on_commit_callbacks(execute=True):
        outcome = run(
            incidents=[incident_row(caregiver, reference="SG-7", kind="liability_accident", substantiated=True)],
            batch_key="batch-2",
        )
    assert (outcome.incidents_created, outcome.incidents_updated, outcome.downgrade_checks) == (0, 1, 1)
    incident = ServiceIncident.objects.get()
    assert incident.substantiated and incident.imported_in == outcome.record
    [(caregiver_id, cause)] = queued
    assert caregiver_id == caregiver.pk
    assert "SG-7" in cause and "责任事故" in cause


def test_an_incident_already_substantiated_queues_no_second_check(
    caregiver, queued, django_capture_on_commit_callbacks
):
    substantiated = incident_row(caregiver, reference="WG-1", kind="ethics_breach", substantiated=True)
    with django_capture_on_commit_callbacks(execute=True):
        run(incidents=[substantiated])
    with django_capture_on_commit_callbacks(execute=True):
        run(incidents=[{**substantiated, "summary": "补充说明"}], batch_key="batch-2")
    assert len(queued) == 1


def test_several_incidents_of_one_caregiver_make_one_check_naming_each(
    caregiver, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run(
            incidents=[
                incident_row(caregiver, reference="TS-1", substantiated=True),
                incident_row(caregiver, reference="TS-2", substantiated=True),
            ]
        )
    [(_caregiver_id, cause)] = queued
    assert "TS-1" in cause and "TS-2" in cause


# --- Spreadsheets ------------------------------------------------------------------------------------------


MONTH_HEADER = ["*身份证号", "护理员姓名", "*月份", "*服务时长（小时）", "满意度回访数", "其中满意数"]
INCIDENT_HEADER = ["*事件编号", "*身份证号", "护理员姓名", "*类型", "*发生日期", "*是否查实", "概要"]


def import_file(kind, rows, name, user):
    data = xlsx_bytes(rows) if name.endswith(".xlsx") else csv_bytes(rows, encoding="gb18030")
    return imports.service_data_spreadsheet_import(kind=kind, data=data, name=name, user=user), data


def test_a_workbook_of_monthly_figures_is_imported(two_caregivers, administrator):
    first, second = two_caregivers
    month_as_date = datetime.datetime.strptime(months_ago(2) + "-01", "%Y-%m-%d")
    rows = [
        MONTH_HEADER,
        [first.national_id, first.name, months_ago(1), 86.5, 12, 11],
        [],
        [second.national_id, second.name, month_as_date, 40, None, None],
    ]
    outcome, data = import_file(imports.MONTHS, rows, "九月服务数据.xlsx", administrator)
    record = outcome.record
    assert (record.source, record.file_name, record.uploaded_by) == ("spreadsheet", "九月服务数据.xlsx", administrator)
    assert record.batch_key == hashlib.sha256(data).hexdigest()
    stored = ServiceMonth.objects.get(caregiver=second)
    assert (f"{stored.month:%Y-%m}", stored.surveys, stored.satisfied) == (months_ago(2), 0, 0)


def test_the_same_file_uploaded_twice_writes_nothing_the_second_time(caregiver, administrator):
    rows = [MONTH_HEADER, [caregiver.national_id, "", months_ago(1), 86.5, 12, 11]]
    first, data = import_file(imports.MONTHS, rows, "a.xlsx", administrator)
    again = imports.service_data_spreadsheet_import(
        kind=imports.MONTHS, data=data, name="copy.xlsx", user=administrator
    )
    assert not again.created and again.record == first.record
    assert ServiceDataImport.objects.count() == 1


def test_a_gbk_csv_of_incidents_is_imported(caregiver, administrator):
    rows = [
        INCIDENT_HEADER,
        [
            "SG-2026-0007",
            caregiver.national_id,
            caregiver.name,
            "责任事故",
            days_ago(3).replace("-", "/"),
            "是",
            "跌倒",
        ],
    ]
    outcome, _data = import_file(imports.INCIDENTS, rows, "事件.csv", administrator)
    incident = ServiceIncident.objects.get()
    assert (incident.reference, incident.kind, incident.substantiated) == ("SG-2026-0007", "liability_accident", True)
    assert outcome.downgrade_checks == 1


def test_the_report_names_the_spreadsheet_row_and_column(caregiver, administrator):
    rows = [
        INCIDENT_HEADER,
        ["TS-1", caregiver.national_id, "", "投诉", days_ago(3), "否", ""],
        [],
        ["TS-2", caregiver.national_id, "", "迟到", days_ago(3), "否", ""],
        ["TS-1", caregiver.national_id, "", "投诉", days_ago(4), "否", ""],
    ]
    with pytest.raises(imports.SpreadsheetRejected) as rejected:
        import_file(imports.INCIDENTS, rows, "事件.xlsx", administrator)
    problems = [(p.row, p.column) for p in rejected.value.problems]
    assert problems == [(4, "类型"), (5, "事件编号")]
    assert "第 2 行" in rejected.value.problems[1].message
    assert not ServiceIncident.objects.exists()


def test_an_identity_number_typed_as_a_number_is_refused(caregiver, administrator):
    rows = [MONTH_HEADER, [int(caregiver.national_id[:15]), "", months_ago(1), 10, 0, 0]]
    with pytest.raises(imports.SpreadsheetRejected) as rejected:
        import_file(imports.MONTHS, rows, "a.xlsx", administrator)
    assert rejected.value.problems[0].row == 2 and rejected.value.problems[0].column == "身份证号"


@pytest.mark.parametrize("name", ["a.xlsx", "a.csv"])
def test_a_month_of_year_0_and_a_count_of_5001_digits_in_a_file_are_refused_with_their_rows(
    caregiver, administrator, name
):
    rows = [
        MONTH_HEADER,
        [caregiver.national_id, "", "0000-01", 10, 0, 0],
        [caregiver.national_id, "", months_ago(1), "1e5000", "1e5000", 0],
    ]
    with pytest.raises(imports.SpreadsheetRejected) as rejected:
        import_file(imports.MONTHS, rows, name, administrator)
    problems = [(p.row, p.column) for p in rejected.value.problems]
    assert problems == [(2, "月份"), (3, "服务时长（小时）"), (3, "满意度回访数")]
    assert "过于久远" in rejected.value.problems[0].message
    assert not ServiceDataImport.objects.exists() and not ServiceMonth.objects.exists()


def test_a_file_with_the_wrong_columns_is_refused_as_a_whole(administrator):
    with pytest.raises(imports.SpreadsheetRejected) as rejected:
        import_file(imports.MONTHS, [INCIDENT_HEADER, ["x"] * 7], "a.xlsx", administrator)
    assert rejected.value.problems[0].row is None


@pytest.mark.parametrize("hostile", HOSTILE_XLSX)
def test_a_hostile_workbook_is_refused_with_a_reason_and_nothing_is_written(administrator, hostile):
    data, fragment = hostile_xlsx(hostile, MONTH_HEADER)
    with pytest.raises(imports.SpreadsheetRejected) as rejected:
        imports.service_data_spreadsheet_import(kind=imports.MONTHS, data=data, name="a.xlsx", user=administrator)
    [problem] = rejected.value.problems
    assert problem.row is None and fragment in problem.message
    assert not ServiceDataImport.objects.exists() and not ServiceMonth.objects.exists()


# --- The admin screen ------------------------------------------------------------------------------------


@pytest.fixture
def bureau(db):
    from accounts import services as account_services
    from accounts.models import Role

    return account_services.user_create(username="bureau", password="pw", name="医保局", role=Role.ADMINISTRATOR)


def test_the_upload_screen_imports_and_shows_the_summary(client, bureau, caregiver):
    client.force_login(bureau)
    url = reverse("service_data_upload:index")
    page = client.get(url)
    assert page.status_code == 200 and "月度服务数据" in page.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "a.xlsx", xlsx_bytes([MONTH_HEADER, [caregiver.national_id, "", months_ago(1), 86.5, 12, 11]])
    )
    response = client.post(url, {"kind": imports.MONTHS, "file": upload}, follow=True)
    record = ServiceDataImport.objects.get()
    assert response.redirect_chain[-1][0] == reverse("service_data_imports:inspect", args=[record.pk])
    assert "新增 1 条" in response.content.decode()


def test_the_upload_screen_lists_every_problem_and_writes_nothing(client, bureau, caregiver):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(bureau)
    upload = SimpleUploadedFile(
        "a.csv",
        csv_bytes([MONTH_HEADER, [caregiver.national_id, "", months_ago(1), -3, 2, 5]]),
    )
    response = client.post(reverse("service_data_upload:index"), {"kind": imports.MONTHS, "file": upload})
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="import-problems"' in content and "第 2 行" in content and "服务时长（小时）" in content
    assert not ServiceDataImport.objects.exists()


@pytest.mark.parametrize(("kind", "extension"), [(imports.MONTHS, "xlsx"), (imports.INCIDENTS, "csv")])
def test_templates_download_with_the_headings_the_import_reads(client, bureau, kind, extension):
    client.force_login(bureau)
    response = client.get(reverse("service_data_upload:template", args=[kind, extension]))
    assert response.status_code == 200
    if extension == "xlsx":
        import io

        heading = [cell.value for cell in load_workbook(io.BytesIO(response.content)).worksheets[0][1]]
    else:
        heading = response.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert heading == (MONTH_HEADER if kind == imports.MONTHS else INCIDENT_HEADER)


def test_the_upload_screen_is_for_administrators_only(client, caregiver):
    from tests.factories.accounts import AssessorFactory

    client.force_login(AssessorFactory().user)
    assert client.get(reverse("service_data_upload:index")).status_code == 302


@pytest.mark.parametrize("hostile", HOSTILE_XLSX)
def test_the_upload_screen_reports_a_hostile_workbook_and_writes_nothing(client, bureau, hostile):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(bureau)
    data, fragment = hostile_xlsx(hostile, MONTH_HEADER)
    response = client.post(
        reverse("service_data_upload:index"), {"kind": imports.MONTHS, "file": SimpleUploadedFile("a.xlsx", data)}
    )
    assert response.status_code == 200 and fragment in response.content.decode()
    assert not ServiceDataImport.objects.exists() and not ServiceMonth.objects.exists()
