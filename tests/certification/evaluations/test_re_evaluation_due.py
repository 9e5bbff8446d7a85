"""The re-evaluation due list, nominations from it, and the daily notice to managers."""

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.models import ModelLogEntry

from accounts import services as account_services
from certification.evaluations import services, tasks
from certification.models import Evaluation
from tests.factories.accounts import CaregiverFactory, CountyFactory, InstitutionFactory, manager_for
from tests.factories.certification import decided_evaluation_for
from tests.factories.content import administrator as bureau_administrator

pytestmark = pytest.mark.django_db

DUE = "/admin/re-evaluation/due/"
NOMINATIONS = "/admin/re-evaluation/nominations/"
TODAY = timezone.localdate()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def bureau(db):
    account_services.role_groups_ensure()
    return bureau_administrator()


@pytest.fixture
def admin_client(client, bureau):
    client.force_login(bureau)
    return client


@pytest.fixture
def home(db):
    return InstitutionFactory(name="城区康养中心", county=CountyFactory(name="城区"))


@pytest.fixture
def manager(home):
    return manager_for(home, name="张主任", email="zhang@example.com")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def rated(assessor, rules):
    """Make a caregiver whose decision in force is `level` stars, due for re-evaluation in `due_in` days."""

    def make(institution, name: str, due_in: int | None, level: int = 2, **fields):
        caregiver = CaregiverFactory(institution=institution, user__name=name)
        due_on = days(due_in) if due_in is not None else None
        decided_evaluation_for(
            caregiver=caregiver, assessor=assessor, rule_set=rules, level=level, re_evaluation_due_on=due_on, **fields
        )
        return caregiver

    return make


def names(response) -> list[str]:
    return [row.name for row in response.context["object_list"]]


def export(client, url, fmt, **params) -> list[list[str]]:
    response = client.get(url, {**params, "export": fmt})
    assert response.status_code == 200
    if fmt == "csv":
        body = b"".join(response.streaming_content)
        assert body.startswith("\ufeff".encode())
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


# --- The list -------------------------------------------------------------------------------------------


def test_the_due_list_shows_who_falls_due_soon_or_is_overdue(admin_client, home, rated):
    rated(home, "王秀英", -5, level=3)
    rated(home, "李桂兰", 30)
    rated(home, "陈玉梅", 200)
    rated(home, "杨春燕", None, level=0)
    busy = rated(home, "赵淑珍", 10)
    services.evaluation_apply(caregiver=busy)
    CaregiverFactory(institution=home, user__name="刘新人")

    response = admin_client.get(DUE)

    assert names(response) == ["王秀英", "李桂兰"]
    overdue, soon = response.context["object_list"]
    assert (overdue.institution.name, overdue.institution.county.name) == ("城区康养中心", "城区")
    assert (overdue.star_level, soon.star_level) == (3, 2)
    assert (overdue.overdue, soon.overdue) == (True, False)
    page = response.content.decode()
    assert page.count("w-text-critical-200") == 1 and "已逾期" in page


def test_administrators_filter_by_county_and_institution(admin_client, home, rated):
    other = InstitutionFactory(name="高平市护理院", county=CountyFactory(name="高平市"))
    rated(home, "王秀英", 10)
    rated(other, "李桂兰", 10)

    assert names(admin_client.get(DUE, {"county": other.county_id})) == ["李桂兰"]
    assert names(admin_client.get(DUE, {"institution": home.pk})) == ["王秀英"]
    assert sorted(names(admin_client.get(DUE))) == ["李桂兰", "王秀英"]


def test_a_manager_sees_their_own_staff_whatever_the_filters(manager_client, home, rated):
    other = InstitutionFactory(name="高平市护理院")
    rated(home, "王秀英", 10)
    rated(other, "李桂兰", 10)

    assert names(manager_client.get(DUE)) == ["王秀英"]
    assert names(manager_client.get(DUE, {"institution": other.pk, "county": other.county_id})) == ["王秀英"]
    assert [row[0] for row in export(manager_client, DUE, "csv")[1:]] == ["王秀英"]


def test_the_due_list_exports_as_csv_and_xlsx(admin_client, home, rated):
    rated(home, "王秀英", -5, level=3)
    rated(home, "李桂兰", 30, level=1)

    rows = export(admin_client, DUE, "csv")
    assert rows[0] == ["护理员", "所在机构", "县（市、区）", "现有星级", "复评到期日", "已逾期"]
    assert rows[1] == ["王秀英", "城区康养中心", "城区", "3", days(-5).isoformat(), "已逾期"]
    assert rows[2] == ["李桂兰", "城区康养中心", "城区", "1", days(30).isoformat(), ""]

    sheet = export(admin_client, DUE, "xlsx")
    assert sheet[0][0] == "护理员" and [row[0] for row in sheet[1:]] == ["王秀英", "李桂兰"]
    assert sheet[1][4].startswith(days(-5).isoformat())


def count_queries(client, url, **params) -> int:
    client.get(url, params)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(context.captured_queries)


def populate(institution, count: int, rated):
    for number in range(count):
        rated(institution, f"护理员{number}", number % 50 - 10)


@pytest.mark.parametrize("who", ["admin", "manager"])
@pytest.mark.parametrize("params", [{}, {"ordering": "-star_level"}, {"export": "csv"}])
def test_the_due_list_costs_the_same_with_3_or_30_rows(client, bureau, manager, home, rated, who, params):
    client.force_login(bureau if who == "admin" else manager)
    populate(home, 3, rated)
    few = count_queries(client, DUE, **params)
    populate(home, 27, rated)
    assert count_queries(client, DUE, **params) == few
    assert few <= 25
    assert len(names(client.get(DUE))) == 30


def test_an_administrator_can_open_a_round_for_the_filtered_institution(admin_client, home, rated):
    rated(home, "王秀英", 10)
    assert admin_client.get(DUE).context["header_buttons"] == []

    [button] = admin_client.get(DUE, {"institution": home.pk}).context["header_buttons"]
    assert button.url == f"/admin/re-evaluation/rounds/add/?institution={home.pk}&due_by={days(60).isoformat()}"
    form = admin_client.get(button.url).context["form"]
    assert str(form["institution"].value()) == str(home.pk) and form["due_by"].value() == days(60).isoformat()

    [county_button] = admin_client.get(DUE, {"county": home.county_id}).context["header_buttons"]
    assert f"county={home.county_id}" in county_button.url


# --- Nominations ----------------------------------------------------------------------------------------


def test_a_manager_nominates_from_the_due_list(manager_client, manager, home, rated):
    caregiver = rated(home, "王秀英", 10)
    [row] = manager_client.get(DUE).context["object_list"]
    assert row.nominate_url.startswith(f"{NOMINATIONS}{caregiver.pk}/?next=")

    response = manager_client.post(row.nominate_url, {"note": "证书将到期，申请复评", "next": DUE})

    assert response.status_code == 302 and response["Location"] == DUE
    nomination = caregiver.evaluations.get(status=Evaluation.Status.APPLIED)
    assert (nomination.source, nomination.requested_by, nomination.request_note) == (
        Evaluation.Source.NOMINATION,
        manager,
        "证书将到期，申请复评",
    )
    assert names(manager_client.get(DUE)) == []


def test_a_second_nomination_is_refused_in_chinese(manager_client, home):
    caregiver = CaregiverFactory(institution=home)
    services.evaluation_apply(caregiver=caregiver)

    response = manager_client.post(f"{NOMINATIONS}{caregiver.pk}/", {"note": ""})

    assert response.status_code == 200
    assert "该护理员已有进行中的星级评定。" in response.content.decode()
    assert caregiver.evaluations.count() == 1


def test_a_manager_nominates_only_their_own_staff(manager_client, client, bureau, home):
    stranger = CaregiverFactory()
    assert manager_client.get(f"{NOMINATIONS}{stranger.pk}/").status_code == 404
    assert manager_client.post(f"{NOMINATIONS}{stranger.pk}/", {"note": ""}).status_code == 404
    assert not stranger.evaluations.exists()

    # The service decides who nominates: administrators assign, they do not nominate.
    own = CaregiverFactory(institution=home)
    client.force_login(bureau)
    for url in (NOMINATIONS, f"{NOMINATIONS}{own.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/", url
    assert client.post(f"{NOMINATIONS}{own.pk}/", {"note": ""}).status_code == 302
    assert not own.evaluations.exists()


def test_the_nomination_list_shows_levels_and_open_evaluations(manager_client, home, rated):
    rated(home, "王秀英", 100, level=3)
    busy = CaregiverFactory(institution=home, user__name="李桂兰")
    services.evaluation_apply(caregiver=busy)
    CaregiverFactory(institution=home, user__name="陈玉梅")
    CaregiverFactory(user__name="外机构")

    rows = {row.name: row for row in manager_client.get(NOMINATIONS).context["object_list"]}

    assert sorted(rows) == ["李桂兰", "王秀英", "陈玉梅"]
    assert (rows["王秀英"].star_level, rows["王秀英"].re_evaluation_due_on) == (3, days(100))
    assert rows["李桂兰"].open_label == "待分配考评员" and rows["李桂兰"].nominate_url is None
    assert rows["陈玉梅"].star_level is None and rows["陈玉梅"].nominate_url.endswith(f"/{rows['陈玉梅'].pk}/")
    assert names(manager_client.get(NOMINATIONS, {"q": "王"})) == ["王秀英"]


def test_the_nomination_list_costs_the_same_with_3_or_30_staff(manager_client, home, rated):
    populate(home, 3, rated)
    few = count_queries(manager_client, NOMINATIONS)
    populate(home, 27, rated)
    assert count_queries(manager_client, NOMINATIONS) == few


# --- The daily notice -----------------------------------------------------------------------------------


def test_managers_are_told_once_per_caregiver_and_due_date(manager, home, rated, assessor, rules):
    soon = rated(home, "王秀英", 20)
    rated(home, "李桂兰", -3)
    rated(home, "陈玉梅", 200)
    busy = rated(home, "赵淑珍", 5)
    services.evaluation_apply(caregiver=busy)

    assert services.re_evaluation_due_remind() == 2
    [message] = mail.outbox
    assert message.to == ["zhang@example.com"]
    assert "城区康养中心：2 名护理员星级复评即将到期" == message.subject
    assert "王秀英" in message.body and "李桂兰" in message.body and "陈玉梅" not in message.body
    assert "赵淑珍" not in message.body and "/admin/re-evaluation/due/" in message.body

    # The next day (or a redelivered task): nothing new, nobody told twice.
    assert services.re_evaluation_due_remind() == 0
    assert tasks.re_evaluation_due_remind_task.delay().get() == 0
    assert len(mail.outbox) == 1

    # A new decision brings a new due date, and with it one new notice.
    decided_evaluation_for(caregiver=soon, assessor=assessor, rule_set=rules, re_evaluation_due_on=days(45))
    assert services.re_evaluation_due_remind() == 1
    assert len(mail.outbox) == 2 and "王秀英" in mail.outbox[1].body and "李桂兰" not in mail.outbox[1].body
    notices = ModelLogEntry.objects.filter(action="carestar.evaluation.due_notice")
    assert sorted(entry.data["due_on"] for entry in notices) == sorted(
        [days(20).isoformat(), days(-3).isoformat(), days(45).isoformat()]
    )


def test_each_institution_hears_of_its_own_staff_only(manager, home, rated):
    other = InstitutionFactory(name="高平市护理院")
    other_manager = manager_for(other, email="li@example.com")
    rated(home, "王秀英", 10)
    rated(other, "李桂兰", 10)

    assert services.re_evaluation_due_remind() == 2

    by_address = {message.to[0]: message.body for message in mail.outbox}
    assert "王秀英" in by_address["zhang@example.com"] and "李桂兰" not in by_address["zhang@example.com"]
    assert "李桂兰" in by_address[other_manager.email] and "王秀英" not in by_address[other_manager.email]


def test_an_institution_without_a_manager_is_told_when_one_is_appointed(home, rated):
    rated(home, "王秀英", 10)

    assert services.re_evaluation_due_remind() == 0
    assert not ModelLogEntry.objects.filter(action="carestar.evaluation.due_notice").exists()

    manager_for(home, email="new@example.com")
    assert services.re_evaluation_due_remind() == 1
    assert mail.outbox[0].to == ["new@example.com"]


def test_the_notice_runs_every_day_from_beat():
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "certification.tasks.re_evaluation_due_remind_task"
    )
    assert entry["schedule"] == 24 * 60 * 60
    assert tasks.re_evaluation_due_remind_task.name == entry["task"]
