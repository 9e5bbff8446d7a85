"""Every time the admin shows is read in Asia/Shanghai, as people here read it, never as stored (UTC)."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from wagtail.models import ModelLogEntry

from accounts import services as account_services
from accounts.models import Role
from certification.evaluations import services as evaluation_services
from certification.models import Evaluation
from certification.servicedata import clients as service_data_clients

pytestmark = pytest.mark.django_db

# 07:24 in UTC is 15:24 in Shanghai.
STORED = datetime.datetime(2026, 3, 2, 7, 24, tzinfo=datetime.UTC)


@pytest.fixture
def bureau(client, administrator):
    administrator.groups.add(account_services.role_groups_ensure()[Role.ADMINISTRATOR])
    client.force_login(administrator)
    return client


@pytest.fixture
def assigned(caregiver, assessor, administrator):
    evaluation = evaluation_services.evaluation_apply(caregiver=caregiver)
    return evaluation_services.evaluation_assign(evaluation=evaluation, assessor=assessor, actor=administrator)


def field_shown(page: str, label: str) -> str:
    match = re.search(rf"<dt>{label}</dt>\s*<dd>\s*(.*?)\s*</dd>", page, re.S)
    assert match, label
    return match.group(1)


def test_an_evaluation_shows_its_assignment_at_the_time_of_its_audit_entry(bureau, assigned):
    Evaluation.objects.filter(pk=assigned.pk).update(assigned_at=STORED)
    ModelLogEntry.objects.filter(action="carestar.evaluation.assign", object_id=str(assigned.pk)).update(
        timestamp=STORED
    )

    page = html.unescape(bureau.get(f"/admin/evaluation/inspect/{assigned.pk}/").content.decode())

    assert field_shown(page, "分配时间") == "2026年3月2日 15:24"
    assert "<td>2026-03-02 15:24</td><td>已分配考评员</td>" in page
    assert "07:24" not in page


def test_a_time_not_yet_reached_shows_a_dash(bureau, assigned):
    page = html.unescape(bureau.get(f"/admin/evaluation/inspect/{assigned.pk}/").content.decode())
    assert field_shown(page, "提议时间") == "—"


def test_every_inspect_page_shows_local_time_not_only_the_evaluations(bureau, administrator):
    client, _token = service_data_clients.service_data_client_create(name="长护险系统", actor=administrator)
    type(client).objects.filter(pk=client.pk).update(created_at=STORED)

    page = html.unescape(bureau.get(reverse("service_data_clients:inspect", args=[client.pk])).content.decode())

    assert "2026年3月2日 15:24" in page
    assert "07:24" not in page
