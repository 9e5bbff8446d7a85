"""The read-only service-data listings in the Wagtail admin: filters, administrators only, a fixed query count."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from certification.models import ServiceDataImport
from certification.servicedata import services, validation
from tests.factories.accounts import CaregiverFactory, InstitutionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bureau(db):
    return account_services.user_create(username="bureau", password="pw", name="医保局", role=Role.ADMINISTRATOR)


def last_month() -> str:
    first = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    return f"{first:%Y-%m}"


def import_for(caregivers, *, batch_key, substantiated=False, kind="complaint"):
    months = [
        {"national_id": c.national_id, "month": last_month(), "service_hours": 80, "surveys": 4, "satisfied": 3}
        for c in caregivers
    ]
    incidents = [
        {
            "reference": f"{batch_key}-{c.pk}",
            "national_id": c.national_id,
            "kind": kind,
            "occurred_on": timezone.localdate().isoformat(),
            "substantiated": substantiated,
        }
        for c in caregivers
    ]
    return services.service_data_import(
        months=months,
        incidents=incidents,
        source=ServiceDataImport.Source.API,
        batch_key=batch_key,
        payload_sha256=validation.payload_digest(months=months, incidents=incidents),
    )


@pytest.fixture
def two_institutions(db):
    north, south = InstitutionFactory(name="城区颐养中心"), InstitutionFactory(name="泽州县上门护理站")
    north_staff = [CaregiverFactory(institution=north, user__name=f"北{n}") for n in range(2)]
    south_staff = [CaregiverFactory(institution=south, user__name=f"南{n}") for n in range(3)]
    import_for(north_staff, batch_key="north", substantiated=True, kind="liability_accident")
    import_for(south_staff, batch_key="south")
    return north, south


def listed(response, text):
    return response.content.decode().count(text)


def test_monthly_figures_filter_by_institution_and_search_by_name(client, bureau, two_institutions):
    north, _south = two_institutions
    client.force_login(bureau)
    url = reverse("service_months:index")
    assert listed(client.get(url), "南") >= 3
    filtered = client.get(url, {"institution": north.pk})
    assert listed(filtered, "北0") == 1 and listed(filtered, "南0") == 0
    searched = client.get(url, {"q": "南2"})
    assert listed(searched, "南2") >= 1 and listed(searched, "北0") == 0


def test_incidents_filter_by_kind_and_substantiation(client, bureau, two_institutions):
    client.force_login(bureau)
    url = reverse("service_incidents:index")
    accidents = client.get(url, {"kind": "liability_accident"})
    assert listed(accidents, "north-") > 0 and listed(accidents, "south-") == 0
    open_cases = client.get(url, {"substantiated": "false"})
    assert listed(open_cases, "south-") > 0 and listed(open_cases, "north-") == 0


def test_the_listings_cost_the_same_queries_for_many_rows(client, bureau):
    client.force_login(bureau)
    import_for([CaregiverFactory()], batch_key="few")
    urls = [reverse(name) for name in ("service_months:index", "service_incidents:index", "service_data_imports:index")]
    for url in urls:
        client.get(url)  # warm the caches of the admin's menus
    few = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        few.append(len(queries))
    for number in range(6):
        import_for(CaregiverFactory.create_batch(3, institution=InstitutionFactory()), batch_key=f"many-{number}")
    for url, count in zip(urls, few, strict=True):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) == count, url


def test_the_listings_are_read_only(client, bureau, two_institutions):
    client.force_login(bureau)
    record = ServiceDataImport.objects.get(batch_key="north")
    page = client.get(reverse("service_data_imports:inspect", args=[record.pk]))
    assert page.status_code == 200 and "north" in page.content.decode()
    assert client.get(reverse("service_data_imports:edit", args=[record.pk])).status_code == 302
    month = record.months.first()
    assert client.get(reverse("service_months:edit", args=[month.pk])).status_code == 302
    assert client.post(reverse("service_months:delete", args=[month.pk])).status_code == 302
    assert record.months.count() == 2


def test_only_administrators_see_the_menu_and_reach_the_screens(client, bureau, two_institutions):
    north, _south = two_institutions
    # The admin's sidebar is JSON in the page: the menu label appears \u-escaped there.
    menu_label = json.dumps("长护险服务数据")[1:-1]
    client.force_login(bureau)
    assert menu_label in client.get(reverse("wagtailadmin_home")).content.decode()

    manager = account_services.user_create(
        username="manager", password="pw", name="机构管理员", role=Role.MANAGER, institution=north
    )
    client.force_login(manager)
    assert menu_label not in client.get(reverse("wagtailadmin_home")).content.decode()
    for name in ("service_months:index", "service_incidents:index", "service_data_clients:index"):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
