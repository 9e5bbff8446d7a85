"""Coverage reports: the right numbers, the same number of queries for 3 or 30 rows, CSV and XLSX exports."""

import csv
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts import services as account_services
from tests.factories.accounts import CaregiverFactory, CountyFactory, InstitutionFactory
from tests.factories.content import ClauseFactory, ServiceItemFactory, StandardFactory, administrator
from tests.factories.training import course_with_lessons, lesson_study, trainer_for, training_body_with_index
from training import services
from training.models import Enrollment, TrainingSettings

pytestmark = pytest.mark.django_db

INSTITUTIONS = "/admin/reports/coverage/institutions/"
COUNTIES = "/admin/reports/coverage/counties/"
CLAUSES = "/admin/reports/coverage/clauses/"
ITEMS = "/admin/reports/coverage/service-items/"


@pytest.fixture
def admin_client(client):
    account_services.role_groups_ensure()
    client.force_login(administrator())
    return client


@pytest.fixture
def required_course(db):
    _, index = training_body_with_index()
    course = course_with_lessons(index, lessons=1, slug="required")
    settings = TrainingSettings.load()
    settings.required_courses.set([course])
    return course


def complete(caregiver, course):
    services.enrollment_create(caregiver=caregiver, course=course)
    for lesson in course.lessons():
        lesson_study(caregiver, lesson)


def export(client, url, fmt, **params) -> list[list[str]]:
    response = client.get(url, {**params, "export": fmt})
    assert response.status_code == 200
    if fmt == "csv":
        body = b"".join(response.streaming_content)
        assert body.startswith("\ufeff".encode())  # Excel on Chinese Windows reads it as UTF-8
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


def test_training_coverage_by_institution_and_county(admin_client, required_course):
    county = CountyFactory(name="泽州县")
    full = InstitutionFactory(name="全部完成养老院", county=county)
    half = InstitutionFactory(name="一半完成养老院", county=county)
    InstitutionFactory(name="空机构", county=county)
    for caregiver in (CaregiverFactory(institution=full), CaregiverFactory(institution=half)):
        complete(caregiver, required_course)
    CaregiverFactory(institution=full)
    CaregiverFactory(institution=half)
    enrolled_only = CaregiverFactory(institution=half)
    services.enrollment_create(caregiver=enrolled_only, course=required_course)

    rows = {row[1]: row for row in export(admin_client, INSTITUTIONS, "csv")[1:]}
    assert rows["全部完成养老院"][4:] == ["2", "1", "50.0"]
    assert rows["一半完成养老院"][4:] == ["3", "1", "33.3"]
    assert rows["空机构"][4:] == ["0", "0", ""]

    county_rows = export(admin_client, COUNTIES, "xlsx")
    assert county_rows[0][:2] == ["区划代码", "县（市、区）"]
    assert county_rows[1][1:5] == ["泽州县", "3", "5", "2"] and float(county_rows[1][5]) == 40.0

    lowest_first = admin_client.get(INSTITUTIONS, {"ordering": "share"}).context["object_list"]
    assert [row.name for row in lowest_first][:2] == ["一半完成养老院", "全部完成养老院"]


def test_a_caregiver_must_complete_every_required_course(admin_client, required_course):
    _, index = training_body_with_index("TB-2", "乙")
    second = course_with_lessons(index, lessons=1, slug="second-required")
    TrainingSettings.load().required_courses.add(second)
    caregiver = CaregiverFactory()
    complete(caregiver, required_course)
    assert export(admin_client, INSTITUTIONS, "csv")[1][5] == "0"
    complete(caregiver, second)
    assert export(admin_client, INSTITUTIONS, "csv")[1][5] == "1"


def test_without_required_courses_the_report_says_so(admin_client):
    CaregiverFactory()
    page = admin_client.get(INSTITUTIONS).content.decode()
    assert "尚未设置必修课程" in page


def test_standards_coverage_flags_what_no_live_course_cites(admin_client, django_capture_on_commit_callbacks):
    standard = StandardFactory()
    cited = ClauseFactory(standard=standard, number="6.1", title="协助翻身")
    ClauseFactory(standard=standard, number="6.2", title="压疮预防")
    taught, untaught = ServiceItemFactory(name="协助翻身"), ServiceItemFactory(name="心理慰藉")
    _, index = training_body_with_index()
    course = course_with_lessons(index, lessons=1, clause=cited, title="翻身课程")
    course.service_items.add(taught)
    with django_capture_on_commit_callbacks(execute=True):
        course.save_revision().publish()

    clause_rows = export(admin_client, CLAUSES, "csv")
    assert clause_rows[0] == ["标准", "条款", "标题", "覆盖情况", "已发布课程数", "引用课程"]
    assert clause_rows[1][1:] == ["6.1", "协助翻身", "已覆盖", "1", "翻身课程"]
    assert clause_rows[2][1:] == ["6.2", "压疮预防", "未覆盖", "0", ""]
    uncovered = admin_client.get(CLAUSES, {"covered": "no"}).context["object_list"]
    assert [clause.number for clause in uncovered] == ["6.2"]

    item_rows = {row[1]: row for row in export(admin_client, ITEMS, "xlsx")[1:]}
    assert item_rows["协助翻身"][3:] == ["已覆盖", "1", "翻身课程"]
    assert item_rows["心理慰藉"][3] == "未覆盖"

    # An unpublished course no longer covers anything.
    with django_capture_on_commit_callbacks(execute=True):
        course.unpublish()
    assert export(admin_client, CLAUSES, "csv")[1][3] == "未覆盖"
    assert untaught.pk


def test_reports_are_for_administrators(client, required_course):
    body = required_course.get_parent().specific.training_body
    client.force_login(trainer_for(body))
    for url in (INSTITUTIONS, COUNTIES, CLAUSES, ITEMS, INSTITUTIONS + "?export=csv"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/", url


def count_queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def populate_training(count: int, course, offset: int):
    for number in range(offset, offset + count):
        institution = InstitutionFactory(county=CountyFactory(code=f"14{number:04d}"))
        caregiver = CaregiverFactory(institution=institution)
        Enrollment.objects.create(caregiver=caregiver, course=course, completed_at="2026-01-01T00:00:00Z")
        CaregiverFactory(institution=institution)


def populate_standards(count: int, course, offset: int):
    standard = StandardFactory()
    for number in range(count):
        clause = ClauseFactory(standard=standard, number=f"{offset + number}")
        item = ServiceItemFactory()
        course.citations.create(clause=clause)
        course.citations.create(service_item=item)


@pytest.mark.parametrize(
    "url", [INSTITUTIONS, INSTITUTIONS + "?ordering=share", COUNTIES, COUNTIES + "?ordering=-share", CLAUSES, ITEMS]
)
def test_reports_cost_the_same_with_3_or_30_rows(admin_client, required_course, url):
    populate_training(3, required_course, 0)
    populate_standards(3, required_course, 0)
    few = count_queries(admin_client, url)
    populate_training(27, required_course, 100)
    populate_standards(27, required_course, 100)
    many = count_queries(admin_client, url)
    assert many == few
    assert few <= 20
    rows = admin_client.get(url).context["object_list"]
    assert len(rows) >= 30


@pytest.mark.parametrize("url", [INSTITUTIONS, COUNTIES, CLAUSES, ITEMS])
def test_exports_cost_the_same_with_3_or_30_rows(admin_client, required_course, url):
    populate_training(3, required_course, 0)
    populate_standards(3, required_course, 0)
    with CaptureQueriesContext(connection) as few:
        export(admin_client, url, "csv")
    populate_training(27, required_course, 100)
    populate_standards(27, required_course, 100)
    with CaptureQueriesContext(connection) as many:
        rows = export(admin_client, url, "csv")
    assert len(many) == len(few)
    assert len(rows) >= 31


def test_the_citation_index_can_be_rebuilt_from_the_command_line(required_course):
    clause = ClauseFactory()
    lesson = required_course.lessons().get()
    lesson.body = [{"type": "clause_citation", "value": {"clause": clause.pk, "comment": ""}}]
    lesson.save()
    output = io.StringIO()
    call_command("rebuild_course_citations", stdout=output)
    assert "1" in output.getvalue()
    assert required_course.citations.filter(clause=clause).exists()
