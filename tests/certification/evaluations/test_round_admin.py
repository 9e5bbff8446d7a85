"""The rounds pages in the Wagtail admin, for administrators and institution managers."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from certification.evaluations import services
from certification.models import CertificateBatch, Evaluation, EvaluationRound
from tests.factories.accounts import CaregiverFactory, InstitutionFactory, manager_for
from tests.factories.certification import decided_evaluation_for
from tests.factories.content import administrator as bureau_administrator
from tests.factories.training import trainer_for, training_body_with_index

pytestmark = pytest.mark.django_db

ROUNDS = "/admin/re-evaluation/rounds/"
ADD = ROUNDS + "add/"
CLOSES = timezone.localdate() + datetime.timedelta(days=90)


def detail_url(evaluation_round) -> str:
    return f"{ROUNDS}{evaluation_round.pk}/"


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
    return InstitutionFactory(name="城区康养中心")


@pytest.fixture
def manager_client(client, home):
    client.force_login(manager_for(home, name="张主任"))
    return client


def open_round(actor, institution, name="复评", **kwargs):
    return services.round_open(actor=actor, name=name, closes_on=CLOSES, institution=institution, **kwargs)


def test_the_rounds_list_shows_progress(admin_client, bureau, home):
    for name in ("王秀英", "李桂兰", "陈玉梅"):
        CaregiverFactory(institution=home, user__name=name)
    evaluation_round = open_round(bureau, home, name="2026年城区复评")
    services.evaluation_withdraw(evaluation=evaluation_round.evaluations.first(), actor=bureau)

    page = admin_client.get(ROUNDS).content.decode()

    assert "2026年城区复评" in page and "城区康养中心" in page
    assert "已决定 0/3 · 完成 33%" in page
    assert 'value="33"' in page
    assert detail_url(evaluation_round) in page


def count_queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_rounds_list_costs_the_same_with_one_or_many_rounds(admin_client, bureau):
    def populate(count):
        for _ in range(count):
            institution = InstitutionFactory()
            CaregiverFactory(institution=institution)
            open_round(bureau, institution)

    populate(1)
    few = count_queries(admin_client, ROUNDS)
    populate(6)
    assert count_queries(admin_client, ROUNDS) == few
    assert len(admin_client.get(ROUNDS).context["table"].data) == 7


def test_an_administrator_opens_a_round_from_the_form(admin_client, home):
    due = CaregiverFactory(institution=home, user__name="王秀英")
    response = admin_client.post(
        ADD, {"name": "城区第一批复评", "institution": home.pk, "closes_on": CLOSES.isoformat(), "due_by": ""}
    )

    evaluation_round = EvaluationRound.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(evaluation_round)
    assert evaluation_round.institution == home
    detail = admin_client.get(detail_url(evaluation_round))
    assert "已发起：1 项评定等待分配考评员" in detail.content.decode()
    [row] = detail.context["object_list"]
    assert (row.caregiver.name, row.get_status_display()) == ("王秀英", "待分配考评员")
    assert due.evaluations.get().round == evaluation_round


def test_the_form_is_prefilled_from_the_due_list(admin_client, home):
    form = admin_client.get(ADD, {"institution": home.pk, "due_by": "2027-01-01"}).context["form"]
    assert str(form["institution"].value()) == str(home.pk)
    assert form["due_by"].value() == "2027-01-01"


@pytest.mark.parametrize(
    "data, error",
    [
        ({"county": "both"}, "不能同时选择"),
        ({}, "不能同时选择"),
        ({"closes_on": "2000-01-01"}, "完成期限已过。"),
        ({"institution": "empty"}, "该范围内没有需要评定的护理员。"),
    ],
)
def test_the_form_refuses_bad_input_in_chinese_and_writes_nothing(admin_client, home, data, error):
    CaregiverFactory(institution=home)
    empty = InstitutionFactory()
    values = {"name": "复评", "institution": home.pk, "closes_on": CLOSES.isoformat()}
    if data.get("county") == "both":
        values["county"] = home.county.pk
    elif data == {}:
        del values["institution"]
    elif "closes_on" in data:
        values["closes_on"] = data["closes_on"]
    else:
        values["institution"] = empty.pk

    response = admin_client.post(ADD, values)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not EvaluationRound.objects.exists() and not Evaluation.objects.exists()


def test_a_manager_opens_a_round_for_their_own_institution_whatever_is_posted(manager_client, home):
    own = CaregiverFactory(institution=home)
    other = CaregiverFactory()

    form = manager_client.get(ADD).context["form"]
    assert "institution" not in form.fields and "county" not in form.fields
    response = manager_client.post(
        ADD,
        {"name": "本机构复评", "institution": other.institution_id, "closes_on": CLOSES.isoformat()},
    )

    evaluation_round = EvaluationRound.objects.get()
    assert response.status_code == 302
    assert evaluation_round.institution == home
    assert set(evaluation_round.evaluations.values_list("caregiver", flat=True)) == {own.pk}


def test_a_manager_sees_their_own_institutions_rounds_only(manager_client, bureau, home):
    CaregiverFactory(institution=home)
    other = InstitutionFactory(name="高平市护理院")
    CaregiverFactory(institution=other)
    own_round = open_round(bureau, home, name="本机构复评")
    other_round = open_round(bureau, other, name="外机构复评")

    listing = manager_client.get(ROUNDS).content.decode()
    assert "本机构复评" in listing and "外机构复评" not in listing
    assert manager_client.get(detail_url(own_round)).status_code == 200
    assert manager_client.get(detail_url(other_round)).status_code == 404


def test_the_round_page_counts_by_status_and_pages_its_evaluations(admin_client, bureau, home):
    def populate(count):
        for _ in range(count):
            CaregiverFactory(institution=home)

    populate(3)
    small = open_round(bureau, home, name="小批次")
    few = count_queries(admin_client, detail_url(small))
    populate(52)
    large = open_round(bureau, home, name="大批次")
    assert count_queries(admin_client, detail_url(large)) == few

    context = admin_client.get(detail_url(large)).context
    assert context["progress"]["total"] == 52
    assert {str(label): count for label, count in context["statuses"]}["待分配考评员"] == 52
    assert len(context["object_list"]) == 50 and context["paginator"].num_pages == 2
    assert len(admin_client.get(detail_url(large), {"p": 2}).context["object_list"]) == 2


def test_an_administrator_issues_the_certificates_of_a_round(
    admin_client, bureau, home, assessor, rules, django_capture_on_commit_callbacks
):
    rated = CaregiverFactory(institution=home, user__name="王秀英")
    evaluation_round = open_round(bureau, home, name="城区复评")
    decision = decided_evaluation_for(caregiver=rated, assessor=assessor, rule_set=rules, round=evaluation_round)
    outside = decided_evaluation_for(caregiver=CaregiverFactory(), assessor=assessor, rule_set=rules)

    assert "为本批次发放证书" in admin_client.get(detail_url(evaluation_round)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(detail_url(evaluation_round) + "certificates/")

    batch = CertificateBatch.objects.get()
    assert response["Location"] == f"/admin/certificate_batches/{batch.pk}/"
    assert batch.round == evaluation_round and batch.name == "城区复评：证书"
    assert list(batch.items.values_list("evaluation", flat=True)) == [decision.pk]
    assert outside.pk not in batch.items.values_list("evaluation", flat=True)
    assert batch.items.get().certificate.star_level == 2

    # Nothing left to issue: said in Chinese, back on the round's page, no second batch.
    again = admin_client.post(detail_url(evaluation_round) + "certificates/", follow=True)
    assert "所选范围内已评定的星级评定均已发证。" in again.content.decode()
    assert CertificateBatch.objects.count() == 1


def test_the_batch_form_can_choose_a_round(admin_client, bureau, home, assessor, rules):
    rated = CaregiverFactory(institution=home)
    evaluation_round = open_round(bureau, home)
    in_round = decided_evaluation_for(caregiver=rated, assessor=assessor, rule_set=rules, round=evaluation_round)
    decided_evaluation_for(caregiver=CaregiverFactory(institution=home), assessor=assessor, rule_set=rules)

    admin_client.post("/admin/certificate_batches/", {"name": "按批次发证", "round": evaluation_round.pk})

    batch = CertificateBatch.objects.get()
    assert batch.round == evaluation_round
    assert list(batch.items.values_list("evaluation", flat=True)) == [in_round.pk]


def test_managers_may_not_issue_certificates(manager_client, bureau, home, assessor, rules):
    rated = CaregiverFactory(institution=home)
    evaluation_round = open_round(bureau, home)
    decided_evaluation_for(caregiver=rated, assessor=assessor, rule_set=rules, round=evaluation_round)

    assert "为本批次发放证书" not in manager_client.get(detail_url(evaluation_round)).content.decode()
    response = manager_client.post(detail_url(evaluation_round) + "certificates/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert not CertificateBatch.objects.exists()


def test_the_pages_are_for_administrators_and_managers_only(client, bureau, home):
    CaregiverFactory(institution=home)
    evaluation_round = open_round(bureau, home)
    body, _index = training_body_with_index()
    client.force_login(trainer_for(body))
    for url in (ROUNDS, ADD, detail_url(evaluation_round)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/", url
    assert client.post(ADD, {"name": "越权", "institution": home.pk, "closes_on": CLOSES}).status_code == 302
    assert EvaluationRound.objects.count() == 1

    client.force_login(CaregiverFactory().user)
    assert client.get(ROUNDS).status_code == 302
    assert EvaluationRound.objects.count() == 1


def test_the_menu_shows_re_evaluation_to_managers(manager_client):
    page = manager_client.get("/admin/").content.decode()
    assert "/admin/re-evaluation/rounds/" in page
    assert "/admin/re-evaluation/nominations/" in page
