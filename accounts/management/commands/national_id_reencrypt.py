"""Re-encrypt every identity card number under the first of NATIONAL_ID_KEYS (and re-hash it under
NATIONAL_ID_HASH_KEY): the middle step of a key rotation, see README."""

from django.core.management.base import BaseCommand

from accounts.services import national_ids_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every caregiver's identity card number with the first key of NATIONAL_ID_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=1000)
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the numbers not yet under the first key; write nothing."
        )

    def handle(self, *args, chunk_size: int, dry_run: bool, **options):
        result = national_ids_reencrypt(chunk_size=chunk_size, dry_run=dry_run)
        if dry_run:
            self.stdout.write(
                f"{result['checked']} identity card numbers checked; {result['outdated']} are not yet under the "
                "first key (or hash key)."
            )
        else:
            self.stdout.write(
                f"{result['checked']} identity card numbers checked; {result['reencrypted']} re-encrypted."
            )
