"""POST /api/service-data/: token authentication, status codes, size limit, and a query count that stays flat."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from certification.models import ServiceDataClient, ServiceDataImport, ServiceIncident, ServiceMonth
from certification.servicedata import clients
from tests.factories.accounts import CaregiverFactory

pytestmark = pytest.mark.django_db

URL = "/api/service-data/"


def months_ago(count: int) -> str:
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - count
    return f"{index // 12}-{index % 12 + 1:02d}"


@pytest.fixture
def sender(administrator):
    """A client system and its token."""
    return clients.service_data_client_create(name="晋城市长护险信息系统", actor=administrator)


def post(client, body, token=None, raw=None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False)
    return client.post(URL, data=data, content_type="application/json", headers=headers)


def batch(caregivers, batch_id="2026-10-01", months=1) -> dict:
    return {
        "batch_id": batch_id,
        "months": [
            {
                "national_id": caregiver.national_id,
                "month": months_ago(offset + 1),
                "service_hours": 80 + offset,
                "surveys": 10,
                "satisfied": 9,
            }
            for caregiver in caregivers
            for offset in range(months)
        ],
        "incidents": [
            {
                "reference": f"TS-{caregiver.pk}",
                "national_id": caregiver.national_id,
                "kind": "complaint",
                "occurred_on": timezone.localdate().isoformat(),
                "substantiated": False,
                "summary": "回访不满意",
            }
            for caregiver in caregivers
        ],
    }


def test_a_batch_is_created_with_201_and_its_summary(client, sender, caregiver):
    service_client, token = sender
    response = post(client, batch([caregiver]), token)
    assert response.status_code == 201
    body = response.json()
    record = ServiceDataImport.objects.get()
    assert body["import_id"] == record.pk and body["batch_id"] == "2026-10-01"
    assert (body["months_written"], body["incidents_written"]) == (1, 1)
    assert record.client == service_client and record.source == "api" and record.uploaded_by is None
    service_client.refresh_from_db()
    assert service_client.last_used_at is not None
    assert "sessionid" not in response.cookies


def test_the_api_is_the_url_the_admin_shows(sender):
    assert reverse("certification:service_data_api") == URL


def test_the_same_batch_sent_again_answers_200_with_the_same_summary(client, sender, caregiver):
    _client, token = sender
    body = batch([caregiver])
    first = post(client, body, token)
    # The same content, keys in another order and spaced differently, is the same batch.
    reordered = json.dumps({key: body[key] for key in reversed(list(body))}, indent=2, ensure_ascii=False)
    again = post(client, None, token, raw=reordered)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert ServiceDataImport.objects.count() == 1
    assert ModelLogEntry.objects.filter(action="carestar.servicedata.import").count() == 1


def test_a_batch_id_reused_for_other_content_answers_409(client, sender, caregiver):
    _client, token = sender
    body = batch([caregiver])
    first = post(client, body, token).json()
    body["months"][0]["service_hours"] = 99
    response = post(client, body, token)
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "batch_id"
    assert "2026-10-01" in response.json()["errors"][0]["message"]
    assert response.json()["earlier"] == first
    assert ServiceMonth.objects.get().service_hours == 80


def test_bad_rows_answer_400_with_every_problem_and_write_nothing(client, sender, caregiver):
    _client, token = sender
    body = batch([caregiver])
    body["months"][0]["satisfied"] = 11
    body["incidents"][0]["kind"] = "迟到"
    body["incidents"].append({**body["incidents"][0], "reference": "TS-x", "kind": "complaint", "national_id": "1"})
    response = post(client, body, token)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["section"], e["index"], e["field"]) for e in errors] == [
        ("months", 0, "satisfied"),
        ("incidents", 0, "kind"),
        ("incidents", 1, "national_id"),
    ]
    assert "满意" in errors[0]["message"]
    assert "迟到" in response.content.decode()  # Chinese as it is, not \\u-escaped
    assert not ServiceDataImport.objects.exists() and not ServiceMonth.objects.exists()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("{not json", ""),
        ("[1, 2]", ""),
        ('{"months": []}', "batch_id"),
        ('{"batch_id": "  "}', "batch_id"),
        ('{"batch_id": "b", "months": {"a": 1}}', "months"),
        ('{"batch_id": "b", "incidents": "none"}', "incidents"),
        ('{"batch_id": "b"}', ""),
        ("\xff\xfe", ""),
    ],
)
def test_a_malformed_body_answers_400(client, sender, raw, field):
    _client, token = sender
    response = post(client, None, token, raw=raw)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field and error["message"]
    assert not ServiceDataImport.objects.exists()


def test_numbers_no_figure_can_be_answer_400_with_the_rows_at_fault(client, sender, caregiver):
    _client, token = sender
    row = '{"national_id": "%s", "month": "%s", "service_hours": %s, "surveys": %s, "satisfied": 0}'
    rows = [
        row % (caregiver.national_id, months_ago(1), "1e5000", "10"),
        row % (caregiver.national_id, months_ago(2), "80", '"1e5000"'),
        row % (caregiver.national_id, "0000-01", "80", "10"),
    ]
    response = post(client, None, token, raw='{"batch_id": "b", "months": [' + ", ".join(rows) + "]}")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(0, "service_hours"), (1, "surveys"), (2, "month")]
    assert "数字" in errors[0]["message"] and "整数" in errors[1]["message"] and "过于久远" in errors[2]["message"]
    assert not ServiceDataImport.objects.exists() and not ServiceMonth.objects.exists()


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("[" * 100_000 + "]" * 100_000, "嵌套"),  # json.loads would raise RecursionError
        ('{"batch_id": "b", "months": [[[[[[[[[[1]]]]]]]]]]}', "嵌套"),
        ('{"batch_id": "b", "months": [{"surveys": 1%s}]}' % ("0" * 5000), "JSON"),
        ('{"batch_id": "b", "months": [{"service_hours": NaN}]}', "JSON"),
        ('{"batch_id": "b", "months": [{"service_hours": -Infinity}]}', "JSON"),
    ],
    ids=["nested 100000 deep", "nested in a row", "5000 digits", "NaN", "Infinity"],
)
def test_a_body_no_batch_can_be_answers_400_with_a_reason(client, sender, raw, fragment):
    _client, token = sender
    response = post(client, None, token, raw=raw)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert fragment in error["message"]
    assert not ServiceDataImport.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        '{"batch_id": "\\u0000"}',
        '{"batch_id": "b", "incidents": [{"reference": "TS-\\u0000", "kind": "complaint"}]}',
        '{"batch_id": "b", "months": [{"national_id\\u0000": "1"}]}',
    ],
    ids=["batch id", "reference", "key"],
)
def test_nul_anywhere_in_the_body_answers_400_and_writes_nothing(client, sender, raw):
    # PostgreSQL takes NUL in no text column, nor in a query's parameters: without this check a 500.
    _client, token = sender
    response = post(client, None, token, raw=raw)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "" and "NUL" in error["message"]
    assert not ServiceDataImport.objects.exists()


@pytest.mark.parametrize(
    "authorization", [None, "Bearer ", "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Token {token}"]
)
def test_a_missing_or_wrong_token_answers_401(client, sender, caregiver, authorization):
    _client, token = sender
    headers = {"Authorization": authorization.format(token=token)} if authorization else {}
    response = post(client, batch([caregiver]), **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["field"] == "authorization"
    assert not ServiceDataImport.objects.exists()


def test_an_inactive_client_is_refused_and_a_reactivated_one_accepted(client, sender, caregiver, administrator):
    service_client, token = sender
    clients.service_data_client_active_set(client=service_client, actor=administrator, active=False)
    assert post(client, batch([caregiver]), token).status_code == 401
    service_client.refresh_from_db()
    assert service_client.last_used_at is None
    clients.service_data_client_active_set(client=service_client, actor=administrator, active=True)
    assert post(client, batch([caregiver]), token).status_code == 201


def test_a_replaced_token_stops_working_at_once(client, sender, caregiver, administrator):
    service_client, old = sender
    new = clients.service_data_client_token_rotate(client=service_client, actor=administrator)
    assert new != old
    assert post(client, batch([caregiver]), old).status_code == 401
    assert post(client, batch([caregiver]), new).status_code == 201


def test_a_session_is_no_credential(client, sender, caregiver, administrator):
    client.force_login(administrator)
    assert post(client, batch([caregiver])).status_code == 401


def test_no_csrf_token_is_needed(sender, caregiver):
    _client, token = sender
    assert post(Client(enforce_csrf_checks=True), batch([caregiver]), token).status_code == 201


def test_a_body_over_the_limit_answers_413_and_writes_nothing(client, sender, caregiver, settings):
    _client, token = sender
    body = batch([caregiver])
    size = len(json.dumps(body, ensure_ascii=False).encode())
    settings.SERVICE_DATA_API_MAX_BYTES = size - 1
    response = post(client, body, token)
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"]
    settings.SERVICE_DATA_API_MAX_BYTES = size
    assert post(client, body, token).status_code == 201


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_answer_405(client, sender, method):
    _client, token = sender
    response = getattr(client, method)(URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_the_number_of_queries_does_not_grow_with_the_batch(client, sender):
    _client, token = sender
    caregivers = CaregiverFactory.create_batch(25)
    small = batch(caregivers[:2], batch_id="small")  # 2 months, 2 incidents
    large = batch(caregivers[2:], batch_id="large", months=2)  # 46 months, 23 incidents
    assert post(client, batch([CaregiverFactory()], batch_id="warm-up"), token).status_code == 201

    with CaptureQueriesContext(connection) as small_queries:
        assert post(client, small, token).status_code == 201
    with CaptureQueriesContext(connection) as large_queries:
        assert post(client, large, token).status_code == 201
    listing = "\n".join(q["sql"][:150] for q in large_queries.captured_queries)
    assert len(large_queries) == len(small_queries), listing
    # Six reads (client and its last use, the earlier batch, caregivers, incidents and months on record), then
    # one savepoint holding the import (with Wagtail's reference index of it), two upserts and the audit entry.
    assert len(large_queries) == 18, listing
    assert ServiceMonth.objects.count() == 1 + 48 and ServiceIncident.objects.count() == 1 + 25

    # Correcting every row of the large batch costs the same.
    for row in large["months"]:
        row["service_hours"] += 1
    large["batch_id"] = "large-corrected"
    with CaptureQueriesContext(connection) as corrected_queries:
        assert post(client, large, token).status_code == 201
    assert len(corrected_queries) == len(large_queries), "\n".join(
        q["sql"][:150] for q in [*large_queries.captured_queries, {"sql": "-----"}, *corrected_queries.captured_queries]
    )


# --- Client systems in the admin --------------------------------------------------------------------------


@pytest.fixture
def bureau(db):
    from accounts import services as account_services
    from accounts.models import Role

    return account_services.user_create(username="bureau", password="pw", name="医保局", role=Role.ADMINISTRATOR)


def test_a_new_clients_token_is_shown_once_then_only_its_beginning(client, bureau, caregiver):
    client.force_login(bureau)
    response = client.post(reverse("service_data_clients:add"), {"name": "阳城县长护险系统"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    service_client = ServiceDataClient.objects.get()
    token = response.context["token"]
    assert token in response.content.decode() and token.startswith(service_client.token_prefix)
    assert service_client.created_by == bureau and token not in service_client.token_hash
    assert ModelLogEntry.objects.filter(action="carestar.servicedata_client.create").exists()
    # The token works, and no later page shows it again.
    assert post(client, batch([caregiver]), token).status_code == 201
    for url in (
        reverse("service_data_clients:index"),
        reverse("service_data_clients:inspect", args=[service_client.pk]),
    ):
        page = client.get(url).content.decode()
        assert service_client.token_prefix in page and token not in page


def test_an_administrator_replaces_a_token_and_deactivates_a_client(client, bureau, sender, caregiver):
    service_client, old = sender
    client.force_login(bureau)
    rotate = reverse("service_data_clients:rotate", args=[service_client.pk])
    assert client.get(rotate).status_code == 200
    response = client.post(rotate)
    new = response.context["token"]
    assert new != old and new in response.content.decode()
    assert post(client, batch([caregiver]), old).status_code == 401

    active = reverse("service_data_clients:active", args=[service_client.pk])
    assert client.post(active).status_code == 302
    service_client.refresh_from_db()
    assert not service_client.is_active
    assert post(client, batch([caregiver]), new).status_code == 401
    actions = set(ModelLogEntry.objects.values_list("action", flat=True))
    assert {"carestar.servicedata_client.rotate", "carestar.servicedata_client.deactivate"} <= actions


def test_client_screens_are_for_administrators_only(client, sender):
    from tests.factories.accounts import AssessorFactory

    service_client, _token = sender
    client.force_login(AssessorFactory().user)
    for url in (
        reverse("service_data_clients:index"),
        reverse("service_data_clients:add"),
        reverse("service_data_clients:rotate", args=[service_client.pk]),
    ):
        assert client.get(url).status_code == 302
    assert client.post(reverse("service_data_clients:rotate", args=[service_client.pk])).status_code == 302
    assert ServiceDataClient.objects.get().token_hash == service_client.token_hash
