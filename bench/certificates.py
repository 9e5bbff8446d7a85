"""Certificate rendering: the product's pipeline against a plain WeasyPrint render of the same HTML."""

import datetime

from .harness import Row, summary_rows, timed_runs

NAME = "certificate_render"


def sample_certificate():
    from certification.models import Certificate

    today = datetime.date.today()
    return Certificate(
        serial_number=f"140500-{today.year}-000123",
        verification_code="Bench-Verification-Code",
        holder_name="王秀英",
        holder_national_id_masked="140502********0044",
        star_level=3,
        issuer="晋城市医疗保障局",
        issued_on=today,
        valid_until=today.replace(year=today.year + 3),
    )


def run(*, repeat: int) -> list[Row]:
    from django.conf import settings
    from weasyprint import HTML

    from certification.rendering import certificate_html, certificate_render_pdf

    certificate = sample_certificate()
    html = certificate_html(certificate)
    plain_html = html.replace(f'font-family: "{settings.CERTIFICATE_FONT_FAMILY}"', "font-family: sans-serif")

    pipeline = timed_runs(lambda: certificate_render_pdf(certificate), repeat=repeat)
    plain = timed_runs(lambda: HTML(string=plain_html).write_pdf(), repeat=repeat)
    size_kb = len(certificate_render_pdf(certificate)) / 1024

    rows = summary_rows(NAME, "carestar pipeline", pipeline) + summary_rows(
        NAME, "plain WeasyPrint, system font", plain
    )
    pipeline_median = next(r.value for r in rows if r.case == "carestar pipeline" and r.metric == "median")
    plain_median = next(r.value for r in rows if r.case.startswith("plain") and r.metric == "median")
    rows.append(Row(NAME, "carestar / plain", "ratio of medians", pipeline_median / plain_median, "x"))
    rows.append(Row(NAME, "carestar pipeline", "PDF size", size_kb, "KiB"))
    return rows
