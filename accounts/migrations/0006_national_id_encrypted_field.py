"""Identity card numbers, encrypted at rest (3 of 3): the model reads and writes them through the encrypting field,
and the digest is required and unique."""

from django.db import migrations, models

import accounts.fields
import accounts.national_id


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_national_id_encrypt"),
    ]

    operations = [
        # The column is a text column either way: only the model's view of it changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="caregiverprofile",
                    name="national_id",
                    field=accounts.fields.EncryptedNationalIdField(
                        validators=[accounts.national_id.validate_national_id], verbose_name="identity card number"
                    ),
                ),
            ],
        ),
        migrations.AlterField(
            model_name="caregiverprofile",
            name="national_id_digest",
            field=accounts.fields.NationalIdDigestField(unique=True),
        ),
    ]
