import datetime

import pytest
from django.urls import reverse

from certification.models import Certificate

pytestmark = pytest.mark.django_db


def test_verification_page_needs_no_login_and_shows_the_certificate(client, certificate):
    response = client.get(f"/verify/{certificate.verification_code}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert certificate.holder_name in html
    assert certificate.serial_number in html
    assert certificate.holder_national_id_masked in html
    assert certificate.caregiver.national_id not in html
    assert "status-valid" in html


def test_json_says_the_same(client, certificate):
    data = client.get(f"/verify/{certificate.verification_code}.json").json()
    assert data["serial_number"] == certificate.serial_number
    assert data["is_valid"] is True
    assert data["holder_national_id"] == certificate.holder_national_id_masked
    assert certificate.caregiver.national_id not in str(data)


def test_an_invalid_certificate_says_so_unmistakably(client, certificate):
    Certificate.objects.filter(pk=certificate.pk).update(status=Certificate.Status.EXPIRED)
    html = client.get(f"/verify/{certificate.verification_code}/").content.decode()
    assert "status-invalid" in html
    assert "status-valid" not in html
    assert client.get(f"/verify/{certificate.verification_code}.json").json()["is_valid"] is False


def test_the_day_of_a_revocation_is_the_day_in_shanghai_on_the_page_and_in_json(client, certificate):
    # 23:30 on 2 March in UTC is 07:30 on 3 March in Shanghai.
    revoked_at = datetime.datetime(2026, 3, 2, 23, 30, tzinfo=datetime.UTC)
    Certificate.objects.filter(pk=certificate.pk).update(
        status=Certificate.Status.REVOKED, status_changed_at=revoked_at, status_reason="证书信息有误"
    )
    html = client.get(f"/verify/{certificate.verification_code}/").content.decode()
    assert "2026-03-03" in html and "2026-03-02" not in html
    assert client.get(f"/verify/{certificate.verification_code}.json").json()["status_changed_on"] == "2026-03-03"


def test_unknown_code_is_not_found_in_chinese_and_in_json(client, db):
    page = client.get("/verify/no-such-code/")
    assert page.status_code == 404
    assert "没有与此验证码对应的证书" in page.content.decode()
    data = client.get("/verify/no-such-code.json")
    assert data.status_code == 404 and data["Content-Type"] == "application/problem+json"
    assert data.json()["status"] == 404 and data.json()["detail_zh"]


def test_any_other_missing_page_is_a_chinese_404(client, db, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_lookup_by_serial_number_needs_the_holders_name(client, certificate):
    url = reverse("certification:verify_form")
    # Serial numbers run in sequence: without the name they would let anyone walk the register.
    alone = client.get(url, {"number": certificate.serial_number})
    assert alone.status_code == 200 and "持证人姓名" in alone.context["form"].errors["name"][0]
    wrong = client.get(url, {"number": certificate.serial_number, "name": "李四"})
    assert wrong.status_code == 200
    response = client.get(url, {"number": certificate.serial_number, "name": certificate.holder_name})
    assert response.status_code == 302
    assert response["Location"] == f"/verify/{certificate.verification_code}/"
    by_code = client.get(url, {"number": certificate.verification_code})
    assert by_code["Location"] == f"/verify/{certificate.verification_code}/"


def test_the_home_page_verifies_a_code_alone_and_asks_a_number_for_the_name(client, certificate):
    from tests.factories.content import home_page

    home_page()
    html = client.get("/").content.decode()
    assert 'name="number"' in html and 'name="name"' in html and "required" not in html.split('name="name"')[1][:40]


def test_lookup_of_an_unknown_number_explains(client, db):
    response = client.get(reverse("certification:verify_form"), {"number": "140500-2026-999999", "name": "王五"})
    assert response.status_code == 200
    assert "140500-2026-999999" in response.content.decode()
    assert response.context["form"].errors["number"]


def test_only_the_holder_downloads_the_stored_pdf(client, certificate):
    url = reverse("certification:certificate_download", args=[certificate.pk])
    assert client.get(url).status_code == 302  # to the login page

    from tests.factories.accounts import CaregiverFactory

    stranger = CaregiverFactory()
    client.force_login(stranger.user)
    assert client.get(url).status_code == 404

    client.force_login(certificate.caregiver.user)
    response = client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    import hashlib

    assert hashlib.sha256(body).hexdigest() == certificate.pdf_sha256


def test_is_this_file_genuine(client, certificate):
    from django.core.files.uploadedfile import SimpleUploadedFile

    genuine = certificate.pdf.open("rb").read()
    response = client.post("/verify/file/", {"file": SimpleUploadedFile("证书.pdf", genuine)})
    assert response.context["result"].certificate == certificate
    assert certificate.serial_number in response.content.decode()

    altered = genuine.replace(b"%%EOF", b"%%EOF\n%")  # offsets shifted: no longer a readable PDF
    response = client.post("/verify/file/", {"file": SimpleUploadedFile("证书.pdf", altered)})
    assert response.context["result"].verdict == "not_ours" and response.context["result"].certificate is None
    assert "status-invalid" in response.content.decode()

    empty = client.post("/verify/file/", {"file": SimpleUploadedFile("空.pdf", b"")})
    assert empty.context["result"] is None and empty.context["file_form"].errors["file"]


def test_lookups_are_rate_limited(client, certificate, settings, monkeypatch):
    from django.core.cache import cache

    from certification.certificates import ratelimit

    now = [1_800_000_000.0 + 15]  # 15 s into a window, whatever the wall clock says
    monkeypatch.setattr(ratelimit, "now", lambda: now[0])
    cache.clear()
    settings.VERIFY_RATE_LIMIT_PER_MINUTE = 3
    url = f"/verify/{certificate.verification_code}/"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(url)
    assert refused.status_code == 429 and refused["Retry-After"] == "45"
    assert client.get("/verify/", {"number": certificate.verification_code}).status_code == 429

    now[0] += 45  # the next window
    assert client.get(url).status_code == 200
    cache.clear()


def test_a_certificate_being_issued_is_not_public(client, decided_evaluation, monkeypatch):
    from certification.certificates import services as certificate_services

    def broken_render(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(certificate_services, "certificate_render", broken_render)
    with pytest.raises(RuntimeError):
        certificate_services.certificate_issue(evaluation_id=decided_evaluation.pk)
    pending = Certificate.objects.get()
    assert client.get(f"/verify/{pending.verification_code}/").status_code == 404
    client.force_login(pending.caregiver.user)
    assert client.get(f"/verify/{pending.verification_code}/badge/").status_code == 404
    assert client.get("/verify/", {"number": pending.serial_number}).status_code == 200  # "no such certificate"


def test_an_oversized_upload_is_cut_off_with_a_clear_error(client, db, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from certification.certificates import views

    big = SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * (views.MAX_CHECKED_FILE_SIZE + 10))
    response = client.post("/verify/file/", {"file": big})
    assert response.status_code == 200
    assert response.context["result"] is None
    assert "5 MB" in str(response.context["file_form"].errors["file"])


def test_ipv6_clients_are_limited_per_64_network(rf):
    from certification.certificates.ratelimit import client_address

    first = rf.get("/", REMOTE_ADDR="2001:db8:1:2::1")
    second = rf.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert client_address(first) == client_address(second) == "2001:db8:1:2::/64"
    assert client_address(rf.get("/", REMOTE_ADDR="::ffff:10.1.2.3")) == "10.1.2.3"
    assert client_address(rf.get("/", REMOTE_ADDR="10.1.2.3")) == "10.1.2.3"
