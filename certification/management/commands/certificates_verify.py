"""Verify every issued certificate as a verifier would: after a restore, before and after a move (docs/backup.md)."""

import json
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from certification.certificates.models import Certificate
from certification.certificates.verification import Verdict, certificate_check


def _sound(result: dict) -> bool:
    file = result["file"]
    return (
        file["verdict"] in {Verdict.GENUINE, Verdict.GENUINE_NOT_IN_FORCE}
        and file["certificate"] == result["serial_number"]
        and result["signed_by_platform_key"]
        and result["credential_verifies"]
    )


class Command(BaseCommand):
    help = (
        "Verify every issued certificate: its public record, the verdict on its stored PDF, the PDF's signature and "
        "the Open Badges credential inside it. Prints one JSON line per certificate and a summary on stderr; exits "
        "with status 1 when a stored PDF is missing or changed, or the configured keys do not verify it."
    )

    def handle(self, *args, **options):
        verdicts, unsound = Counter(), []
        certificates = Certificate.objects.issued().select_related("predecessor", "successor").order_by("pk")
        for certificate in certificates.iterator(chunk_size=200):
            result = certificate_check(certificate=certificate)
            self.stdout.write(json.dumps(result, ensure_ascii=False, sort_keys=True))
            verdicts[result["file"]["verdict"]] += 1
            if not _sound(result):
                unsound.append(certificate.serial_number)
        total = sum(verdicts.values())
        self.stderr.write(f"{total} certificates: " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())))
        if unsound:
            shown = ", ".join(unsound[:20]) + (" …" if len(unsound) > 20 else "")
            raise CommandError(f"{len(unsound)} of {total} certificates do not verify: {shown}")
