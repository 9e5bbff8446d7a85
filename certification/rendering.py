"""Certificate HTML and PDF. Pure functions of a certificate's frozen fields: no database writes here."""

import hashlib

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def qr_svg_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def certificate_html(certificate) -> str:
    # Certificates are official documents in Chinese whatever language the issuing request used.
    with translation.override("zh-hans"):
        return render_to_string(
            "certificates/certificate.html",
            {
                "certificate": certificate,
                "stars": range(certificate.star_level),
                "empty_stars": range(5 - certificate.star_level),
                "qr_data_uri": qr_svg_data_uri(certificate.verify_url),
                "font_family": settings.CERTIFICATE_FONT_FAMILY,
            },
        )


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def certificate_render_pdf(certificate) -> bytes:
    return html_to_pdf(certificate_html(certificate))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
