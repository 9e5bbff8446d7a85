"""Identity card numbers, encrypted at rest (1 of 3): room for the tokens and a column for the digest."""

from django.db import migrations, models

import accounts.national_id


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_caregiver_photo"),
    ]

    operations = [
        migrations.AddField(
            model_name="caregiverprofile",
            name="national_id_digest",
            field=models.CharField(max_length=64, null=True, editable=False),
        ),
        # A token is longer than the number and random per row: no length limit, no unique index.
        migrations.AlterField(
            model_name="caregiverprofile",
            name="national_id",
            field=models.TextField(
                validators=[accounts.national_id.validate_national_id], verbose_name="identity card number"
            ),
        ),
    ]
