"""Identity card numbers, encrypted at rest (2 of 3): every plaintext number becomes a Fernet token under the first
of NATIONAL_ID_KEYS, with its keyed hash beside it. Reversed, the numbers are decrypted back into plaintext."""

from django.db import migrations

CHUNK = 1000


def _chunks(CaregiverProfile):
    last = 0
    while True:
        rows = list(CaregiverProfile.objects.filter(pk__gt=last).order_by("pk").only("pk", "national_id")[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def encrypt(apps, schema_editor):
    from accounts.national_id import national_id_normalize
    from accounts.national_id_crypto import national_id_digest, national_id_encrypt

    CaregiverProfile = apps.get_model("accounts", "CaregiverProfile")
    holders: dict[str, int] = {}
    for rows in _chunks(CaregiverProfile):
        for row in rows:
            number = national_id_normalize(row.national_id)
            row.national_id_digest = national_id_digest(number)
            # Numbers that differed only in case or width (x and X, １ and 1) are one number: it must be one person's.
            if (other := holders.setdefault(row.national_id_digest, row.pk)) != row.pk:
                raise RuntimeError(
                    f"Caregivers {other} and {row.pk} have the same identity card number; merge or correct them "
                    "before migrating."
                )
            row.national_id = national_id_encrypt(number)
        CaregiverProfile.objects.bulk_update(rows, ["national_id", "national_id_digest"])


def decrypt(apps, schema_editor):
    from accounts.national_id_crypto import national_id_decrypt

    CaregiverProfile = apps.get_model("accounts", "CaregiverProfile")
    for rows in _chunks(CaregiverProfile):
        for row in rows:
            row.national_id = national_id_decrypt(row.national_id)
            row.national_id_digest = None
        CaregiverProfile.objects.bulk_update(rows, ["national_id", "national_id_digest"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_national_id_digest_column"),
    ]

    operations = [
        migrations.RunPython(encrypt, decrypt, elidable=False),
    ]
