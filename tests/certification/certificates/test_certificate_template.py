import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from certification.certificates import services as certificates
from certification.models import CertificateTemplate
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db


def test_the_active_template_is_used_and_recorded(decided_evaluation):
    template = CertificateTemplate.objects.create(
        name="晋城 2026 版",
        is_active=True,
        title="长护险护理员星级证书",
        statement="{holder_name} 同志经考核评定为 {star_level} 星级护理员。",
        signatory="局长",
    )
    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    text = pdf_text(certificate.pdf.read())
    assert "长护险护理员星级证书" in text and "同志经考核评定为2星级护理员" in text
    assert certificate.template == template


def test_unknown_placeholders_and_bad_colours_are_refused():
    template = CertificateTemplate(name="坏模板", statement="{holder_name} {salary}", accent_color="red")
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    assert "salary" in str(error.value.message_dict["statement"])
    assert "accent_color" in error.value.message_dict


def test_placeholders_take_no_format_spec():
    template = CertificateTemplate(name="格式", statement="{holder_name} {star_level:>999999999}")
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    assert "statement" in error.value.message_dict


def test_only_one_template_is_active():
    from django.db import IntegrityError, transaction

    CertificateTemplate.objects.create(name="一", is_active=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateTemplate.objects.create(name="二", is_active=True)


def test_admin_preview_renders_the_template_on_sample_data(client, administrator):
    administrator.is_superuser = True
    administrator.save()
    template = CertificateTemplate.objects.create(name="预览", title="预览证书标题")
    client.force_login(administrator)
    preview_url = f"/admin/snippets/certification/certificatetemplate/preview/{template.pk}/"
    form = {
        "name": "预览",
        "orientation": "landscape",
        "title": "预览证书标题",
        "subtitle": "",
        "statement": "兹证明 {holder_name} 为 {star_level} 星级护理员。",
        "signatory": "",
        "accent_color": "#a8322d",
    }
    assert client.post(preview_url, form).json()["is_valid"] is True
    response = client.get(preview_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "预览证书标题" in pdf_text(response.content)


def test_preview_command_writes_the_pdf_and_prints_the_time(tmp_path, capsys):
    output = tmp_path / "preview.pdf"
    call_command(
        "preview_certificate", "--holder-name", "郑𠀾华", "--star", "4", "--output", str(output), "--repeat", "3"
    )
    assert "郑𠀾华" in pdf_text(output.read_bytes())
    assert "ms per render (median of 3" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("preview_certificate", "--holder-name", "王\U0010fffd", "--output", str(output))
