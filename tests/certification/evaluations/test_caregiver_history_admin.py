"""A caregiver's star history in the admin: administrators read anyone's, managers their own institution's staff."""

import html

import pytest

from accounts import services as account_services
from accounts.models import Role
from certification.evaluations import services
from tests.factories.accounts import InstitutionFactory

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def denied(response) -> bool:
    return response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/admin/")


@pytest.fixture
def history_url(decided_evaluation, certificate):
    services.appeal_file(evaluation=decided_evaluation, user=decided_evaluation.caregiver.user, grounds="要求复核学时")
    return f"/admin/evaluation/caregiver/{decided_evaluation.caregiver_id}/"


def manager_of(institution, username="manager"):
    return account_services.user_create(
        username=username, password="pw", name="机构管理员", role=Role.MANAGER, institution=institution
    )


def test_an_administrator_sees_evaluations_appeals_and_certificates_newest_first(
    client, administrator, decided_evaluation, certificate, history_url
):
    administrator.groups.add(account_services.role_groups_ensure()[Role.ADMINISTRATOR])
    client.force_login(administrator)
    inspect = page_text(client.get(f"/admin/evaluation/inspect/{decided_evaluation.pk}/"))
    assert history_url in inspect

    page = page_text(client.get(history_url))
    appeal_at = page.index("要求复核学时")
    certificate_at = page.index(certificate.serial_number)
    evaluation_at = page.index(f"/admin/evaluation/inspect/{decided_evaluation.pk}/")
    assert appeal_at < certificate_at < evaluation_at
    assert "2 ★" in page and "周考评" in page


def test_a_manager_sees_their_own_staff_without_links_into_the_records(client, decided_evaluation, history_url):
    client.force_login(manager_of(decided_evaluation.caregiver.institution))
    response = client.get(history_url)
    assert response.status_code == 200
    page = page_text(response)
    assert "王秀英" in page and "要求复核学时" in page
    assert "/admin/evaluation/inspect/" not in page


def test_a_manager_of_another_institution_is_refused(client, history_url):
    client.force_login(manager_of(InstitutionFactory()))
    assert denied(client.get(history_url))


def test_an_assessor_is_refused(client, assessor, history_url):
    client.force_login(assessor)
    response = client.get(history_url)
    assert response.status_code == 302 and "王秀英" not in page_text(response)
