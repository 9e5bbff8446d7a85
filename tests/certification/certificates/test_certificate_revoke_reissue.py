import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from wagtail.models import ModelLogEntry

from certification.certificates import services as certificates
from certification.models import Certificate
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db


def test_revocation_is_unmistakable_on_the_page_and_in_json(client, certificate, administrator):
    certificates.certificate_revoke(certificate=certificate, actor=administrator, reason="以欺骗手段取得")
    html = client.get(f"/verify/{certificate.verification_code}/").content.decode()
    assert "status-invalid" in html and "status-valid" not in html
    assert "以欺骗手段取得" in html
    data = client.get(f"/verify/{certificate.verification_code}.json").json()
    assert data["status"] == "revoked" and data["is_valid"] is False
    assert data["status_reason"] == "以欺骗手段取得"
    entry = ModelLogEntry.objects.filter(action="carestar.certificate.revoke").get()
    assert entry.user_id == administrator.pk
    assert entry.data["before"] == "valid" and entry.data["after"] == "revoked"


def test_only_administrators_revoke_and_a_reason_is_required(certificate, assessor, administrator):
    with pytest.raises(PermissionDenied):
        certificates.certificate_revoke(certificate=certificate, actor=assessor, reason="x")
    with pytest.raises(ValidationError):
        certificates.certificate_revoke(certificate=certificate, actor=administrator, reason="  ")
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_reissue_after_a_name_correction_keeps_the_original(client, certificate, administrator):
    user = certificate.caregiver.user
    user.name = "王秀瑛"
    user.save()
    successor = certificates.certificate_reissue(certificate=certificate, actor=administrator, reason="姓名更正")
    certificate.refresh_from_db()

    assert certificate.status == Certificate.Status.SUPERSEDED
    assert certificate.holder_name == "王秀英"  # the original's record is untouched
    assert successor.predecessor == certificate and successor.kind == Certificate.Kind.REISSUE
    assert successor.holder_name == "王秀瑛" and "王秀瑛" in pdf_text(successor.pdf.read())
    assert successor.valid_until == certificate.valid_until and successor.star_level == certificate.star_level
    assert successor.serial_number != certificate.serial_number

    old_page = client.get(f"/verify/{certificate.verification_code}/").content.decode()
    assert "status-invalid" in old_page and successor.get_absolute_url() in old_page
    assert client.get(f"/verify/{certificate.verification_code}.json").json()["superseded_by"] == successor.verify_url


def test_a_superseded_certificate_cannot_be_reissued_again(certificate, administrator):
    certificates.certificate_reissue(certificate=certificate, actor=administrator, reason="姓名更正")
    with pytest.raises(ValidationError):
        certificates.certificate_reissue(certificate=certificate, actor=administrator, reason="再次更正")


def test_admin_screens_revoke_and_reissue(client, certificate, administrator, assessor):
    client.force_login(assessor)
    assert client.get(f"/admin/certificate_actions/{certificate.pk}/revoke/").status_code == 302

    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    listing = client.get("/admin/certificates/").content.decode()
    assert f"/admin/certificate_actions/{certificate.pk}/revoke/" in listing
    refused = client.post(f"/admin/certificate_actions/{certificate.pk}/revoke/", {"reason": ""})
    assert refused.status_code == 200
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID

    response = client.post(f"/admin/certificate_actions/{certificate.pk}/revoke/", {"reason": "证书信息造假"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED


def test_a_certificate_being_issued_cannot_be_revoked(decided_evaluation, administrator, monkeypatch):
    from certification.certificates import services as services_module

    def broken_render(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(services_module, "certificate_render", broken_render)
    with pytest.raises(RuntimeError):
        certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    pending = Certificate.objects.get()
    with pytest.raises(ValidationError):
        certificates.certificate_revoke(certificate=pending, actor=administrator, reason="测试")
    pending.refresh_from_db()
    assert pending.status == Certificate.Status.PENDING


def test_a_name_no_font_prints_takes_no_serial_number(assessor, rules):
    from certification.certificates.fonts import MissingGlyphsError
    from certification.models import SerialCounter
    from tests.factories.accounts import CaregiverFactory
    from tests.factories.certification import decided_evaluation_for

    evaluation = decided_evaluation_for(
        caregiver=CaregiverFactory(user__name="王\U0010fffd"), assessor=assessor, rule_set=rules
    )
    with pytest.raises(MissingGlyphsError):
        certificates.certificate_issue(evaluation_id=evaluation.pk)
    assert not Certificate.objects.exists()
    assert not SerialCounter.objects.filter(last_value__gt=0).exists()
