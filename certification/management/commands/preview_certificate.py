"""Render a certificate on sample data, as the template preview in the admin does, and time it."""

import statistics
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certification.certificates.fonts import MissingGlyphsError
from certification.certificates.models import CertificateTemplate, certificate_sample
from certification.certificates.rendering import certificate_render_pdf
from certification.certificates.selectors import active_template


class Command(BaseCommand):
    help = "Render a sample certificate to a PDF file and print the time per render (median of the repeats)."

    def add_arguments(self, parser):
        parser.add_argument("--holder-name", default="王秀英")
        parser.add_argument("--star", type=int, default=3, choices=range(1, 6))
        parser.add_argument("--output", required=True, type=Path)
        parser.add_argument("--repeat", type=int, default=1)
        parser.add_argument("--template", type=int, help="id of a certificate template (default: the active one)")

    def handle(self, *args, holder_name, star, output, repeat, template, **options):
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        if template is None:
            chosen = active_template()
        else:
            try:
                chosen = CertificateTemplate.objects.get(pk=template)
            except CertificateTemplate.DoesNotExist:
                raise CommandError(f"There is no certificate template with id {template}.")
        certificate = certificate_sample(holder_name=holder_name, star_level=star)
        durations = []
        try:
            for _ in range(repeat):
                start = time.perf_counter()
                pdf = certificate_render_pdf(certificate, template=chosen)
                durations.append((time.perf_counter() - start) * 1000)
        except MissingGlyphsError as error:
            raise CommandError(str(error))
        output.write_bytes(pdf)
        self.stdout.write(
            f"{output}: {len(pdf) / 1024:.1f} KiB, {statistics.median(durations):.1f} ms per render "
            f"(median of {repeat}, template «{chosen}»)"
        )
