"""Certificate rendering: the product's pipeline beside a plain WeasyPrint render of the same HTML with the system
CJK font, and the Latin-only floor (the same layout with the CJK text removed); and the cost of the PAdES
signature on its own and with the render, as the worker issues a certificate."""

import re

from .harness import Row, summary_rows, timed_runs

NAME = "certificate_render"
CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef\U00020000-\U0003ffff★☆]")


def run(*, repeat: int) -> list[Row]:
    from django.conf import settings
    from weasyprint import HTML

    from certification.certificates.fonts import font_stack
    from certification.certificates.models import certificate_sample, default_template
    from certification.certificates.openbadges import credential_jwt
    from certification.certificates.rendering import certificate_document, html_to_pdf
    from certification.certificates.signing import pdf_sign, signing_identity

    template = default_template()
    certificate = certificate_sample()
    html, resources = certificate_document(certificate, template=template)
    # The same HTML with the fonts left to fontconfig: what WeasyPrint does out of the box.
    plain_html = re.sub(r"@font-face \{[^}]*\}", "", html).replace(
        font_stack(), f'"{settings.CERTIFICATE_FONT_FAMILY}"'
    )
    latin_html = CJK.sub("", plain_html).replace(f'"{settings.CERTIFICATE_FONT_FAMILY}"', "sans-serif")

    def pipeline():
        return html_to_pdf(*certificate_document(certificate, template=template)).pdf

    certificate.status_list_index = 1
    certificate.holder_subject = "00000000-0000-4000-8000-000000000000"
    rendered = html_to_pdf(*certificate_document(certificate, template=template))
    signing_identity()  # the key is loaded once per process, not per certificate

    def signed_pipeline():
        document = html_to_pdf(
            *certificate_document(certificate, template=template), credential_jwt=credential_jwt(certificate)
        )
        return pdf_sign(document.pdf, seal_box=document.seal_box)

    rows = []
    cases = [
        ("carestar pipeline (PDF/A-3b)", pipeline),
        ("PAdES signature alone (B-B)", lambda: pdf_sign(rendered.pdf, seal_box=rendered.seal_box)),
        ("carestar pipeline, credential embedded and signed", signed_pipeline),
        ("plain WeasyPrint, system CJK font", lambda: HTML(string=plain_html, url_fetcher=resources).write_pdf()),
        ("Latin-only floor", lambda: HTML(string=latin_html, url_fetcher=resources).write_pdf()),
    ]
    medians = {}
    for case, function in cases:
        case_rows = summary_rows(NAME, case, timed_runs(function, repeat=repeat))
        medians[case] = case_rows[0].value
        rows.extend(case_rows)
        rows.append(Row(NAME, case, "PDF size", len(function()) / 1024, "KiB"))
    rows.append(
        Row(
            NAME,
            "carestar / plain",
            "ratio of medians",
            medians["carestar pipeline (PDF/A-3b)"] / medians["plain WeasyPrint, system CJK font"],
            "x",
        )
    )
    # What signing adds as the worker issues a certificate (target: ≤ 10 ms median); the credential's embedding is
    # in the difference too.
    rows.append(
        Row(
            NAME,
            "signed pipeline − pipeline",
            "difference of medians",
            medians["carestar pipeline, credential embedded and signed"] - medians["carestar pipeline (PDF/A-3b)"],
            "ms",
        )
    )
    rows.append(
        Row(
            NAME,
            "signed pipeline / Latin-only floor",
            "ratio of medians",
            medians["carestar pipeline, credential embedded and signed"] / medians["Latin-only floor"],
            "x",
        )
    )
    return rows
